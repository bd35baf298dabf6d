//go:build cgo

package alsa

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"deskphone/hal"
)

// Defaults and bounds of the period and the buffer.
const (
	DefaultPeriod  = 10 * time.Millisecond
	MinPeriod      = 5 * time.Millisecond
	MaxPeriod      = 100 * time.Millisecond
	DefaultPeriods = 4
)

// Route is one audio route's PCMs.
type Route struct {
	Capture  string // ALSA PCM name, e.g. plughw:CARD=Device,DEV=0
	Playback string
	// Rate is the devices' rate when the profile imposes one (a card
	// opened as hw: that has 48 kHz only); 0: the codec's rate if the
	// device has it, else its nearest. The driver resamples between.
	Rate int
	// Channels is the devices' channel count when imposed (a stereo-only
	// I2S DAC); 0: mono if the device has it, else its nearest.
	Channels int
}

// Config is a board's sound devices.
type Config struct {
	Routes  map[string]Route // handset (required), speaker, headset
	Period  time.Duration    // 0: DefaultPeriod
	Periods int              // buffer size in periods; 0: DefaultPeriods
	Log     *slog.Logger
}

// Audio is a board's sound devices: it opens the PCMs of the current route
// (handset until SetAudioRoute), or of a named route.
type Audio struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	route  string
	open   map[*device]bool
	closed Stats // the counts of devices already closed
}

var _ hal.Audio = (*Audio)(nil)

// New checks cfg and returns the devices; nothing is opened until a call
// needs it, so a missing card is an error of that call, not of the board.
func New(cfg Config) (*Audio, error) {
	if cfg.Period == 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Periods == 0 {
		cfg.Periods = DefaultPeriods
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var bad []string
	if cfg.Period < MinPeriod || cfg.Period > MaxPeriod {
		bad = append(bad, fmt.Sprintf("period %v is out of range; use %v to %v (10ms is usual)", cfg.Period, MinPeriod, MaxPeriod))
	}
	if cfg.Periods < 2 || cfg.Periods > 16 {
		bad = append(bad, fmt.Sprintf("periods %d is out of range; use 2 to 16 (the buffer is that many periods; 4 is usual)", cfg.Periods))
	}
	if _, ok := cfg.Routes["handset"]; !ok {
		bad = append(bad, "no handset route; give its capture and playback PCM names")
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Routes)) {
		r := cfg.Routes[name]
		if strings.TrimSpace(r.Capture) == "" || strings.TrimSpace(r.Playback) == "" {
			bad = append(bad, fmt.Sprintf("route %s needs both a capture and a playback PCM name (e.g. plughw:CARD=Device,DEV=0)", name))
		}
		if r.Rate != 0 && (r.Rate < 8000 || r.Rate > 192000) {
			bad = append(bad, fmt.Sprintf("route %s: rate %d is out of range; use 8000 to 192000, or 0 for the codec's", name, r.Rate))
		}
		if r.Channels < 0 || r.Channels > 8 {
			bad = append(bad, fmt.Sprintf("route %s: channels %d is out of range; use 1 to 8, or 0 for mono if the card has it", name, r.Channels))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("alsa: %s", strings.Join(bad, "; "))
	}
	return &Audio{cfg: cfg, log: cfg.Log, route: "handset", open: map[*device]bool{}}, nil
}

// AudioRoutes lists the board's routes, sorted.
func (a *Audio) AudioRoutes() []string { return slices.Sorted(maps.Keys(a.cfg.Routes)) }

// AudioRoute is the current route.
func (a *Audio) AudioRoute() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.route
}

// SetAudioRoute makes route the one OpenCapture and OpenPlayback open.
// Devices open now keep theirs: the caller reopens them to move the call.
func (a *Audio) SetAudioRoute(route string) error {
	if _, ok := a.cfg.Routes[route]; !ok {
		return fmt.Errorf("alsa: the board has no %q audio route; it has %s", route, strings.Join(a.AudioRoutes(), ", "))
	}
	a.mu.Lock()
	a.route = route
	a.mu.Unlock()
	return nil
}

// OpenCapture opens the current route's microphone.
func (a *Audio) OpenCapture(rate, frameSamples int) (hal.Capture, error) {
	return a.OpenCaptureOn(a.AudioRoute(), rate, frameSamples)
}

// OpenPlayback opens the current route's speaker.
func (a *Audio) OpenPlayback(rate, frameSamples int) (hal.Playback, error) {
	return a.OpenPlaybackOn(a.AudioRoute(), rate, frameSamples)
}

// OpenCaptureOn opens a route's microphone at rate (mono), delivering
// frames of frameSamples. The device is a *Capture (Stats, Params).
func (a *Audio) OpenCaptureOn(route string, rate, frameSamples int) (hal.Capture, error) {
	d, err := a.openDevice(route, true, rate, frameSamples)
	if err != nil {
		return nil, err
	}
	return &Capture{d}, nil
}

// OpenPlaybackOn opens a route's speaker, whatever the current route (the
// ringer plays on "speaker" while the handset is in a call). The device
// is a *Playback (Stats, Params).
func (a *Audio) OpenPlaybackOn(route string, rate, frameSamples int) (hal.Playback, error) {
	d, err := a.openDevice(route, false, rate, frameSamples)
	if err != nil {
		return nil, err
	}
	return &Playback{d}, nil
}

// Stats sums the counts of every device this Audio opened.
func (a *Audio) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.closed
	for d := range a.open {
		s = s.add(d.stats())
	}
	return s
}

// Close closes the devices still open.
func (a *Audio) Close() error {
	a.mu.Lock()
	open := slices.Collect(maps.Keys(a.open))
	a.mu.Unlock()
	for _, d := range open {
		d.close()
	}
	return nil
}

func (a *Audio) openDevice(route string, capture bool, rate, frameSamples int) (*device, error) {
	r, ok := a.cfg.Routes[route]
	if !ok {
		return nil, fmt.Errorf("alsa: the board has no %q audio route; it has %s", route, strings.Join(a.AudioRoutes(), ", "))
	}
	name := r.Playback
	if capture {
		name = r.Capture
	}
	fail := func(op string, code, errno int, reason string) error {
		return &Error{Device: name, Route: route, Stream: streamName(capture), Op: op, Code: code, Errno: errno, Reason: reason}
	}
	if rate < 4000 || rate > 192000 {
		return nil, fail("open", CodeUnsupportedRate, 0, fmt.Sprintf("the codec's rate %d Hz is out of range (4000 to 192000)", rate))
	}
	if frameSamples <= 0 {
		return nil, fail("open", runCode(capture), 0, fmt.Sprintf("frames of %d samples: give a positive frame size (e.g. 160 = 20 ms at 8 kHz)", frameSamples))
	}
	p, stage, errno, msg := openPCM(pcmConfig{name: name, capture: capture, rate: rate, fixed: r.Rate, channels: r.Channels,
		period: a.cfg.Period, periods: a.cfg.Periods, frame: frameSamples})
	if p == nil {
		reason := strerror(errno)
		if msg != "" {
			reason += " (" + msg + ")"
		}
		return nil, fail(stageOp[stage], openCode(capture, stage, errno), errno, reason)
	}
	d := newDevice(a, p, route, name, capture, rate, frameSamples)
	if !capture {
		if errno := p.prefill(); errno < 0 {
			d.close()
			return nil, fail("prefill silence", CodeSpeakerStartFail, errno, strerror(errno))
		}
		d.clock.advance(p.prefillFrames()) // the prefill is queued
	}
	a.log.Info("alsa: opened", "stream", streamName(capture), "route", route, "device", name,
		"rate", p.rate(), "codec_rate", rate, "channels", p.channels(), "period", p.periodFrames(), "buffer", p.bufferFrames(), "target", d.params.Target,
		"paced_by", map[bool]string{true: "card", false: "wall clock (no card)"}[p.hasCard()])
	a.mu.Lock()
	a.open[d] = true
	a.mu.Unlock()
	return d, nil
}

// forget moves a closed device's counts to the totals.
func (a *Audio) forget(d *device, s Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.open[d] {
		delete(a.open, d)
		a.closed = a.closed.add(s)
	}
}

// Stats counts what a device recovered from.
type Stats struct {
	Xruns      int64 // underruns (playback) and overruns (capture)
	Suspends   int64 // the device was suspended (power management)
	Recoveries int64 // xruns and suspends recovered (snd_pcm_recover)
	Frames     int64 // frames moved at the device's rate
}

func (s Stats) add(o Stats) Stats {
	return Stats{Xruns: s.Xruns + o.Xruns, Suspends: s.Suspends + o.Suspends, Recoveries: s.Recoveries + o.Recoveries, Frames: s.Frames + o.Frames}
}

// Params are the parameters a device was opened with.
type Params struct {
	Device    string // the ALSA PCM name
	Route     string
	Rate      int  // the device's rate; the driver resamples if it is not the codec's
	CodecRate int  // the rate Read and Write use
	Channels  int  // the device's channels; the driver mixes to and from mono
	Period    int  // frames at Rate
	Buffer    int  // frames at Rate: Config.Periods periods, at least a codec frame and two periods
	Target    int  // playback: the most frames queued after a Write (its added delay): a frame and a period
	Prefill   int  // playback: the silence queued at the start and after an xrun (Target less a frame)
	Card      bool // a sound card clocks it; false: the wall clock does (file, null plugins)
}

// Capture is an open microphone.
type Capture struct{ d *device }

var _ hal.Capture = (*Capture)(nil)

// Read fills frame with the next samples (mono, at the codec's rate),
// blocking until the device has them.
func (c *Capture) Read(frame []int16) error { return c.d.read(frame) }

// Close stops the device; a Read blocked in it returns hal.ErrClosed.
func (c *Capture) Close() error { c.d.close(); return nil }

// Stats counts the device's xruns and recoveries.
func (c *Capture) Stats() Stats { return c.d.stats() }

// Params are the device's parameters.
func (c *Capture) Params() Params { return c.d.params }

// Recover handles a transfer error errno (negative: -EPIPE for an
// overrun) the way Read does, counted in Stats: what a real card's xrun
// goes through, for devices (file, null) that never have one.
func (c *Capture) Recover(errno int) error { return c.d.recover(errno) }

// Playback is an open speaker.
type Playback struct{ d *device }

var _ hal.Playback = (*Playback)(nil)

// Write queues frame (mono, at the codec's rate), blocking while the
// device's buffer is full.
func (p *Playback) Write(frame []int16) error { return p.d.write(frame) }

// Close drops what is queued and closes the device; a blocked Write
// returns hal.ErrClosed.
func (p *Playback) Close() error { p.d.close(); return nil }

// Stats counts the device's xruns and recoveries.
func (p *Playback) Stats() Stats { return p.d.stats() }

// Params are the device's parameters.
func (p *Playback) Params() Params { return p.d.params }

// Recover handles a transfer error errno (-EPIPE for an underrun) the way
// Write does, refilling the start-up silence, counted in Stats.
func (p *Playback) Recover(errno int) error { return p.d.recover(errno) }

// Check opens and closes every route's devices once (at 8 kHz), returning
// the failures: a board's start-up warning that a device is missing or
// busy, before a call runs into it.
func (a *Audio) Check() []error {
	var errs []error
	seen := map[string]bool{}
	for _, route := range a.AudioRoutes() {
		r := a.cfg.Routes[route]
		for _, capture := range []bool{true, false} {
			name := r.Playback
			if capture {
				name = r.Capture
			}
			key := streamName(capture) + " " + name
			if seen[key] {
				continue
			}
			seen[key] = true
			d, err := a.openDevice(route, capture, 8000, 160)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			d.close()
		}
	}
	return errs
}
