package media

import (
	"fmt"
	"sync/atomic"
)

// gainOne is unity gain in the Q14 fixed point Gain uses.
const gainOne = 1 << 14

// Gain is a software volume, 0–100, applied to frames in place. 100 passes
// audio unchanged and 0 silences it; in between the factor is (v/100)²,
// close enough to loudness that 50 sounds about half as loud (−12 dB).
// Changing it while audio flows is safe; Apply allocates nothing.
// The zero Gain is volume 100.
type Gain struct {
	cut atomic.Int32 // 100 − volume, so the zero value is unity
}

// SetVolume sets the volume; outside 0–100 is an error naming the range.
func (g *Gain) SetVolume(v int) error {
	if v < 0 || v > 100 {
		return fmt.Errorf("volume %d is out of range: give 0 (silent) to 100 (unchanged)", v)
	}
	g.cut.Store(int32(100 - v))
	return nil
}

// Volume is the volume, 0–100.
func (g *Gain) Volume() int { return 100 - int(g.cut.Load()) }

// factor is the Q14 multiplier for the current volume.
func (g *Gain) factor() int32 {
	v := int32(100 - g.cut.Load())
	return (v * v * gainOne) / 10000
}

// Apply scales frame in place, saturating at the int16 range (a factor
// of at most 1 cannot overflow today; the clamp keeps a future boost from
// wrapping around).
func (g *Gain) Apply(frame []int16) {
	f := g.factor()
	switch f {
	case gainOne:
		return
	case 0:
		clear(frame)
		return
	}
	for i, x := range frame {
		y := (int32(x)*f + gainOne/2) >> 14
		frame[i] = int16(max(-32768, min(32767, y)))
	}
}

// GainSource reads Src and applies Gain: the microphone's volume.
type GainSource struct {
	Src  AudioSource
	Gain *Gain
}

// Read reads a frame from Src and scales it.
func (s GainSource) Read(frame []int16) error {
	if err := s.Src.Read(frame); err != nil {
		return err
	}
	s.Gain.Apply(frame)
	return nil
}

// GainSink scales frames before writing them to Sink: the speaker's
// volume. It scales the caller's frame in place (the stream's own buffer,
// rewritten every frame).
type GainSink struct {
	Sink AudioSink
	Gain *Gain
}

// Write scales frame and writes it to Sink.
func (s GainSink) Write(frame []int16) error {
	s.Gain.Apply(frame)
	return s.Sink.Write(frame)
}
