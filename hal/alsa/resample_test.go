package alsa

import (
	"fmt"
	"math"
	"testing"
)

// tone is n samples of a sine at freq Hz sampled at rate, amplitude amp,
// starting at sample offset.
func tone(n, rate int, freq float64, amp float64, offset int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i+offset)/float64(rate)))
	}
	return s
}

// level is the amplitude of freq in s (Goertzel), 1.0 for a full-scale sine.
func level(s []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v)/32768 + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(s))
}

var ratePairs = [][2]int{{8000, 44100}, {44100, 8000}, {8000, 48000}, {48000, 8000}, {16000, 44100}, {44100, 16000},
	{48000, 44100}, {44100, 48000}, {16000, 48000}, {48000, 16000}}

// Capture blocks (n outputs from inputFor(n) inputs) and playback blocks
// (outputFor(k) outputs from k inputs) keep the exact ratio over a long
// stream, and a tone keeps its frequency and level.
func TestResamplerStreams(t *testing.T) {
	for _, pr := range ratePairs {
		in, out := pr[0], pr[1]
		t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
			const seconds = 3
			src := tone(in*seconds, in, 1000, 16000, 0)

			// Capture: the output side asks for frames of 20 ms.
			r := newResampler(in, out)
			var got []int16
			used := 0
			frame := make([]int16, out/50)
			for used < len(src)-in/10 {
				k := r.inputFor(len(frame))
				blk := append([]int16(nil), src[used:used+k]...)
				r.process(blk, frame)
				used += k
				got = append(got, frame...)
			}
			checkRatio(t, "capture", used, len(got), in, out)
			checkTone(t, "capture", got, out)

			// Playback: the input side gives frames of 20 ms.
			r = newResampler(in, out)
			got = got[:0]
			used = 0
			buf := make([]int16, out/50+4)
			for used+in/50 <= len(src) {
				blk := append([]int16(nil), src[used:used+in/50]...)
				n := r.outputFor(len(blk))
				r.process(blk, buf[:n])
				used += len(blk)
				got = append(got, buf[:n]...)
			}
			checkRatio(t, "playback", used, len(got), in, out)
			checkTone(t, "playback", got, out)
		})
	}
}

func checkRatio(t *testing.T, what string, in, out, inRate, outRate int) {
	t.Helper()
	want := float64(in) * float64(outRate) / float64(inRate)
	if math.Abs(float64(out)-want) > 2 {
		t.Errorf("%s: %d samples in made %d out, want %.1f (±2): the ratio drifts", what, in, out, want)
	}
}

func checkTone(t *testing.T, what string, s []int16, rate int) {
	t.Helper()
	s = s[rate/10:] // past the boxcar's start-up
	at, off := level(s, rate, 1000), level(s, rate, 1300)
	if at < 0.40 || at > 0.52 || off > 0.02 {
		t.Errorf("%s: a 1 kHz tone at 0.49 came out at %.3f (1.3 kHz: %.3f)", what, at, off)
	}
}

// A tone above the new Nyquist is damped by the decimating boxcar, not
// folded back at full level.
func TestResamplerDampsAliases(t *testing.T) {
	r := newResampler(48000, 8000)
	src := tone(48000, 48000, 5000, 16000, 0) // folds to 3 kHz at 8 kHz
	dst := make([]int16, r.outputFor(len(src)))
	r.process(src, dst)
	if a := level(dst[800:], 8000, 3000); a > 0.2 {
		t.Errorf("a 5 kHz tone at 0.49 folded to 3 kHz at %.3f, want under 0.2", a)
	}
}

func TestResamplerNoAllocs(t *testing.T) {
	r := newResampler(8000, 44100)
	src, dst := tone(160, 8000, 1000, 8000, 0), make([]int16, 900)
	if a := testing.AllocsPerRun(100, func() { r.process(src, dst[:r.outputFor(len(src))]) }); a != 0 {
		t.Errorf("process allocates %.0f times per frame", a)
	}
}

// One 20 ms frame through the resampler, per direction and rate pair.
func BenchmarkResample(b *testing.B) {
	for _, pr := range ratePairs {
		in, out := pr[0], pr[1]
		b.Run(fmt.Sprintf("%d-%d", in, out), func(b *testing.B) {
			r := newResampler(in, out)
			src := tone(in/50, in, 1000, 8000, 0)
			blk := make([]int16, len(src))
			dst := make([]int16, out/50+4)
			b.ReportAllocs()
			for b.Loop() {
				copy(blk, src)
				r.process(blk, dst[:r.outputFor(len(blk))])
			}
		})
	}
}
