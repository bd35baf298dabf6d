package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// portPool hands out RTP/RTCP port pairs from the configured range: an
// even RTP port and RTCP on the next one (RFC 3550 §11), both inside the
// range. It starts at a random place so a restarted phone does not reuse a
// port the far end may still be sending to.
type portPool struct {
	mu     sync.Mutex
	lo, hi int
	next   int
}

func newPortPool(lo, hi int) *portPool {
	if lo <= 0 || hi <= lo {
		lo, hi = 16384, 16583
	}
	return &portPool{lo: lo, hi: hi, next: lo + 2*rand.IntN(pairs(lo, hi))}
}

// pairs is how many (port, port + 1) pairs fit in lo-hi.
func pairs(lo, hi int) int { return (hi - lo + 1) / 2 }

// rtpSockets is one call's RTP socket and its RTCP socket (port + 1),
// bound together so that the far end's RTCP finds us at the port SDP
// implies. The stream takes both; Close frees both when it never starts.
type rtpSockets struct {
	rtp, rtcp *net.UDPConn
}

// LocalAddr is the RTP socket's address (the port SDP announces).
func (r *rtpSockets) LocalAddr() net.Addr { return r.rtp.LocalAddr() }

// Close closes both sockets.
func (r *rtpSockets) Close() error { return errors.Join(r.rtp.Close(), r.rtcp.Close()) }

// listen binds the next free pair of ports on ip.
func (pp *portPool) listen(ip string) (*rtpSockets, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for range pairs(pp.lo, pp.hi) {
		port := pp.next
		pp.next += 2
		if pp.next+1 > pp.hi {
			pp.next = pp.lo
		}
		rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err != nil {
			continue
		}
		rtcp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: port + 1})
		if err != nil {
			_ = rtp.Close() // half a pair is no use: try the next
			continue
		}
		return &rtpSockets{rtp: rtp, rtcp: rtcp}, nil
	}
	return nil, fmt.Errorf("no free pair of RTP/RTCP ports in %d-%d on %s: widen audio.rtp_ports", pp.lo, pp.hi, ip)
}
