package media

// Fuzz targets for what the far end (or anyone who can reach the RTP port)
// sends: SDP offers and answers, RTP datagrams and RFC 4733 payloads.
// `make fuzz` runs each for FUZZTIME; their seeds run in `make test`.

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

// FuzzSDP parses a description and negotiates it both ways (as an offer we
// answer, as an answer to our offer); whatever it is, the result is a codec
// we support or an error, and an answer we produce parses again.
func FuzzSDP(f *testing.F) {
	f.Add([]byte(baresipOffer))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\nm=video 4002 RTP/AVP 31\r\nm=audio 4000 RTP/SAVP 0\r\nc=IN IP6 ::1\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 0 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:99999999999\r\n"))
	local := localCodecs(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseDescription(body)
		if err != nil {
			if d != nil {
				t.Fatalf("a description and an error (%v)", err)
			}
			return
		}
		if neg, err := Negotiate(d, local); err == nil && neg.Codec == nil {
			t.Fatalf("negotiated no codec without an error: %+v", neg)
		}
		ans, neg, err := Answer(d, local, "127.0.0.1", 40000, 101, 1)
		if err != nil {
			return
		}
		if neg.Codec == nil {
			t.Fatalf("answered without a codec: %+v", neg)
		}
		if _, err := ParseDescription(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if _, err := Reshape(ans, SendOnly, 2); err != nil {
			t.Fatalf("our answer cannot be put on hold: %v", err)
		}
	})
}

// localCodecs is every codec in this build, PCMU first.
func localCodecs(f *testing.F) []Codec {
	var cs []Codec
	for _, name := range SupportedCodecs() {
		c, err := CodecByName(name)
		if err != nil {
			f.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// FuzzRTPReceive feeds datagrams to a stream's receive path (RTP unmarshal,
// loss count, DTMF receiver, jitter buffer) and plays out what it kept
// through the codec, as the receiver and playout goroutines do. The input
// is a run of datagrams, each behind a 2-byte big-endian length.
func FuzzRTPReceive(f *testing.F) {
	pkt := func(pt uint8, seq uint16, ts uint32, payload []byte) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: payload}).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	framed := func(dgs ...[]byte) []byte {
		var out []byte
		for _, d := range dgs {
			out = binary.BigEndian.AppendUint16(out, uint16(len(d)))
			out = append(out, d...)
		}
		return out
	}
	audio := make([]byte, 160)
	f.Add(framed(pkt(0, 1, 160, audio), pkt(0, 2, 320, audio), pkt(0, 3, 480, audio)))
	f.Add(framed(pkt(101, 4, 800, []byte{5, 10, 0, 160}), pkt(101, 5, 800, []byte{5, 0x8a, 1, 64}), pkt(101, 6, 1600, []byte{16, 0, 0, 0})))
	f.Add(framed(pkt(0, 65535, 0, audio), pkt(0, 0, 160, nil), []byte{0x80}, []byte("not rtp at all"), pkt(9, 1, 1, audio)))
	f.Add(framed([]byte{0xb0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0, 0, 0, 3})) // extension and padding
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = conn.Close() })
	pcmu, err := CodecByName("PCMU")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var digits []rune
		s, err := NewStream(StreamConfig{Conn: conn, Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Codec: pcmu,
			PayloadType: 0, DTMFPayloadType: 101, OnDTMF: func(d rune) { digits = append(digits, d) }})
		if err != nil {
			t.Fatal(err)
		}
		r := &receiver{buf: make([]byte, 1<<16)}
		from := netip.MustParseAddrPort("127.0.0.1:9")
		for len(in) >= 2 {
			n := int(binary.BigEndian.Uint16(in))
			in = in[2:]
			n = min(n, len(in))
			s.handleDatagram(r, in[:n], from)
			in = in[n:]
		}
		for _, d := range digits {
			if !strings.ContainsRune("0123456789*#ABCD", d) {
				t.Fatalf("onDTMF(%q): not a DTMF digit", d)
			}
		}
		pl := s.newPlayer()
		for range 64 {
			s.fillFrame(pl)
		}
	})
}

// FuzzDTMFPayload unmarshals telephone-event payloads and feeds them to a
// receiver: at most one digit per distinct timestamp, and only real digits.
func FuzzDTMFPayload(f *testing.F) {
	f.Add(uint32(160), []byte{1, 10, 0, 160})
	f.Add(uint32(160), []byte{11, 0x80, 3, 32})
	f.Add(uint32(0), []byte{200, 0xff, 0xff, 0xff, 0})
	f.Add(uint32(1), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, ts uint32, payload []byte) {
		var ev DTMFEvent
		if err := ev.Unmarshal(payload); err == nil {
			buf := make([]byte, 4)
			if n, err := ev.MarshalTo(buf); err == nil {
				var back DTMFEvent
				if err := back.Unmarshal(buf[:n]); err != nil || back != ev {
					t.Fatalf("round trip %+v -> % x -> %+v (%v)", ev, buf[:n], back, err)
				}
			}
		}
		var r DTMFReceiver
		got := 0
		for i := range 3 { // the same event three times (end retransmissions): one digit at most
			d, ok, err := r.Push(ts, payload)
			if err != nil {
				return
			}
			if ok {
				got++
				if !strings.ContainsRune("0123456789*#ABCD", d) || i > 0 {
					t.Fatalf("push %d: digit %q", i, d)
				}
			}
		}
		if got > 1 {
			t.Fatalf("%d digits for one event", got)
		}
	})
}
