//go:build cgo

package aec

import (
	"fmt"
	"log/slog"
	"sync"

	"deskphone/hal"
)

// router is a board's audio with one device pair per route; phone's
// AudioRouter has the same methods. The route it is set to decides, in
// Auto, whether the canceller runs.
type router interface {
	AudioRoutes() []string
	SetAudioRoute(route string) error
}

// Audio is a hal.Audio whose capture and playback, opened at the same rate
// (as a call opens them), share one Canceller, made when the first of them
// opens and freed when the last closes.
type Audio struct {
	inner hal.Audio
	opts  AudioOptions

	mu     sync.Mutex
	on     bool
	cur    *shared // the pair a device opening now joins
	live   map[*shared]bool
	closed Stats // counts of freed cancellers
}

// shared is one Canceller and how many wrapped devices use it.
type shared struct {
	c     *Canceller
	users int
}

// RoutedAudio is Audio over a board with routes: it passes AudioRoutes and
// SetAudioRoute on, and in Auto turns the canceller on for the speaker.
type RoutedAudio struct {
	*Audio
	r router
}

// Wrap puts echo cancelling between the phone and inner's devices. It
// returns an *Audio, or a *RoutedAudio when inner has routes; in Off,
// inner itself.
func Wrap(inner hal.Audio, opts AudioOptions) hal.Audio {
	switch opts.Mode {
	case Off:
		return inner
	case "":
		opts.Mode = Auto
	case Auto, On:
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	a := &Audio{inner: inner, opts: opts, on: opts.Mode == On, live: map[*shared]bool{}}
	r, ok := inner.(router)
	if !ok {
		return a
	}
	if cur, ok := inner.(interface{ AudioRoute() string }); ok && opts.Mode == Auto {
		a.on = cur.AudioRoute() == SpeakerRoute // the board may start on the speaker
	}
	return &RoutedAudio{Audio: a, r: r}
}

// AudioRoutes are inner's routes.
func (r *RoutedAudio) AudioRoutes() []string { return r.r.AudioRoutes() }

// SetAudioRoute sets inner's route; in Auto the canceller runs on the
// speaker route only. Devices open now keep their route (the phone reopens
// them), but the canceller follows at once.
func (r *RoutedAudio) SetAudioRoute(route string) error {
	if err := r.r.SetAudioRoute(route); err != nil {
		return err
	}
	if r.opts.Mode == Auto {
		r.SetEnabled(route == SpeakerRoute)
	}
	return nil
}

// SetEnabled turns cancelling on or off for the devices open now and those
// opened later (until the next SetAudioRoute in Auto).
func (a *Audio) SetEnabled(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.on = on
	for s := range a.live {
		s.c.SetEnabled(on)
	}
}

// Enabled reports whether cancelling is on.
func (a *Audio) Enabled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.on
}

// Stats adds up the counts of every Canceller so far.
func (a *Audio) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.closed
	for s := range a.live {
		st = st.add(s.c.Stats())
	}
	return st
}

func (s Stats) add(o Stats) Stats {
	return Stats{Frames: s.Frames + o.Frames, Underruns: s.Underruns + o.Underruns, Dropped: s.Dropped + o.Dropped}
}

// OpenCapture opens inner's microphone with the echo of the playback open
// at the same rate cancelled.
func (a *Audio) OpenCapture(rate, frameSamples int) (hal.Capture, error) {
	d, err := a.inner.OpenCapture(rate, frameSamples)
	if err != nil {
		return nil, err
	}
	s := a.join(rate, frameSamples)
	if s == nil {
		return d, nil
	}
	return &sharedCapture{Capture: s.c.Capture(d), a: a, s: s}, nil
}

// OpenPlayback opens inner's speaker, recording what it plays as the
// reference of the capture open at the same rate.
func (a *Audio) OpenPlayback(rate, frameSamples int) (hal.Playback, error) {
	d, err := a.inner.OpenPlayback(rate, frameSamples)
	if err != nil {
		return nil, err
	}
	s := a.join(rate, frameSamples)
	if s == nil {
		return d, nil
	}
	return &sharedPlayback{Playback: s.c.Playback(d), a: a, s: s}, nil
}

// join returns the Canceller a device at rate shares: the current one if
// it has that rate, else a new one (a device at another rate, say the
// ringer's playback, keeps its own until it closes). nil: none can be made
// for this format, logged; the device goes on without.
func (a *Audio) join(rate, frameSamples int) *shared {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.cur; s != nil && s.c.Rate() == rate && s.c.frameSamples == frameSamples {
		s.users++
		return s
	}
	c, err := New(rate, frameSamples, a.opts.Options)
	if err != nil {
		a.opts.Log.Warn(fmt.Sprintf("echo cancelling off for this device: %v", err))
		return nil
	}
	c.SetEnabled(a.on)
	s := &shared{c: c, users: 1}
	a.cur = s
	a.live[s] = true
	return s
}

// leave is a device's Close: the last one frees the Canceller.
func (a *Audio) leave(s *shared) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.users--
	if s.users > 0 {
		return
	}
	st := s.c.Stats()
	a.closed = a.closed.add(st)
	if st.Frames > 0 { // underruns and drops past start-up say the two directions drift apart
		a.opts.Log.Info("echo cancelling ended with the devices", "rate", s.c.Rate(), "blocks", st.Frames, "underruns", st.Underruns, "dropped", st.Dropped)
	}
	delete(a.live, s)
	if a.cur == s {
		a.cur = nil
	}
	_ = s.c.Close() // always nil
}

type sharedCapture struct {
	hal.Capture
	a    *Audio
	s    *shared
	once sync.Once
}

func (c *sharedCapture) Close() error {
	err := c.Capture.Close()
	c.once.Do(func() { c.a.leave(c.s) })
	return err
}

type sharedPlayback struct {
	hal.Playback
	a    *Audio
	s    *shared
	once sync.Once
}

func (p *sharedPlayback) Close() error {
	err := p.Playback.Close()
	p.once.Do(func() { p.a.leave(p.s) })
	return err
}
