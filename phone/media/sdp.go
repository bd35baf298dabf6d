package media

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/pion/sdp/v3"
)

// SDP offer/answer (RFC 3264) for one audio stream.

// Negotiated is the outcome of offer/answer: what the stream should use.
type Negotiated struct {
	Codec           Codec
	PayloadType     uint8        // the codec's PT on this call (the offerer's numbering)
	DTMFPayloadType uint8        // telephone-event PT; 0 = none
	Remote          *net.UDPAddr // where to send RTP
	// Direction is ours: SendRecv normally; RecvOnly when the far end holds
	// us (sendonly, or c=0.0.0.0); Inactive; SendOnly.
	Direction string
	// Ptime is the packet time to send (and play) in: the far end's
	// a=ptime within its a=maxptime, fitted to what the codec frames;
	// DefaultPtime when it says nothing.
	Ptime time.Duration
	// RTCPMux: RTCP shares the RTP port (both sides said a=rtcp-mux,
	// RFC 5761); else it goes to RTCPPort (a=rtcp, RFC 3605; 0 = RTP + 1).
	RTCPMux  bool
	RTCPPort int
	// LocalCrypto and RemoteCrypto key SDES-SRTP (srtp_sdp.go): we send
	// with ours, the far end with its own. Suite "" = audio in clear.
	LocalCrypto, RemoteCrypto Crypto
}

// DefaultPtime is the packet time we ask for and send unless the far end
// asks otherwise.
const DefaultPtime = 20 * time.Millisecond

// Offer builds an SDP offer listing codecs in preference order, plus
// telephone-event at every clock rate in use (RFC 4733 events run on the
// audio's clock): at dtmfPT for 8000 Hz (or the only rate), at a free
// dynamic type for the others (0 = do not offer DTMF). A codec whose
// default dynamic type is taken moves to a free one.
func Offer(ip string, port int, codecs []Codec, dtmfPT uint8, sessionID uint64) ([]byte, error) {
	if len(codecs) == 0 {
		return nil, fmt.Errorf("%w: nothing to offer; configure at least one of %v", ErrNoCommonCodec, SupportedCodecs())
	}
	md := mediaDescription(port)
	seen := map[uint8]string{}
	var rates []int
	for _, c := range codecs {
		if !slices.Contains(rates, c.ClockRate()) {
			rates = append(rates, c.ClockRate())
		}
	}
	dtmfRate := rates[0]
	if slices.Contains(rates, 8000) {
		dtmfRate = 8000
	}
	if dtmfPT != 0 {
		seen[dtmfPT] = telephoneEvent // placed after the codecs, reserved now
	}
	for _, c := range codecs {
		pt := c.PayloadType()
		if _, taken := seen[pt]; taken && pt >= 96 {
			pt = freeDynamic(seen)
		}
		if err := addFormat(md, seen, pt, rtpmapOf(c), fmtpOf(c)); err != nil {
			return nil, err
		}
	}
	if dtmfPT != 0 {
		delete(seen, dtmfPT)
		if err := addFormat(md, seen, dtmfPT, telephoneEvent+"/"+strconv.Itoa(dtmfRate), "0-15"); err != nil {
			return nil, err
		}
		for _, rate := range rates {
			if rate == dtmfRate {
				continue
			}
			if err := addFormat(md, seen, freeDynamic(seen), telephoneEvent+"/"+strconv.Itoa(rate), "0-15"); err != nil {
				return nil, err
			}
		}
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", strconv.Itoa(int(DefaultPtime/time.Millisecond))),
		sdp.NewPropertyAttribute(rtcpMuxAttr), // we take RTCP on both ports: the far end chooses
		sdp.NewPropertyAttribute(SendRecv))    // last: Reshape puts the direction there
	return marshalSession(ip, sessionID, []*sdp.MediaDescription{md})
}

// freeDynamic is the lowest dynamic payload type (96-127) not in seen; 0
// when all are taken (addFormat then refuses it as a duplicate of PCMU).
func freeDynamic(seen map[uint8]string) uint8 {
	for pt := uint8(96); pt <= 127; pt++ {
		if _, taken := seen[pt]; !taken {
			return pt
		}
	}
	return 0
}

// Answer answers an offer. Policy: the codec is the first of local (our
// preference order) that the offer contains, not the offerer's first
// choice — the phone's configuration decides. telephone-event is kept at
// the offer's payload type when offered (RFC 3264 requires the offerer's
// numbering); dtmfPT = 0 declines it. Our direction mirrors the offer's
// (sendonly → recvonly, ...). Other m-lines of the offer (video, a second
// audio) are rejected with port 0.
func Answer(offer *Description, local []Codec, ip string, port int, dtmfPT uint8, sessionID uint64) ([]byte, Negotiated, error) {
	if offer.Secure() {
		return nil, Negotiated{}, fmt.Errorf("%w: the far end offers only SRTP (%s); answer it with AnswerSecure", ErrSRTPPolicy, offer.Proto)
	}
	return answer(offer, local, ip, port, dtmfPT, sessionID)
}

func answer(offer *Description, local []Codec, ip string, port int, dtmfPT uint8, sessionID uint64) ([]byte, Negotiated, error) {
	neg, err := negotiate(offer, local, true)
	if err != nil {
		return nil, Negotiated{}, err
	}
	if dtmfPT == 0 {
		neg.DTMFPayloadType = 0
	}
	md := mediaDescription(port)
	seen := map[uint8]string{}
	f := offer.format(neg.PayloadType)
	fmtp := fmtpOf(neg.Codec)
	if fmtp == "" {
		fmtp = f.Fmtp
	}
	if err := addFormat(md, seen, neg.PayloadType, rtpmapOf(neg.Codec), fmtp); err != nil {
		return nil, Negotiated{}, err
	}
	if neg.DTMFPayloadType != 0 {
		if err := addFormat(md, seen, neg.DTMFPayloadType, telephoneEvent+"/"+strconv.Itoa(neg.Codec.ClockRate()), "0-15"); err != nil {
			return nil, Negotiated{}, err
		}
	}
	dir := neg.Direction
	if dir == RecvOnly && offer.Direction != SendOnly {
		dir = SendRecv // c=0.0.0.0 hold: answer sendrecv, just do not send
	}
	if neg.RTCPMux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(rtcpMuxAttr))
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", strconv.Itoa(int(neg.Ptime/time.Millisecond))), // send as we are sent
		sdp.NewPropertyAttribute(dir))
	all := make([]*sdp.MediaDescription, 0, len(offer.media))
	for i, m := range offer.media {
		if i == offer.audioIndex {
			all = append(all, md)
			continue
		}
		m.Port = sdp.RangedPort{Value: 0}
		all = append(all, &sdp.MediaDescription{MediaName: m})
	}
	if len(all) == 0 {
		all = append(all, md) // a Description built by hand
	}
	body, err := marshalSession(ip, sessionID, all)
	return body, neg, err
}

// Negotiate reads the far end's answer to our offer: the codec it chose
// (its first format that we offered), its telephone-event PT and address.
func Negotiate(answer *Description, offered []Codec) (Negotiated, error) {
	return negotiate(answer, offered, false)
}

// negotiate picks the codec: in local's order (we answer) or in the
// description's m-line order (the far end answered).
func negotiate(d *Description, local []Codec, ourOrder bool) (Negotiated, error) {
	if !isPlainRTP(d.Proto) && !d.Secure() {
		return Negotiated{}, fmt.Errorf("media: audio uses %s; only RTP/AVP, RTP/AVPF and (SDES-SRTP) RTP/SAVP, RTP/SAVPF are supported", d.Proto)
	}
	var neg Negotiated
	if ourOrder {
		for _, c := range local {
			if f := firstMatch(d.Formats, c); f != nil {
				neg.Codec, neg.PayloadType = c, f.PayloadType
				break
			}
		}
	} else {
	formats:
		for _, f := range d.Formats {
			for _, c := range local {
				if f.Matches(c) {
					neg.Codec, neg.PayloadType = c, f.PayloadType
					break formats
				}
			}
		}
	}
	if neg.Codec == nil {
		return Negotiated{}, fmt.Errorf("%w: the far end offers %s, we support %s", ErrNoCommonCodec, formatNames(d.Formats), codecNames(local))
	}
	if cc, ok := neg.Codec.(CallCodec); ok { // its own state for this call, set by the far end's fmtp
		c, err := cc.ForCall(d.format(neg.PayloadType).Fmtp)
		if err != nil {
			return Negotiated{}, err
		}
		neg.Codec = c
	}
	neg.Ptime = d.ptimeFor(neg.Codec)
	remote, err := d.remote()
	if err != nil {
		return Negotiated{}, err
	}
	neg.Remote = remote
	neg.DTMFPayloadType = d.dtmfFor(neg.Codec.ClockRate())
	neg.Direction = reverse(d.Direction)
	neg.RTCPMux, neg.RTCPPort = d.RTCPMux, d.RTCPPort
	if remote.IP.IsUnspecified() { // RFC 3264 §8.4 old-style hold: do not send
		switch neg.Direction {
		case SendRecv:
			neg.Direction = RecvOnly
		case SendOnly:
			neg.Direction = Inactive
		}
	}
	return neg, nil
}

func firstMatch(formats []Format, c Codec) *Format {
	for i := range formats {
		if formats[i].Matches(c) {
			return &formats[i]
		}
	}
	return nil
}

func formatNames(fs []Format) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += ", "
		}
		name := f.Name
		if name == "" {
			name = "?"
		}
		s += fmt.Sprintf("%s(%d)", name, f.PayloadType)
	}
	if s == "" {
		return "nothing"
	}
	return s
}

func codecNames(cs []Codec) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += c.Name()
	}
	if s == "" {
		return "nothing"
	}
	return s
}

func rtpmapOf(c Codec) string {
	s := c.Name() + "/" + strconv.Itoa(c.ClockRate())
	if cc, ok := c.(ChannelCounter); ok && cc.Channels() > 1 {
		s += "/" + strconv.Itoa(cc.Channels())
	}
	return s
}

func fmtpOf(c Codec) string {
	if f, ok := c.(FmtpProvider); ok {
		return f.Fmtp()
	}
	return ""
}

func mediaDescription(port int) *sdp.MediaDescription {
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"},
	}}
}

// addFormat puts pt on the m-line with its rtpmap (for static types too:
// some peers want them) and fmtp.
func addFormat(md *sdp.MediaDescription, seen map[uint8]string, pt uint8, rtpmap, fmtp string) error {
	if pt > 127 {
		return fmt.Errorf("media: payload type %d for %s is out of range 0-127", pt, rtpmap)
	}
	if other, dup := seen[pt]; dup {
		return fmt.Errorf("media: payload type %d is used by both %s and %s; give telephone-event another dynamic type (96-127)", pt, other, rtpmap)
	}
	seen[pt] = rtpmap
	p := strconv.Itoa(int(pt))
	md.MediaName.Formats = append(md.MediaName.Formats, p)
	md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", p+" "+rtpmap))
	if fmtp != "" {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", p+" "+fmtp))
	}
	return nil
}

func marshalSession(ip string, sessionID uint64, media []*sdp.MediaDescription) ([]byte, error) {
	if ip == "" {
		return nil, fmt.Errorf("media: no local IP address for SDP c=; the phone needs a configured or detected address")
	}
	addrType := "IP4"
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		addrType = "IP6"
	}
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "deskphone", SessionID: sessionID, SessionVersion: sessionID,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip,
		},
		SessionName:           "-",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
		MediaDescriptions:     media,
	}
	return sd.Marshal()
}

// Reshape returns an SDP body with its audio direction set to dir and its
// origin version set to version (RFC 3264 §8: a changed offer increments
// it; a session refresh repeats the same body and version).
func Reshape(body []byte, dir string, version uint64) ([]byte, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("media: cannot read our own SDP: %w", err)
	}
	sd.Origin.SessionVersion = version
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		attrs := md.Attributes[:0]
		for _, a := range md.Attributes {
			switch a.Key {
			case SendRecv, SendOnly, RecvOnly, Inactive:
			default:
				attrs = append(attrs, a)
			}
		}
		attrs = append(attrs, sdp.NewPropertyAttribute(dir))
		md.Attributes = attrs
	}
	return sd.Marshal()
}

// Readdress moves our SDP to host (the phone's address changed): the
// origin's address and every connection line. changed is false, and body
// returned as it is, when it already names host.
func Readdress(body []byte, host string) (out []byte, changed bool, err error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, false, fmt.Errorf("media: cannot read our own SDP: %w", err)
	}
	move := func(c *sdp.ConnectionInformation) {
		if c != nil && c.Address != nil && c.Address.Address != host {
			c.Address.Address, changed = host, true
		}
	}
	if sd.Origin.UnicastAddress != host {
		sd.Origin.UnicastAddress, changed = host, true
	}
	move(sd.ConnectionInformation)
	for _, md := range sd.MediaDescriptions {
		move(md.ConnectionInformation)
	}
	if !changed {
		return body, false, nil
	}
	out, err = sd.Marshal()
	return out, true, err
}
