package labkit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// readWAV returns the first channel of a 16-bit PCM WAV file.
func readWAV(path string) (samples []float64, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New(path + ": not a RIFF/WAVE file")
	}
	var channels, bits int
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+size, len(b))]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, errors.New(path + ": short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body); f != 1 {
				return nil, 0, fmt.Errorf("%s: format %d, want 1 (PCM)", path, f)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("%s: %d-bit %d-channel data, want 16-bit", path, bits, channels)
			}
			frame := 2 * channels
			for i := 0; i+frame <= len(body); i += frame {
				samples = append(samples, float64(int16(binary.LittleEndian.Uint16(body[i:]))))
			}
			return samples, rate, nil
		}
		off += 8 + size + size&1
	}
	return nil, 0, errors.New(path + ": no data chunk")
}

// goertzel returns the power of freq in samples.
func goertzel(samples []float64, rate int, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s1, s2 = x+coeff*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// dominantFreq scans lo..hi Hz in step-Hz bins and returns the strongest
// bin and how many times its power exceeds the mean of all bins.
func dominantFreq(samples []float64, rate int, lo, hi, step float64) (peak, ratio float64) {
	var best, sum float64
	n := 0
	for f := lo; f <= hi; f += step {
		p := goertzel(samples, rate, f)
		if p > best {
			best, peak = p, f
		}
		sum += p
		n++
	}
	if sum == 0 {
		return 0, 0
	}
	return peak, best / (sum / float64(n))
}
