package media

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// toneSource is a microphone playing a sine, paced like a sound card.
type toneSource struct {
	rate  int
	freq  float64
	amp   float64
	n     int
	tick  *time.Ticker
	done  chan struct{}
	once  sync.Once
	reads atomic.Int64
}

func newToneSource(rate int, freq, amp float64, frame time.Duration) *toneSource {
	return &toneSource{rate: rate, freq: freq, amp: amp, tick: time.NewTicker(frame), done: make(chan struct{})}
}

func (s *toneSource) Read(frame []int16) error {
	select {
	case <-s.done:
		return errClosedDevice
	case <-s.tick.C:
	}
	for i := range frame {
		frame[i] = int16(s.amp * 32767 * math.Sin(2*math.Pi*s.freq*float64(s.n)/float64(s.rate)))
		s.n++
	}
	s.reads.Add(1)
	return nil
}

func (s *toneSource) Close() { s.once.Do(func() { close(s.done); s.tick.Stop() }) }

var errClosedDevice = errors.New("test device closed")

// recordSink is a speaker that records what it plays, paced by a clock.
type recordSink struct {
	tick *time.Ticker
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	got  []int16
}

func newRecordSink(frame time.Duration) *recordSink {
	return &recordSink{tick: time.NewTicker(frame), done: make(chan struct{})}
}

func (s *recordSink) Write(frame []int16) error {
	select {
	case <-s.done:
		return errClosedDevice
	case <-s.tick.C:
	}
	s.mu.Lock()
	s.got = append(s.got, frame...)
	s.mu.Unlock()
	return nil
}

func (s *recordSink) Close() { s.once.Do(func() { close(s.done); s.tick.Stop() }) }

// samples returns a copy of what was played from sample from on.
func (s *recordSink) samples(from int) []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from > len(s.got) {
		return nil
	}
	return append([]int16(nil), s.got[from:]...)
}

func (s *recordSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// waitFor polls cond until it holds; the deadline only guards against a
// hang, it is not a speed target.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSamples waits until sink has played n more samples than it had.
func waitSamples(t *testing.T, sink *recordSink, n int) int {
	t.Helper()
	start := sink.len()
	waitFor(t, "audio to play", func() bool { return sink.len() >= start+n })
	return start
}

func udpConn(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingHandler counts log records by message.
type countingHandler struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs[r.Message]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.msgs {
		n += c
	}
	return n
}

// phone is one end of a test call.
type phone struct {
	stream *Stream
	src    *toneSource
	sink   *recordSink
	conn   *net.UDPConn
	log    *countingHandler
	mu     sync.Mutex
	digits []rune
	first  atomic.Int32
}

func (p *phone) received() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.digits)
}

// call connects two streams over loopback UDP: a plays toneA, b toneB.
func call(t *testing.T, codec func() Codec, toneA, toneB float64) (a, b *phone) {
	t.Helper()
	a, b = &phone{conn: udpConn(t)}, &phone{conn: udpConn(t)}
	for _, p := range []struct {
		me, peer *phone
		tone     float64
	}{{a, b, toneA}, {b, a, toneB}} {
		me := p.me
		c := codec()
		me.src = newToneSource(c.SampleRate(), p.tone, 0.5, 20*time.Millisecond)
		me.sink = newRecordSink(20 * time.Millisecond)
		me.log = &countingHandler{msgs: map[string]int{}}
		s, err := NewStream(StreamConfig{
			Conn: me.conn, Remote: p.peer.conn.LocalAddr().(*net.UDPAddr),
			Codec: c, PayloadType: c.PayloadType(), DTMFPayloadType: 101,
			Source: me.src, Sink: me.sink,
			OnDTMF: func(d rune) {
				me.mu.Lock()
				me.digits = append(me.digits, d)
				me.mu.Unlock()
			},
			OnFirstPacket: func() { me.first.Add(1) },
			Logger:        slog.New(me.log),
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

// assertTone checks that samples carry freq well above other frequencies.
func assertTone(t *testing.T, who string, samples []int16, freq float64) {
	t.Helper()
	level := ToneLevel(samples, 8000, freq)
	if level < 0.25 {
		t.Errorf("%s: %.0f Hz arrived at %.3f of full scale, sent at 0.5", who, freq, level)
	}
	for _, other := range []float64{440, 600, 697, 1000, 1336, 2000, 3000} {
		if other == freq {
			continue
		}
		if l := ToneLevel(samples, 8000, other); l > level/20 {
			t.Errorf("%s: %.0f Hz at %.4f is not well below the %.0f Hz tone (%.3f)", who, other, l, freq, level)
		}
	}
}

func TestStreamCarriesTone(t *testing.T) {
	for _, codec := range []func() Codec{NewPCMU, NewPCMA} {
		t.Run(codec().Name(), func(t *testing.T) {
			a, b := call(t, codec, 1000, 600)
			// Skip the jitter buffer's fill, then take a second of audio.
			waitSamples(t, b.sink, 1600)
			fromB, fromA := b.sink.len(), a.sink.len()
			waitSamples(t, b.sink, 8000)
			waitFor(t, "audio at a", func() bool { return a.sink.len() >= fromA+8000 })
			assertTone(t, "a→b", b.sink.samples(fromB), 1000)
			assertTone(t, "b→a", a.sink.samples(fromA), 600)

			st := b.stream.Stats()
			if st.PacketsReceived < 50 || st.BytesReceived < 50*160 || st.PacketsSent < 50 || st.PacketsLost != 0 {
				t.Errorf("b's stats: %+v", st)
			}
			if n := b.first.Load(); n != 1 {
				t.Errorf("OnFirstPacket called %d times, want 1", n)
			}

			// Muted: packets keep flowing, carrying silence.
			a.stream.SetMuted(true)
			sent := a.stream.Stats().PacketsSent
			waitSamples(t, b.sink, 1600) // the buffer drains the unmuted audio
			from := waitSamples(t, b.sink, 4000)
			if l := ToneLevel(b.sink.samples(from), 8000, 1000); l > 0.001 {
				t.Errorf("muted, yet the tone arrives at %.3f", l)
			}
			if a.stream.Stats().PacketsSent < sent+10 {
				t.Error("muting stopped the packets")
			}
			a.stream.SetMuted(false)
			waitSamples(t, b.sink, 1600)
			from = waitSamples(t, b.sink, 4000)
			assertTone(t, "after unmute", b.sink.samples(from), 1000)
		})
	}
}

func TestStreamDTMF(t *testing.T) {
	a, b := call(t, NewPCMU, 1000, 600)
	if err := a.stream.SendDTMF("12x"); !errors.Is(err, ErrInvalidDigit) {
		t.Fatalf("SendDTMF(12x) = %v, want ErrInvalidDigit", err)
	}
	if err := a.stream.SendDTMF("1234#*"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "six digits", func() bool { return len(b.received()) >= 6 })
	// Let the end packets' retransmissions and some audio arrive too.
	waitFor(t, "a's DTMF to finish", func() bool { return a.stream.dtmf.pending() == 0 })
	after := b.stream.Stats().PacketsReceived
	waitFor(t, "packets after the last digit", func() bool { return b.stream.Stats().PacketsReceived >= after+15 })
	if got := b.received(); got != "1234#*" {
		t.Errorf("b received %q, want 1234#* (each once, in order)", got)
	}
	if got := a.received(); got != "" {
		t.Errorf("a received %q from nobody", got)
	}
	if sa, sb := a.stream.Stats(), b.stream.Stats(); sa.DTMFSent != 6 || sb.DTMFReceived != 6 || sb.UnknownPayload != 0 {
		t.Errorf("DTMF sent %d, received %d, unknown PT %d", sa.DTMFSent, sb.DTMFReceived, sb.UnknownPayload)
	}
	// Audio resumes after the digits (the timestamp moved on with them).
	from := waitSamples(t, b.sink, 1600)
	waitSamples(t, b.sink, 4000)
	assertTone(t, "after DTMF", b.sink.samples(from), 1000)
}

func TestStreamSurvivesGarbage(t *testing.T) {
	a, b := call(t, NewPCMA, 1000, 600)
	waitSamples(t, b.sink, 1600)
	junk := udpConn(t)
	defer junk.Close()
	to := b.conn.LocalAddr().(*net.UDPAddr)
	rtpUnknownPT := []byte{0x80, 13, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0} // comfort noise, not negotiated
	datagrams := [][]byte{
		[]byte("INVITE sip:nobody SIP/2.0"),
		{0x80},
		{0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},      // RTP version 0
		{0x80, 101, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1}, // telephone-event with 1 byte
		{},
	}
	// From the far end's own address (a's socket): parsed and counted.
	for range 3 {
		for _, d := range datagrams {
			if _, err := a.conn.WriteToUDP(d, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.conn.WriteToUDP(rtpUnknownPT, to); err != nil {
		t.Fatal(err)
	}
	// From a third address: dropped unparsed.
	for _, d := range datagrams {
		if _, err := junk.WriteToUDP(d, to); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "garbage to be counted", func() bool {
		st := b.stream.Stats()
		return st.Garbage >= 12 && st.UnknownPayload >= 1 && st.ForeignSource >= 4
	})
	from := waitSamples(t, b.sink, 1600)
	waitSamples(t, b.sink, 6400)
	assertTone(t, "after garbage", b.sink.samples(from), 1000)
	// One warning per kind, not one per datagram.
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	for msg, n := range b.log.msgs {
		if n != 1 {
			t.Errorf("%q logged %d times, want once", msg, n)
		}
	}
	if len(b.log.msgs) < 3 {
		t.Errorf("expected warnings for garbage, bad telephone-event, unknown PT and foreign source; got %v", b.log.msgs)
	}
}

func TestStreamCloseIdempotentNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		a, b := udpConn(t), udpConn(t)
		src := newToneSource(8000, 1000, 0.5, 20*time.Millisecond)
		s, err := NewStream(StreamConfig{Conn: a, Remote: b.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), Source: src, DTMFPayloadType: 101})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		s.Start() // no second set of goroutines
		waitFor(t, "packets", func() bool { return s.Stats().PacketsSent > 3 })
		if err := s.Close(); err != nil {
			t.Errorf("first Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := a.WriteToUDP([]byte("x"), b.LocalAddr().(*net.UDPAddr)); err == nil {
			t.Error("Close left the socket open")
		}
		if err := s.SendDTMF("1"); !errors.Is(err, ErrStreamClosed) {
			t.Errorf("SendDTMF after Close = %v, want ErrStreamClosed", err)
		}
		s.Start() // after Close: nothing
		src.Close()
		b.Close()
	}
	// A stream closed before it started.
	c := udpConn(t)
	s, err := NewStream(StreamConfig{Conn: c, Remote: c.LocalAddr().(*net.UDPAddr), Codec: NewPCMA()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// failingSource stands for a microphone that breaks mid-call.
type failingSource struct{ n atomic.Int32 }

func (f *failingSource) Read([]int16) error {
	if f.n.Add(1) > 3 {
		return errors.New("microphone unplugged")
	}
	time.Sleep(20 * time.Millisecond)
	return nil
}

func TestStreamGoesOnWhenSourceFails(t *testing.T) {
	a, b := udpConn(t), udpConn(t)
	defer b.Close()
	h := &countingHandler{msgs: map[string]int{}}
	s, err := NewStream(StreamConfig{Conn: a, Remote: b.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), PayloadType: 0,
		Source: &failingSource{}, Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	waitFor(t, "silence after the source failed", func() bool { return s.Stats().PacketsSent > 10 })
	if h.total() != 1 {
		t.Errorf("log records %v, want one warning about the source", h.msgs)
	}
}

func TestNewStreamValidates(t *testing.T) {
	c := udpConn(t)
	defer c.Close()
	remote := c.LocalAddr().(*net.UDPAddr)
	for name, cfg := range map[string]StreamConfig{
		"no conn":     {Remote: remote, Codec: NewPCMU()},
		"no remote":   {Conn: c, Codec: NewPCMU()},
		"no codec":    {Conn: c, Remote: remote},
		"PT clash":    {Conn: c, Remote: remote, Codec: NewPCMU(), PayloadType: 101, DTMFPayloadType: 101},
		"PT range":    {Conn: c, Remote: remote, Codec: NewPCMU(), PayloadType: 200},
		"odd ptime":   {Conn: c, Remote: remote, Codec: NewPCMU(), Ptime: 2500 * time.Microsecond},
		"short ptime": {Conn: c, Remote: remote, Codec: NewPCMU(), Ptime: 5 * time.Millisecond},
	} {
		if _, err := NewStream(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := NewStream(StreamConfig{Conn: c, Remote: remote, Codec: NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF("1"); !errors.Is(err, ErrNoDTMF) {
		t.Errorf("SendDTMF without telephone-event = %v, want ErrNoDTMF", err)
	}
	if s.Codec().Name() != "PCMU" {
		t.Errorf("Codec = %s", s.Codec().Name())
	}
}

func TestSetRemote(t *testing.T) {
	a, b, c := udpConn(t), udpConn(t), udpConn(t)
	defer b.Close()
	defer c.Close()
	s, err := NewStream(StreamConfig{Conn: a, Remote: b.LocalAddr().(*net.UDPAddr), Codec: NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	buf := make([]byte, 1500)
	if err := b.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.ReadFromUDP(buf); err != nil {
		t.Fatalf("first remote got nothing: %v", err)
	}
	s.SetRemote(c.LocalAddr().(*net.UDPAddr))
	s.SetRemote(nil) // ignored
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, _, err := c.ReadFromUDP(buf)
	if err != nil || n != 12+160 {
		t.Fatalf("new remote got %d bytes, %v; want a 172-byte PCMU packet", n, err)
	}
}
