package media

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// rtcpMuxAttr offers or accepts RTCP on the RTP port (RFC 5761).
const rtcpMuxAttr = "rtcp-mux"

// rtcpAttributes reads an audio m-line's a=rtcp-mux and a=rtcp:PORT
// (RFC 3605; a port that does not parse counts as not given: RTP + 1).
func rtcpAttributes(md *sdp.MediaDescription) (mux bool, port int) {
	_, mux = md.Attribute(rtcpMuxAttr)
	if v, ok := md.Attribute("rtcp"); ok {
		f := strings.Fields(v)
		if len(f) > 0 {
			if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p < 65536 {
				port = p
			}
		}
	}
	return mux, port
}
