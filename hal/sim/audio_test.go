package sim

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"deskphone/hal"
	"deskphone/hal/wav"
)

// unpaced returns a board whose devices run as fast as they are called.
func unpaced(t testing.TB, opts Options) *Board {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.unpaced = true
	t.Cleanup(func() { b.Close() })
	return b
}

// capture reads n samples in frames of size frame.
func captureSamples(t *testing.T, b *Board, rate, frame, n int) []int16 {
	t.Helper()
	c, err := b.OpenCapture(rate, frame)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make([]int16, 0, n)
	buf := make([]int16, frame)
	for len(out) < n {
		if err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf...)
	}
	return out[:n]
}

func TestCapturePacing(t *testing.T) {
	b := newBoard(t, Options{Input: "tone:440"})
	const rate, frame, n = 8000, 80, 10 // 10 ms frames
	c, err := b.OpenCapture(rate, frame)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	buf := make([]int16, frame)
	for range n {
		if err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if got, least := time.Since(start), (n-1)*10*time.Millisecond; got < least {
		t.Errorf("%d frames of 10 ms read in %v, want at least %v", n, got, least)
	}
}

func TestPlaybackPacing(t *testing.T) {
	b := newBoard(t, Options{})
	const rate, frame, n = 8000, 80, 12
	p, err := b.OpenPlayback(rate, frame)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := time.Now()
	buf := make([]int16, frame)
	for range n {
		if err := p.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	// The first bufferFrames frames fill the buffer; each further one waits
	// for a frame to play.
	if got, least := time.Since(start), (n-bufferFrames)*10*time.Millisecond; got < least {
		t.Errorf("%d frames of 10 ms written in %v, want at least %v", n, got, least)
	}
}

func TestCloseWakesBlockedDevices(t *testing.T) {
	// At 1 Hz, a 3600-sample frame is an hour away: only Close can end
	// these calls before the test times out.
	b := newBoard(t, Options{})
	c, err := b.OpenCapture(1, 3600)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.OpenPlayback(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- c.Read(make([]int16, 3600)) }()
	go func() { errs <- p.Write(make([]int16, 3600)) }()
	time.Sleep(20 * time.Millisecond) // let both block (not required for correctness)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, hal.ErrClosed) {
			t.Errorf("blocked call ended with %v, want hal.ErrClosed", err)
		}
	}
}

func TestToneFrequency(t *testing.T) {
	const rate, hz = 8000, 1000.0
	b := unpaced(t, Options{Input: "tone:1000"})
	// Odd frame size, so frame edges fall at every phase: a phase reset at
	// a frame edge would show up as a mismatch below.
	s := captureSamples(t, b, rate, 157, rate)

	crossings := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			crossings++
		}
	}
	if crossings < 1998 || crossings > 2002 { // 2 per cycle, 1000 cycles
		t.Errorf("%d zero crossings in 1 s, want about 2000 for 1000 Hz", crossings)
	}
	for i, v := range s {
		want := toneAmp * math.Sin(2*math.Pi*hz*float64(i)/rate)
		if math.Abs(float64(v)-want) > 2 {
			t.Fatalf("sample %d = %d, want %.0f (a continuous 1000 Hz sine)", i, v, want)
		}
	}
	peak := slices.Max(s)
	if db := 20 * math.Log10(float64(peak)/32767); db < -6.5 || db > -5.5 {
		t.Errorf("peak %d is %.1f dBFS, want about -6", peak, db)
	}

	// A DFT bin at the tone holds the energy; a bin 100 Hz away does not.
	bin := func(f float64) float64 {
		var re, im float64
		for i, v := range s {
			a := 2 * math.Pi * f * float64(i) / rate
			re += float64(v) * math.Cos(a)
			im -= float64(v) * math.Sin(a)
		}
		return math.Hypot(re, im)
	}
	if on, off := bin(1000), bin(1100); on < 1000*off {
		t.Errorf("DFT magnitude at 1000 Hz %.0f is not far above 1100 Hz %.0f", on, off)
	}
}

func TestToneAboveNyquist(t *testing.T) {
	b := newBoard(t, Options{Input: "tone:5000"})
	_, err := b.OpenCapture(8000, 160)
	if err == nil || !strings.Contains(err.Error(), "below half the sample rate") {
		t.Fatalf("5 kHz tone at 8 kHz: err = %v", err)
	}
	if _, err := b.OpenCapture(16000, 320); err != nil {
		t.Errorf("5 kHz tone at 16 kHz: %v", err)
	}
}

func TestSilence(t *testing.T) {
	for _, in := range []string{"", "silence"} {
		b := unpaced(t, Options{Input: in})
		c, err := b.OpenCapture(8000, 160)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]int16, 160)
		for i := range buf {
			buf[i] = 999
		}
		if err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(buf, func(v int16) bool { return v != 0 }) {
			t.Errorf("input %q gave non-zero samples %v", in, buf[:8])
		}
	}
}

func writeWAV(t *testing.T, rate, channels int, samples []int16) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.wav")
	w, err := wav.Create(path, rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// interp is the linear resampling the board should do, written out
// independently: output sample j sits at source position j*srcRate/rate,
// wrapping to the start.
func interp(src []int16, srcRate, rate, j int) int16 {
	n := len(src)
	num := j * srcRate // position = num / rate
	i := (num / rate) % n
	frac := float64(num%rate) / float64(rate)
	a, b := float64(src[i]), float64(src[(i+1)%n])
	return int16(math.Round(a + (b-a)*frac))
}

func TestWAVInputResampledAndLooped(t *testing.T) {
	ramp := make([]int16, 10)
	for i := range ramp {
		ramp[i] = int16(i * 100)
	}
	cases := []struct {
		name          string
		srcRate, rate int
		channels      int
		samples, mono []int16
	}{
		{"upsample x2", 4000, 8000, 1, ramp, ramp},
		{"downsample /2", 16000, 8000, 1, ramp, ramp},
		{"12k to 8k, step 1.5", 12000, 8000, 1, ramp, ramp},
		{"same rate", 8000, 8000, 1, ramp, ramp},
		{"stereo averaged", 8000, 8000, 2, []int16{100, 300, -50, 50, 1000, 0}, []int16{200, 0, 500}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := unpaced(t, Options{Input: writeWAV(t, c.srcRate, c.channels, c.samples)})
			// 7-sample frames over several loops of the file.
			got := captureSamples(t, b, c.rate, 7, 95)
			for j, v := range got {
				if want := interp(c.mono, c.srcRate, c.rate, j); v != want {
					t.Fatalf("sample %d = %d, want %d (got %v)", j, v, want, got)
				}
			}
		})
	}
	// Spot checks of the formula itself on the x2 upsampling: halfway
	// points, and the loop seam interpolating from the last to the first.
	if got := []int16{interp(ramp, 4000, 8000, 1), interp(ramp, 4000, 8000, 19), interp(ramp, 4000, 8000, 20)}; !slices.Equal(got, []int16{50, 450, 0}) {
		t.Errorf("interp spot checks = %v, want [50 450 0]", got)
	}
}

func TestCaptureRestartsEachOpen(t *testing.T) {
	b := unpaced(t, Options{Input: "tone:300"})
	a := captureSamples(t, b, 8000, 160, 400)
	c := captureSamples(t, b, 8000, 160, 400)
	if !slices.Equal(a, c) {
		t.Error("a second capture does not start the input from the beginning")
	}
}

func TestPlaybackFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run", "heard.wav") // run/ does not exist yet
	b := unpaced(t, Options{Output: out})
	const rate, frame = 8000, 160
	p, err := b.OpenPlayback(rate, frame)
	if err != nil {
		t.Fatal(err)
	}
	var all []int16
	buf := make([]int16, frame)
	for f := range 60 { // 1.2 s
		for i := range buf {
			buf[i] = int16(f*1000 + i)
		}
		if err := p.Write(buf); err != nil {
			t.Fatal(err)
		}
		all = append(all, buf...)
	}

	// While still open, the file is valid and holds at least the first
	// second (flushed about once a second).
	a, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != rate || a.Channels != 1 {
		t.Errorf("open file: rate %d channels %d, want %d mono", a.Rate, a.Channels, rate)
	}
	hdr, _ := os.ReadFile(out)
	if declared := int(hdr[40]) | int(hdr[41])<<8 | int(hdr[42])<<16; declared < 2*rate {
		t.Errorf("header declares %d bytes before Close, want at least a second's %d", declared, 2*rate)
	}
	if !slices.Equal(a.Samples, all[:len(a.Samples)]) {
		t.Error("open file's samples differ from what was written")
	}

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(buf); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Write after Close = %v, want hal.ErrClosed", err)
	}
	a, err = wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Samples, all) {
		t.Fatalf("closed file has %d samples, want the %d written", len(a.Samples), len(all))
	}

	// The next open (the next call) starts a new file.
	p, err = b.OpenPlayback(16000, 320)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write([]int16{7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	a, err = wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 16000 || !slices.Equal(a.Samples, []int16{7, 8, 9}) {
		t.Errorf("second file: rate %d samples %v, want 16000 [7 8 9]", a.Rate, a.Samples)
	}
}

func TestPlaybackDiscard(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b := unpaced(t, Options{})
	p, err := b.OpenPlayback(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Output \"\" created files: %v", ents)
	}
}

func TestPlaybackOutputError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBoard(t, Options{Output: filepath.Join(file, "out.wav")}) // parent is a file
	if _, err := b.OpenPlayback(8000, 160); err == nil || !strings.Contains(err.Error(), "out.wav") {
		t.Errorf("OpenPlayback into a file's path: err = %v, want one naming out.wav", err)
	}
	// A failed open leaves the device free.
	b.opts.Output = ""
	if _, err := b.OpenPlayback(8000, 160); err != nil {
		t.Errorf("OpenPlayback after a failed one: %v", err)
	}
}

func TestDeviceErrors(t *testing.T) {
	b := unpaced(t, Options{})
	for _, f := range [][2]int{{0, 160}, {8000, 0}, {-8000, 160}} {
		if _, err := b.OpenCapture(f[0], f[1]); err == nil {
			t.Errorf("OpenCapture(%d, %d) succeeded", f[0], f[1])
		}
		if _, err := b.OpenPlayback(f[0], f[1]); err == nil {
			t.Errorf("OpenPlayback(%d, %d) succeeded", f[0], f[1])
		}
	}

	c, err := b.OpenCapture(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenCapture(8000, 160); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second OpenCapture: %v", err)
	}
	p, err := b.OpenPlayback(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenPlayback(8000, 160); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second OpenPlayback: %v", err)
	}
	c.Close()
	p.Close()
	if err := c.Read(make([]int16, 160)); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second capture Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second playback Close = %v", err)
	}
	// Closed devices free the board for the next call.
	if c, err = b.OpenCapture(8000, 160); err != nil {
		t.Errorf("reopen capture: %v", err)
	}
	if p, err = b.OpenPlayback(8000, 160); err != nil {
		t.Errorf("reopen playback: %v", err)
	}
	// Closing the board closes open devices.
	b.Close()
	if err := c.Read(make([]int16, 160)); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Read after board Close = %v", err)
	}
	if err := p.Write(make([]int16, 160)); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Write after board Close = %v", err)
	}
}

func BenchmarkCaptureReadTone(b *testing.B) {
	benchRead(b, "tone:1000")
}

func BenchmarkCaptureReadWAV(b *testing.B) {
	s := make([]int16, 44100)
	for i := range s {
		s[i] = int16(i)
	}
	path := filepath.Join(b.TempDir(), "in.wav")
	w, _ := wav.Create(path, 44100, 1)
	if err := w.Write(s); err != nil {
		b.Fatal(err)
	}
	w.Close()
	benchRead(b, path)
}

func benchRead(b *testing.B, input string) {
	board := unpaced(b, Options{Input: input})
	c, err := board.OpenCapture(8000, 160)
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Read(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlaybackWrite(b *testing.B) {
	board := unpaced(b, Options{Output: filepath.Join(b.TempDir(), "out.wav")})
	p, err := board.OpenPlayback(8000, 160)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}
