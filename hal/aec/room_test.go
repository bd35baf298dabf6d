//go:build cgo

package aec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"deskphone/hal/aec"
)

// A simulated room: what the speaker plays comes back into the microphone
// delayed, attenuated and coloured by a few reflections, with low noise and,
// in one stretch, the agent talking over the far end (double talk). The
// canceller is driven as the phone drives it, through the Playback and
// Capture wrappers, with the playback a few frames ahead as a sound card's
// buffer makes it; synchronously, so the run is the same every time.

// The timeline, in seconds: the far end alone (the filter converges), both
// talking, the far end alone again (did double talk make the filter
// diverge?), the agent alone.
const (
	convergeAt   = 2.0
	doubleAt     = 6.0
	farAgainAt   = 8.0
	nearAloneAt  = 9.5
	roomEnd      = 11.0
	playbackLead = 3 // frames the writer is ahead of the speaker (hal/sim buffers 3)
)

// tap is one path from speaker to microphone.
type tap struct {
	delayMs float64
	gain    float64
}

// The direct path at -6 dB after 40 ms (sound card buffers and air), then
// reflections.
var roomTaps = []tap{{40, 0.5}, {43, -0.18}, {51, 0.11}, {63, 0.06}, {87, -0.03}}

type room struct {
	t        *testing.T
	rate     int
	taps     []tap
	played   []int16   // every sample the speaker got; sample i is heard at time i
	near     []float64 // the agent's voice at the microphone
	noise    []float64
	echo     []float64 // the echo part of each captured sample, for measuring
	captured int
}

func (r *room) Write(frame []int16) error {
	r.played = append(r.played, frame...)
	return nil
}

func (r *room) Read(frame []int16) error {
	for i := range frame {
		t := r.captured + i
		var e float64
		for _, tp := range r.taps {
			d := int(tp.delayMs * float64(r.rate) / 1000)
			switch {
			case t-d < 0:
			case t-d >= len(r.played):
				r.t.Fatalf("room: sample %d heard before it was played (%d played)", t-d, len(r.played))
			default:
				e += tp.gain * float64(r.played[t-d])
			}
		}
		r.echo[t] = e
		frame[i] = clip(e + r.near[t] + r.noise[t])
	}
	r.captured += len(frame)
	return nil
}

func (r *room) Close() error { return nil }

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// speech is speech-like: noise through two formant resonators, in bursts
// of 150-400 ms ("syllables") with 60-250 ms pauses, at about -20 dBFS.
func speech(rng *rand.Rand, rate, n int, f1, f2 float64) []float64 {
	out := make([]float64, n)
	b1, b2 := newBandpass(rate, f1, 4), newBandpass(rate, f2, 6)
	ramp := rate / 50 // 20 ms attack and decay
	for t := 0; t < n; {
		on := rate * (150 + rng.IntN(250)) / 1000
		off := rate * (60 + rng.IntN(190)) / 1000
		for i := 0; i < on && t < n; i, t = i+1, t+1 {
			env := 1.0
			if i < ramp {
				env = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(ramp))
			} else if on-i < ramp {
				env = 0.5 - 0.5*math.Cos(math.Pi*float64(on-i)/float64(ramp))
			}
			x := rng.NormFloat64()
			out[t] = env * (b1.step(x) + 0.6*b2.step(x))
		}
		for i := 0; i < off && t < n; i, t = i+1, t+1 {
			x := rng.NormFloat64()
			b1.step(x)
			b2.step(x)
		}
	}
	scale := 3300 / rms(out) // -20 dBFS over the whole signal, pauses included
	for i := range out {
		out[i] *= scale
	}
	return out
}

// bandpass is an RBJ biquad band-pass (0 dB peak).
type bandpass struct{ b0, b2, a1, a2, x1, x2, y1, y2 float64 }

func newBandpass(rate int, f, q float64) *bandpass {
	w := 2 * math.Pi * f / float64(rate)
	alpha := math.Sin(w) / (2 * q)
	a0 := 1 + alpha
	return &bandpass{b0: alpha / a0, b2: -alpha / a0, a1: -2 * math.Cos(w) / a0, a2: (1 - alpha) / a0}
}

func (b *bandpass) step(x float64) float64 {
	y := b.b0*x + b.b2*b.x2 - b.a1*b.y1 - b.a2*b.y2
	b.x2, b.x1, b.y2, b.y1 = b.x1, x, b.y1, y
	return y
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

func power(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

func db(ratio float64) float64 { return 10 * math.Log10(ratio) }

// roomResult is what one run through the room measured, in dB.
type roomResult struct {
	erle      float64   // far end alone, convergeAt to doubleAt
	erleAfter float64   // far end alone after the double talk
	curve     []float64 // ERLE of each half second of the first far-end stretch
	nearDT    float64   // what the near end lost during double talk (out vs near)
	nearAlone float64   // what the near end lost alone
	stats     aec.Stats
}

// runRoom runs the timeline through the canceller in a room at rate with
// device frames of frameMs.
func runRoom(t *testing.T, rate, frameMs int, opts aec.Options) roomResult {
	return runRoomJitter(t, rate, frameMs, opts, 0, 0)
}

// runRoomJitter is runRoom with the playback's write late, after the
// capture's read, at a share late1 of the frames, and late by two frames
// (held up) at a share late2, then caught up: two goroutines woken by one
// clock run in either order, and one may be held up.
func runRoomJitter(t *testing.T, rate, frameMs int, opts aec.Options, late1, late2 float64) roomResult {
	t.Helper()
	n := int(roomEnd * float64(rate))
	frame := rate * frameMs / 1000
	lead := playbackLead * frame
	rng := rand.New(rand.NewPCG(10, uint64(rate))) // seeded: the same run every time
	far := speech(rng, rate, n+lead, 600, 1700)
	near := speech(rng, rate, n, 450, 2200)
	noise := make([]float64, n)
	for i := range n {
		sec := float64(i) / float64(rate)
		if sec < doubleAt || sec >= farAgainAt && sec < nearAloneAt {
			near[i] = 0 // the agent listens
		}
		if sec >= nearAloneAt {
			far[i+lead] = 0 // the far end stops; what is buffered still plays
		}
		noise[i] = 3 * rng.NormFloat64() // about -80 dBFS
	}
	r := &room{t: t, rate: rate, taps: roomTaps, near: near, noise: noise, echo: make([]float64, n)}

	c, err := aec.New(rate, frame, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pb, capt := c.Playback(r), c.Capture(r)
	defer pb.Close()
	defer capt.Close()

	out := make([]float64, n)
	fbuf := make([]int16, frame)
	play := func(k int) {
		for i := range fbuf {
			fbuf[i] = clip(far[k*frame+i])
		}
		if err := pb.Write(fbuf); err != nil {
			t.Fatal(err)
		}
	}
	for k := range playbackLead { // the sound card's buffer fills first
		play(k)
	}
	written, hold := playbackLead, 0 // hold: frames the writer still sits out
	for k := 0; (k+1)*frame <= n; k++ {
		x, write := rng.Float64(), false
		switch {
		case hold > 0:
			hold--
		case written < k+playbackLead: // behind: catch up
			write = true
		case x < late2:
			hold = 1 // this frame's write and the next wait
		case x < late2+late1: // this frame's write waits
		default:
			write = true
		}
		for ; write && written <= k+playbackLead; written++ {
			play(written)
		}
		if err := capt.Read(fbuf); err != nil {
			t.Fatal(err)
		}
		for i, v := range fbuf {
			out[k*frame+i] = float64(v)
		}
	}

	at := func(sec float64) int { return int(sec * float64(rate)) }
	erle := func(from, to float64) float64 {
		return db(power(r.echo[at(from):at(to)]) / power(out[at(from):at(to)]))
	}
	loss := func(from, to float64) float64 {
		return db(power(near[at(from):at(to)]) / power(out[at(from):at(to)]))
	}
	res := roomResult{
		erle:      erle(convergeAt, doubleAt),
		erleAfter: erle(farAgainAt+0.1, nearAloneAt), // the agent's last words have left the room
		nearDT:    loss(doubleAt, farAgainAt),
		nearAlone: loss(nearAloneAt+0.3, roomEnd), // the last echo has died
		stats:     c.Stats(),
	}
	for s := 0.0; s < doubleAt; s += 0.5 {
		res.curve = append(res.curve, erle(s, s+0.5))
	}
	return res
}

// TestRoomERLE is the figure: echo return loss enhancement of at
// least 20 dB once converged, at each rate and at 10 and 20 ms device
// frames, still after double talk, with the agent's voice kept.
func TestRoomERLE(t *testing.T) {
	for _, tc := range []struct{ rate, frameMs int }{{8000, 20}, {16000, 20}, {48000, 20}, {8000, 10}, {48000, 10}} {
		t.Run(fmt.Sprintf("%dHz/%dms", tc.rate, tc.frameMs), func(t *testing.T) {
			res := runRoom(t, tc.rate, tc.frameMs, aec.Options{})
			curve := ""
			for _, v := range res.curve {
				curve += fmt.Sprintf(" %.0f", v)
			}
			t.Logf("%d Hz, %d ms frames: ERLE %.1f dB (%.0f-%.0f s), %.1f dB after double talk; per half second from 0 s:%s dB",
				tc.rate, tc.frameMs, res.erle, convergeAt, doubleAt, res.erleAfter, curve)
			t.Logf("near end attenuated %.1f dB in double talk, %.1f dB alone; %+v", res.nearDT, res.nearAlone, res.stats)
			if res.erle < 20 {
				t.Errorf("ERLE %.1f dB, want at least 20 dB", res.erle)
			}
			if res.erleAfter < 20 {
				t.Errorf("ERLE %.1f dB after double talk, want at least 20 dB (the filter diverged)", res.erleAfter)
			}
			if res.nearDT > 6 {
				t.Errorf("the near end lost %.1f dB during double talk; want at most 6 dB (the agent would be cut)", res.nearDT)
			}
			if res.nearAlone > 3 {
				t.Errorf("the near end lost %.1f dB talking alone; want at most 3 dB", res.nearAlone)
			}
			if res.stats.Underruns != 0 {
				t.Errorf("%d blocks had no reference; the synchronous drive should never miss one", res.stats.Underruns)
			}
		})
	}
}

// TestRoomJitter: with the playback's write after the capture's read for
// one frame in five, and held up for two frames for one in twenty, the
// ring's margin absorbs it: no capture misses its reference, the pairing
// is never moved after the start, and the ERLE stays above 20 dB. (A
// reference later still is ring_test.go's.)
func TestRoomJitter(t *testing.T) {
	for _, rate := range []int{8000, 48000} {
		res := runRoomJitter(t, rate, 20, aec.Options{}, 0.2, 0.05)
		t.Logf("%d Hz, writes late: ERLE %.1f dB (%.0f-%.0f s), %.1f dB after double talk; %+v",
			rate, res.erle, convergeAt, doubleAt, res.erleAfter, res.stats)
		if res.stats.Underruns != 0 || res.stats.Dropped > playbackLead {
			t.Errorf("%+v: want no underruns, and no drops but the start's trim", res.stats)
		}
		if res.erle < 20 || res.erleAfter < 20 {
			t.Errorf("ERLE %.1f dB, %.1f dB after double talk; want at least 20 dB with jitter", res.erle, res.erleAfter)
		}
	}
}
