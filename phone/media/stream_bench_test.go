package media

import (
	"net"
	"net/netip"
	"testing"
)

// benchStream is a stream that is never started: the benchmarks drive its
// per-frame functions directly.
func benchStream(b *testing.B) (*Stream, *net.UDPConn) {
	b.Helper()
	conn, peer := udpConn(b), udpConn(b)
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), DTMFPayloadType: 101})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); peer.Close() })
	return s, peer
}

// The sender's per-frame work: encode and marshal into the reusable buffer.
func BenchmarkSendEncodeMarshal(b *testing.B) {
	s, _ := benchStream(b)
	snd := s.newSender()
	copy(snd.pcm, sine(len(snd.pcm), 8000, 1000, 0.5))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.marshalAudio(snd); err != nil {
			b.Fatal(err)
		}
	}
}

// The whole sender frame, including DTMF scheduling and the socket write.
func BenchmarkSendFrame(b *testing.B) {
	s, _ := benchStream(b)
	snd := s.newSender()
	b.ReportAllocs()
	for b.Loop() {
		s.sendFrame(snd)
	}
}

// The receiver's and player's per-frame work: unmarshal, jitter buffer,
// decode.
func BenchmarkReceiveUnmarshalDecode(b *testing.B) {
	s, _ := benchStream(b)
	snd := s.newSender()
	r := &receiver{buf: make([]byte, 1500)}
	pl := s.newPlayer()
	from := *s.remote.Load()
	pkt := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		n, err := s.marshalAudio(snd)
		if err != nil {
			b.Fatal(err)
		}
		copy(pkt, snd.buf[:n])
		s.handleDatagram(r, pkt[:n], from)
		s.fillFrame(pl)
	}
}

// A telephone-event packet through the receiver.
func BenchmarkReceiveDTMF(b *testing.B) {
	s, _ := benchStream(b)
	snd := s.newSender()
	r := &receiver{}
	from := netip.MustParseAddrPort("127.0.0.1:9")
	f := dtmfFrame{send: true, ev: DTMFEvent{Event: 1, Volume: 10, Duration: 160}}
	b.ReportAllocs()
	for b.Loop() {
		n, _ := s.marshalEvent(snd, f)
		s.handleDatagram(r, snd.buf[:n], from)
	}
}
