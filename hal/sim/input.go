package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"deskphone/hal/wav"
)

// input is the parsed Options.Input.
type input struct {
	kind   inputKind
	hz     float64 // tone
	path   string  // wav
	mono   []int16 // wav samples
	rate   int     // wav rate
	source string  // as given, for errors
}

type inputKind int

const (
	inSilence inputKind = iota
	inTone
	inWAV
)

const inputHelp = `use "tone:HZ" (e.g. tone:1000), "silence", or the path of a 16-bit PCM WAV file`

func parseInput(s string) (input, error) {
	switch {
	case s == "" || s == "silence":
		return input{kind: inSilence, source: s}, nil
	case strings.HasPrefix(s, "tone:"):
		hz, err := strconv.ParseFloat(strings.TrimPrefix(s, "tone:"), 64)
		if err != nil || hz <= 0 || math.IsInf(hz, 0) || math.IsNaN(hz) {
			return input{}, fmt.Errorf("sim: input %q: the frequency must be a positive number of Hz; %s", s, inputHelp)
		}
		return input{kind: inTone, hz: hz, source: s}, nil
	}
	a, err := wav.ReadFile(s)
	if errors.Is(err, fs.ErrNotExist) {
		return input{}, fmt.Errorf("sim: input %q: no such file; %s", s, inputHelp)
	}
	if err != nil {
		return input{}, fmt.Errorf("sim: input: %w", err)
	}
	mono := a.Mono()
	if len(mono) == 0 {
		return input{}, fmt.Errorf("sim: input %q has no samples; record something into it or %s", s, inputHelp)
	}
	return input{kind: inWAV, path: s, mono: mono, rate: a.Rate, source: s}, nil
}

// source fills frames with the next samples of a stream.
type source interface {
	fill(frame []int16)
}

// open starts the input from its beginning at rate.
func (in input) open(rate int) (source, error) {
	switch in.kind {
	case inTone:
		if in.hz >= float64(rate)/2 {
			return nil, fmt.Errorf("sim: input %q cannot be captured at %d Hz: a tone must be below half the sample rate (%d Hz)", in.source, rate, rate/2)
		}
		return &tone{step: 2 * math.Pi * in.hz / float64(rate)}, nil
	case inWAV:
		return &wavLoop{s: in.mono, step: float64(in.rate) / float64(rate)}, nil
	default:
		return silence{}, nil
	}
}

type silence struct{}

func (silence) fill(frame []int16) { clear(frame) }

// toneAmp is half of full scale: -6 dBFS.
const toneAmp = 32767.0 / 2

// tone is a sine whose phase carries on from frame to frame.
type tone struct {
	phase, step float64
}

func (t *tone) fill(frame []int16) {
	for i := range frame {
		frame[i] = int16(math.Round(toneAmp * math.Sin(t.phase)))
		t.phase += t.step
		if t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// wavLoop plays samples resampled by linear interpolation, looping; the
// last sample interpolates towards the first so the loop has no seam.
type wavLoop struct {
	s         []int16
	pos, step float64 // position in source samples, advance per output sample
}

func (w *wavLoop) fill(frame []int16) {
	n := float64(len(w.s))
	for i := range frame {
		j := int(w.pos)
		a := float64(w.s[j])
		b := float64(w.s[(j+1)%len(w.s)])
		frame[i] = int16(math.Round(a + (b-a)*(w.pos-float64(j))))
		w.pos += w.step
		if w.pos >= n {
			w.pos = math.Mod(w.pos, n)
		}
	}
}
