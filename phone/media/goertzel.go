package media

import "math"

// ToneLevel measures the amplitude of freq in samples relative to full
// scale (1.0 = a sine peaking at ±32768) with the Goertzel algorithm over a
// Hann window, which keeps other tones' leakage low. For a clean reading
// give it at least a few hundred milliseconds. It is meant for tests and
// diagnostics, not the media path.
func ToneLevel(samples []int16, sampleRate int, freq float64) float64 {
	n := len(samples)
	if n == 0 || sampleRate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(sampleRate)
	coeff := 2 * math.Cos(w)
	var s1, s2, wsum float64
	for i, x := range samples {
		win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		wsum += win
		s0 := win*float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if wsum == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(max(power, 0)) / wsum
}

// DominantFrequency returns the candidate with the highest ToneLevel, or 0
// when there are no samples or candidates.
func DominantFrequency(samples []int16, sampleRate int, candidates []float64) float64 {
	best, bestLevel := 0.0, 0.0
	for _, f := range candidates {
		if l := ToneLevel(samples, sampleRate, f); l > bestLevel {
			best, bestLevel = f, l
		}
	}
	return best
}
