package media

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// Description is the audio part of an SDP body, as far as a phone needs it.
type Description struct {
	IP              string   // connection address (media-level c=, else session-level)
	Port            int      // RTP port
	Proto           string   // e.g. "RTP/AVP"
	Formats         []Format // in m-line order, telephone-event included
	DTMFPayloadType uint8    // telephone-event PT (the 8 kHz one if several); 0 = none
	Direction       string   // sendrecv (default), sendonly, recvonly or inactive
	Ptime           int      // a=ptime in ms; 0 = not given
	MaxPtime        int      // a=maxptime in ms; 0 = not given
	RTCPMux         bool     // a=rtcp-mux (RFC 5761)
	RTCPPort        int      // a=rtcp's port (RFC 3605); 0 = not given (RTP port + 1)
	Crypto          []Crypto // a=crypto of a suite we support (RFC 4568), in order (srtp_sdp.go)

	// All m-lines, so an answer can reject the ones we do not take.
	media      []sdp.MediaName
	audioIndex int
}

// Format is one payload type of the audio m-line.
type Format struct {
	PayloadType uint8
	Name        string // encoding name from a=rtpmap, or RFC 3551's for static PTs
	ClockRate   int
	Channels    int
	Fmtp        string
}

// Matches reports whether f carries codec c: dynamic payload types by
// encoding name and clock rate, static ones (0-95) also by number when
// there is no rtpmap.
func (f Format) Matches(c Codec) bool {
	if f.Name == "" {
		return f.PayloadType < 96 && f.PayloadType == c.PayloadType()
	}
	return strings.EqualFold(f.Name, c.Name()) && (f.ClockRate == 0 || f.ClockRate == c.ClockRate())
}

// Static audio payload types (RFC 3551 table 4), used when an offer omits
// their rtpmap.
var staticFormats = map[uint8]Format{
	0:  {PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
	3:  {PayloadType: 3, Name: "GSM", ClockRate: 8000, Channels: 1},
	4:  {PayloadType: 4, Name: "G723", ClockRate: 8000, Channels: 1},
	8:  {PayloadType: 8, Name: "PCMA", ClockRate: 8000, Channels: 1},
	9:  {PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1},
	18: {PayloadType: 18, Name: "G729", ClockRate: 8000, Channels: 1},
}

const telephoneEvent = "telephone-event"

// Directions (RFC 3264 §5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// ParseDescription reads the first usable audio m-line of an SDP body.
func ParseDescription(body []byte) (*Description, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("media: SDP does not parse (%w); check the far end's offer or answer", err)
	}
	idx := audioMediaIndex(&sd)
	if idx < 0 {
		return nil, ErrNoAudio
	}
	md := sd.MediaDescriptions[idx]
	d := &Description{
		Port:       md.MediaName.Port.Value,
		Proto:      strings.Join(md.MediaName.Protos, "/"),
		Direction:  SendRecv,
		audioIndex: idx,
	}
	for _, m := range sd.MediaDescriptions {
		d.media = append(d.media, m.MediaName)
	}
	if d.Port == 0 {
		return nil, ErrStreamRejected
	}
	switch {
	case md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil:
		d.IP = md.ConnectionInformation.Address.Address
	case sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil:
		d.IP = sd.ConnectionInformation.Address.Address
	default:
		return nil, ErrNoConnection
	}
	if err := d.parseFormats(md); err != nil {
		return nil, err
	}
	d.Direction = direction(md.Attributes, direction(sd.Attributes, SendRecv))
	d.Ptime = intAttribute(md, &sd, "ptime")
	d.MaxPtime = intAttribute(md, &sd, "maxptime")
	d.RTCPMux, d.RTCPPort = rtcpAttributes(md)
	d.Crypto = cryptoAttributes(md)
	return d, nil
}

// intAttribute reads a=key:N at media level, else session level; 0 when
// absent or not a whole number (a=ptime:20.5 is not worth honouring).
func intAttribute(md *sdp.MediaDescription, sd *sdp.SessionDescription, key string) int {
	v, ok := md.Attribute(key)
	if !ok {
		v, _ = sd.Attribute(key)
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// ptimeFor is the packet time to send c in: the far end's a=ptime (else
// ours), at most its a=maxptime, fitted to the packet times c frames (the
// longest that fits, else c's shortest) or to 10-120 ms.
func (d *Description) ptimeFor(c Codec) time.Duration {
	want := int(DefaultPtime / time.Millisecond)
	if d.Ptime > 0 {
		want = d.Ptime
	}
	if d.MaxPtime > 0 {
		want = min(want, d.MaxPtime)
	}
	if pt, ok := c.(PacketTimer); ok {
		best, shortest := 0, 0
		for _, ms := range pt.PacketTimes() {
			if ms <= want && ms > best {
				best = ms
			}
			if shortest == 0 || ms < shortest {
				shortest = ms
			}
		}
		if best == 0 {
			best = shortest
		}
		if best > 0 {
			return time.Duration(best) * time.Millisecond
		}
	}
	return time.Duration(min(max(want, 10), 120)) * time.Millisecond
}

// audioMediaIndex prefers an RTP/AVP audio m-line (an offer may carry an
// SRTP one too), else the first audio m-line.
func audioMediaIndex(sd *sdp.SessionDescription) int {
	first := -1
	for i, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		if first < 0 {
			first = i
		}
		if isPlainRTP(strings.Join(m.MediaName.Protos, "/")) {
			return i
		}
	}
	return first
}

func isPlainRTP(proto string) bool { return proto == "RTP/AVP" || proto == "RTP/AVPF" }

func (d *Description) parseFormats(md *sdp.MediaDescription) error {
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return fmt.Errorf("media: audio m-line format %q is not an RTP payload type (0-127)", f)
		}
		d.Formats = append(d.Formats, staticFormats[uint8(pt)])
		d.Formats[len(d.Formats)-1].PayloadType = uint8(pt)
	}
	for _, a := range md.Attributes {
		pt, rest, ok := ptAttribute(a.Value)
		if !ok {
			continue
		}
		f := d.format(pt)
		if f == nil {
			continue // an attribute for a payload type not on the m-line
		}
		switch a.Key {
		case "rtpmap":
			parts := strings.Split(rest, "/")
			f.Name, f.ClockRate, f.Channels = parts[0], 0, 1
			if len(parts) > 1 {
				f.ClockRate, _ = strconv.Atoi(parts[1])
			}
			if len(parts) > 2 {
				f.Channels, _ = strconv.Atoi(parts[2])
			}
		case "fmtp":
			f.Fmtp = rest
		}
	}
	for _, f := range d.Formats {
		if strings.EqualFold(f.Name, telephoneEvent) && (d.DTMFPayloadType == 0 || f.ClockRate == 8000) {
			d.DTMFPayloadType = f.PayloadType
		}
	}
	return nil
}

// ptAttribute splits "101 telephone-event/8000" into 101 and the rest.
func ptAttribute(v string) (uint8, string, bool) {
	num, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	pt, err := strconv.ParseUint(num, 10, 7)
	return uint8(pt), strings.TrimSpace(rest), err == nil
}

func (d *Description) format(pt uint8) *Format {
	for i := range d.Formats {
		if d.Formats[i].PayloadType == pt {
			return &d.Formats[i]
		}
	}
	return nil
}

func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return a.Key
		}
	}
	return def
}

// dtmfFor is the telephone-event PT at clockRate (RFC 4733 events share the
// audio's clock), 0 if none.
func (d *Description) dtmfFor(clockRate int) uint8 {
	for _, f := range d.Formats {
		if strings.EqualFold(f.Name, telephoneEvent) && f.ClockRate == clockRate {
			return f.PayloadType
		}
	}
	return 0
}

// remote is the far end's RTP address.
func (d *Description) remote() (*net.UDPAddr, error) {
	ip := net.ParseIP(d.IP)
	if ip == nil {
		return nil, fmt.Errorf("media: SDP connection address %q is not an IP address (host names are not supported)", d.IP)
	}
	return &net.UDPAddr{IP: ip, Port: d.Port}, nil
}

// reverse is our direction given the far end's.
func reverse(dir string) string {
	switch dir {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}
