// Package wav reads and writes RIFF/WAVE files of 16-bit PCM: the simulated
// board's audio input and output, and test fixtures. Nothing else (float,
// A-law, 24-bit) is supported; those files are rejected with an error that
// says what they are.
package wav

// Audio is a whole decoded file.
type Audio struct {
	Rate     int     // samples per second per channel
	Channels int     // 1 = mono, 2 = stereo, ...
	Samples  []int16 // interleaved: L R L R ... for stereo
}

// Frames is the number of sample frames (samples per channel).
func (a *Audio) Frames() int {
	if a.Channels <= 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Mono returns one channel: the average of all channels. A mono file's
// samples are returned as they are (not copied).
func (a *Audio) Mono() []int16 {
	if a.Channels <= 1 {
		return a.Samples
	}
	n := a.Frames()
	out := make([]int16, n)
	for i := range out {
		sum := 0
		for _, s := range a.Samples[i*a.Channels : (i+1)*a.Channels] {
			sum += int(s)
		}
		out[i] = int16(sum / a.Channels)
	}
	return out
}
