package media

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// srtpCall connects two SRTP streams over loopback (RTCP muxed): a plays
// toneA, b toneB. keyB is what a decrypts b's packets with (b's own key
// unless a test gives a wrong one).
func srtpCall(t *testing.T, toneA, toneB float64, wrongKey bool) (a, b *phone) {
	t.Helper()
	ka, err := NewCrypto(1, SuiteAES80)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := NewCrypto(1, SuiteAES80)
	kbSeenByA := kb
	if wrongKey {
		kbSeenByA, _ = NewCrypto(1, SuiteAES80)
	}
	secA, err := NewSRTP(ka, kbSeenByA)
	if err != nil {
		t.Fatal(err)
	}
	secB, _ := NewSRTP(kb, ka)
	a, b = &phone{conn: udpConn(t)}, &phone{conn: udpConn(t)}
	for _, p := range []struct {
		me, peer *phone
		tone     float64
		sec      *SRTP
	}{{a, b, toneA, secA}, {b, a, toneB, secB}} {
		me := p.me
		me.src = newToneSource(8000, p.tone, 0.5, 20*time.Millisecond)
		me.sink = newRecordSink(20 * time.Millisecond)
		me.log = &countingHandler{msgs: map[string]int{}}
		s, err := NewStream(StreamConfig{
			Conn: me.conn, Remote: p.peer.conn.LocalAddr().(*net.UDPAddr),
			Codec: NewPCMU(), DTMFPayloadType: 101, Source: me.src, Sink: me.sink,
			OnDTMF: func(d rune) {
				me.mu.Lock()
				me.digits = append(me.digits, d)
				me.mu.Unlock()
			},
			Logger: slog.New(me.log), RTCPMux: true, RTCPInterval: 200 * time.Millisecond, SRTP: p.sec,
		})
		if err != nil {
			t.Fatal(err)
		}
		me.stream = s
	}
	t.Cleanup(func() {
		for _, p := range []*phone{a, b} {
			p.stream.Close()
			p.src.Close()
			p.sink.Close()
		}
	})
	a.stream.Start()
	b.stream.Start()
	return a, b
}

func TestStreamSRTPCarriesToneDTMFAndRTCP(t *testing.T) {
	a, b := srtpCall(t, 1000, 600, false)
	waitSamples(t, b.sink, 1600)
	fromB, fromA := b.sink.len(), a.sink.len()
	waitSamples(t, b.sink, 8000)
	waitFor(t, "audio at a", func() bool { return a.sink.len() >= fromA+8000 })
	assertTone(t, "a→b", b.sink.samples(fromB), 1000)
	assertTone(t, "b→a", a.sink.samples(fromA), 600)
	if err := a.stream.SendDTMF("42#"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "digits at b", func() bool { return b.received() == "42#" })
	waitFor(t, "SRTCP reports both ways", func() bool {
		return a.stream.Quality().ReportsReceived > 0 && b.stream.Quality().ReportsReceived > 0
	})
	for who, p := range map[string]*phone{"a": a, "b": b} {
		if st := p.stream.Stats(); st.SRTPAuthFail != 0 || st.Garbage != 0 || st.PacketsReceived < 50 {
			t.Errorf("%s's stats: %+v", who, st)
		}
		if g := p.stream.RTCPGarbage(); g != 0 {
			t.Errorf("%s: %d RTCP packets did not parse after SRTCP", who, g)
		}
	}
}

// A far end keyed otherwise (or an attacker without the key) is heard as
// nothing: every packet fails authentication, counted and logged once.
func TestStreamSRTPWrongKeyPlaysNothing(t *testing.T) {
	a, b := srtpCall(t, 1000, 600, true)
	waitFor(t, "b's packets refused at a", func() bool { return a.stream.Stats().SRTPAuthFail >= 50 })
	if st := a.stream.Stats(); st.PacketsReceived != 0 {
		t.Errorf("a took %d packets keyed otherwise", st.PacketsReceived)
	}
	from := a.sink.len()
	waitFor(t, "a second at a", func() bool { return a.sink.len() >= from+8000 })
	if l := ToneLevel(a.sink.samples(from), 8000, 600); l > 0.001 {
		t.Errorf("a plays b's tone at %.3f although the key is wrong", l)
	}
	a.log.mu.Lock()
	n := 0
	for msg, c := range a.log.msgs {
		if strings.Contains(msg, "SRTP") {
			n += c
		}
	}
	a.log.mu.Unlock()
	if n != 1 {
		t.Errorf("a logged the SRTP failure %d times; want once", n)
	}
	if b.stream.Stats().SRTPAuthFail != 0 {
		t.Error("b refused a's packets, keyed right")
	}
}

// Clear RTP from the far end's own address is not played on an SRTP call.
func TestStreamSRTPRefusesClearRTP(t *testing.T) {
	a, _ := srtpCall(t, 1000, 600, false)
	peer := udpConn(t)
	a.stream.SetRemote(peer.LocalAddr().(*net.UDPAddr)) // the "far end" now sends in clear
	j := &injector{t: t, conn: peer, codec: NewPCMU()}
	to := a.conn.LocalAddr().(*net.UDPAddr)
	before := a.stream.Stats()
	waitFor(t, "clear packets refused", func() bool {
		j.tone(to)
		j.digit4(to)
		return a.stream.Stats().SRTPAuthFail >= before.SRTPAuthFail+30
	})
	if st := a.stream.Stats(); st.DTMFReceived != 0 {
		t.Errorf("clear RFC 4733 taken on an SRTP call: %+v", st)
	}
	if d := a.received(); d != "" {
		t.Errorf("digits %q from clear RTP", d)
	}
}

// The SRTP sender and receiver, one frame each way: see
// BenchmarkReceiveUnmarshalDecode and BenchmarkSendFrame for clear RTP.
func BenchmarkSRTPSendFrame(b *testing.B) {
	s, _ := benchSRTPStream(b)
	snd := s.newSender()
	b.ReportAllocs()
	for b.Loop() {
		s.sendFrame(snd)
	}
}

func BenchmarkSRTPReceiveUnmarshalDecode(b *testing.B) {
	s, peerSec := benchSRTPStream(b)
	snd := s.newSender()
	r := &receiver{buf: make([]byte, 1500)}
	pl := s.newPlayer()
	from := *s.remote.Load()
	enc := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		n, err := s.marshalAudio(snd)
		if err != nil {
			b.Fatal(err)
		}
		pkt, err := peerSec.ProtectRTP(enc[:0], snd.buf[:n]) // as the far end sends it
		if err != nil {
			b.Fatal(err)
		}
		s.handleDatagram(r, pkt, from)
		s.fillFrame(pl)
	}
	if s.Stats().SRTPAuthFail != 0 {
		b.Fatal("packets refused")
	}
}

// benchSRTPStream is benchStream with SRTP, and the far end's SRTP.
func benchSRTPStream(b *testing.B) (*Stream, *SRTP) {
	b.Helper()
	conn, peer := udpConn(b), udpConn(b)
	ka, _ := NewCrypto(1, SuiteAES80)
	kb, _ := NewCrypto(1, SuiteAES80)
	sec, _ := NewSRTP(ka, kb)
	far, _ := NewSRTP(kb, ka)
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), DTMFPayloadType: 101, SRTP: sec})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); peer.Close() })
	return s, far
}
