package media

import (
	"fmt"
	"math"
	"net"
	"slices"
	"testing"
	"time"
)

// tone is a sine at f Hz, amplitude 10000, from sample start on.
func tone(n, start, rate int, f float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(10000 * math.Sin(2*math.Pi*f*float64(start+i)/float64(rate)))
	}
	return out
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// maxStep is the largest jump between neighbouring samples: a click.
func maxStep(x []int16) int {
	m := 0
	for i := 1; i < len(x); i++ {
		d := int(x[i]) - int(x[i-1])
		m = max(m, d, -d)
	}
	return m
}

// Losing frames of a voiced sound (a 200 Hz tone, a 5 ms pitch period):
// the first concealed frame continues it, later ones fade, after 60 ms it
// is mute, and the joins at both ends do not click.
func TestWaveformPLCRepeatsPitchAndFades(t *testing.T) {
	const rate, frame = 8000, 160
	plc := NewWaveformPLC(rate)
	var played []int16
	pos := 0
	for range 5 { // 100 ms of real audio
		f := tone(frame, pos, rate, 200)
		plc.Good(f)
		played = append(played, f...)
		pos += frame
	}
	var levels []float64
	for range 4 { // 80 ms lost
		f := make([]int16, frame)
		plc.Conceal(f)
		levels = append(levels, rms(f))
		played = append(played, f...)
		pos += frame
	}
	first := played[5*frame : 6*frame]
	if got, orig := ToneLevel(first, rate, 200), ToneLevel(played[:frame], rate, 200); got < 0.8*orig {
		t.Errorf("the first concealed frame has 200 Hz at level %.2f (real frames %.2f); want it to continue the tone", got, orig)
	}
	if !(levels[0] > levels[1] && levels[1] > levels[2]) || levels[3] != 0 {
		t.Errorf("concealment levels per frame %v: want fading, then mute after 60 ms", levels)
	}
	f := tone(frame, pos, rate, 200)
	plc.Good(f)
	played = append(played, f...)
	// A 200 Hz sine at 10000 moves at most 2π·200/8000·10000 ≈ 1571 a
	// sample; a hard cut to or from it would jump up to 10000.
	if step := maxStep(played[4*frame : 7*frame]); step > 2500 {
		t.Errorf("largest step around the start of the loss: %d (a click)", step)
	}
	if step := maxStep(played[8*frame:]); step > 2500 {
		t.Errorf("largest step at the join after the loss: %d (a click)", step)
	}
}

// A short loss in a 1 kHz tone (what the e2e far ends play) is bridged
// seamlessly: the concealed frame holds the tone at full level.
func TestWaveformPLCBridgesOneFrame(t *testing.T) {
	const rate, frame = 8000, 160
	plc := NewWaveformPLC(rate)
	for i := range 3 {
		plc.Good(tone(frame, i*frame, rate, 1000))
	}
	f := make([]int16, frame)
	plc.Conceal(f)
	want := tone(frame, 3*frame, rate, 1000)
	var diff float64
	for i := range f {
		d := float64(f[i]) - float64(want[i])
		diff += d * d
	}
	if snr := 10 * math.Log10(rms(want)*rms(want)*frame/max(diff, 1)); snr < 20 {
		t.Errorf("concealed frame vs the true continuation: SNR %.1f dB, want ≥ 20", snr)
	}
}

// A stream over G.711 whose jitter buffer reports lost frames conceals
// them and counts them.
func TestStreamConcealsLostG711(t *testing.T) {
	conn, peer := udpConn(t), udpConn(t)
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); peer.Close() })
	pl := s.newPlayer()
	jb := &scriptedJB{script: []PopStatus{PopFrame, PopFrame, PopLost, PopConceal, PopFrame, PopSilence}}
	s.jb = jb
	var out [][]int16
	for range jb.script {
		s.fillFrame(pl)
		out = append(out, append([]int16(nil), pl.frame...))
	}
	if got := s.JitterStats().Concealed; got != 2 {
		t.Errorf("Concealed = %d, want 2", got)
	}
	if rms(out[2]) < 1000 || rms(out[3]) < 500 {
		t.Errorf("concealed frames are (nearly) silent: rms %.0f, %.0f", rms(out[2]), rms(out[3]))
	}
}

// scriptedJB plays a script of statuses; frames are a 1 kHz tone in PCMU.
// PeekNext has a packet after the steps listed in peek.
type scriptedJB struct {
	script []PopStatus
	peek   map[int]bool
	i      int
	pos    int
}

func (j *scriptedJB) Push(Packet) {}

func (j *scriptedJB) Pop(dst []byte, _ time.Duration) (int, PopStatus) {
	st := j.script[j.i%len(j.script)]
	j.i++
	pcm := tone(160, j.pos, 8000, 1000)
	j.pos += 160
	if st != PopFrame {
		return 0, st
	}
	n, _ := NewPCMU().Encode(pcm, dst)
	return n, st
}

func (j *scriptedJB) PeekNext(dst []byte) (int, bool) {
	if !j.peek[j.i-1] {
		return 0, false
	}
	dst[0] = 0x42
	return 1, true
}

// concealCodec is PCMU with a Concealer that records how it was asked.
type concealCodec struct {
	Codec
	calls []string
}

func (c *concealCodec) Conceal(pcm []int16) (int, error) {
	c.calls = append(c.calls, "plc")
	clear(pcm)
	return len(pcm), nil
}

func (c *concealCodec) DecodeFEC(next []byte, pcm []int16) (int, error) {
	c.calls = append(c.calls, fmt.Sprintf("fec %x", next))
	clear(pcm)
	return len(pcm), nil
}

// A codec with its own concealment (Opus) is asked for FEC when the
// packet after a lost one is already held, for PLC otherwise, and for PLC
// (never FEC) when the buffer only waits.
func TestStreamAsksConcealerForFECOrPLC(t *testing.T) {
	conn, peer := udpConn(t), udpConn(t)
	codec := &concealCodec{Codec: NewPCMU()}
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); peer.Close() })
	pl := s.newPlayer()
	s.jb = &scriptedJB{
		script: []PopStatus{PopFrame, PopLost, PopLost, PopConceal, PopSilence},
		peek:   map[int]bool{1: true, 3: true},
	}
	for range 5 {
		s.fillFrame(pl)
	}
	if want := []string{"fec 42", "plc", "plc"}; !slices.Equal(codec.calls, want) {
		t.Errorf("the codec was asked %v, want %v", codec.calls, want)
	}
	if got := s.JitterStats().Concealed; got != 3 {
		t.Errorf("Concealed = %d, want 3", got)
	}
}

func BenchmarkConcealG711(b *testing.B) {
	plc := NewWaveformPLC(8000)
	for i := range 3 {
		plc.Good(tone(160, i*160, 8000, 200))
	}
	f := make([]int16, 160)
	good := tone(160, 0, 8000, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			plc.Conceal(f) // a new loss: pitch search and loop
		} else {
			plc.Good(good) // the join
		}
	}
}
