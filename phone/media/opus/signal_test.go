//go:build cgo

package opus

import (
	"math"
	"math/rand/v2"
)

// testSignal is n samples at 48 kHz of what a phone carries: a tone sweep
// from 200 Hz to 3.4 kHz, then speech-like noise (white noise shaped by a
// syllable-rate envelope through a formant-ish band-pass), from a fixed
// seed so every run compares the same audio.
func testSignal(n int) []int16 {
	out := make([]int16, n)
	half := n / 2
	phase := 0.0
	for i := range half {
		f := 200 + 3200*float64(i)/float64(half)
		phase += 2 * math.Pi * f / Rate
		out[i] = int16(8000 * math.Sin(phase))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var y1, y2 float64
	const r, w = 0.98, 2 * math.Pi * 700 / Rate // resonator at 700 Hz
	for i := half; i < n; i++ {
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*float64(i)/Rate) // ~4 syllables/s
		x := rng.NormFloat64() * 600 * env
		y := x + 2*r*math.Cos(w)*y1 - r*r*y2
		y2, y1 = y1, y
		out[i] = int16(max(-32768, min(32767, y)))
	}
	return out
}

// compare aligns got to want (a codec delays the signal) and returns the
// SNR in dB and the correlation coefficient at the best lag within
// maxLag samples.
func compare(want, got []int16, maxLag int) (snr, corr float64, lag int) {
	best := math.Inf(-1)
	for l := 0; l <= maxLag; l++ {
		c := correlation(want, got[l:])
		if c > best {
			best, lag = c, l
		}
	}
	got = got[lag:]
	n := min(len(want), len(got))
	var sig, noise float64
	for i := range n {
		d := float64(want[i]) - float64(got[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/max(noise, 1e-9)), best, lag
}

func correlation(a, b []int16) float64 {
	n := min(len(a), len(b))
	var sa, sb, sab, saa, sbb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		sa += x
		sb += y
		sab += x * y
		saa += x * x
		sbb += y * y
	}
	fn := float64(n)
	cov := sab - sa*sb/fn
	den := math.Sqrt((saa - sa*sa/fn) * (sbb - sb*sb/fn))
	if den == 0 {
		return 0
	}
	return cov / den
}
