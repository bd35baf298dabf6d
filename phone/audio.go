package phone

// Phone-level audio controls, with the SDK's names: the microphone's and
// speaker's software volumes (setAudioCaptureVolume / setAudioPlayOutVolume,
// 0–100), the audio route (setAudioRoute: handset, speaker, headset), the
// ringer, and startPlayMusic / stopPlayMusic (a WAV file the far end hears
// instead of the microphone). They act on the board's devices through a
// wrapper of hal.Audio, so every call's stream gets them in its source and
// sink path without knowing: volumes as media.Gain, music in place of the
// captured frames.

import (
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"deskphone/hal"
	"deskphone/hal/wav"
	"deskphone/phone/media"
)

// Audio routes (the SDK's Earpiece is the handset, Speakerphone the speaker).
const (
	RouteHandset = "handset"
	RouteSpeaker = "speaker"
	RouteHeadset = "headset"
)

// AudioRouter is a board's audio with several device pairs, one per route
// (the board profile's audio.routes): SetAudioRoute picks the pair that
// later opens use. Without one the board has a single pair, and the route
// is only remembered and reported.
type AudioRouter interface {
	AudioRoutes() []string
	SetAudioRoute(route string) error
}

// AudioState is GET /v1/audio's answer.
type AudioState struct {
	CaptureVolume int      `json:"captureVolume"` // 0-100
	PlayOutVolume int      `json:"playOutVolume"` // 0-100
	Route         string   `json:"route"`
	Routes        []string `json:"routes"`
	Ringing       bool     `json:"ringing"`         // the ringer is playing
	Music         string   `json:"music,omitempty"` // the file the far end hears (startPlayMusic)
}

// Ring tone: a dual tone, 1 s on and 3 s off, at 8 kHz on the speaker.
const (
	ringRate           = 8000
	ringFrame          = ringRate / 50 // 20 ms
	ringOn, ringPeriod = ringRate, 4 * ringRate
	ringF1, ringF2     = 440, 480 // Hz, the North American ring (ITU-T E.180)
	ringAmp            = 6000     // each tone, about -15 dBFS
)

type musicClip struct {
	path string
	pcm  []int16
	rate int
}

// audioCtl is the phone's audio controls; its own lock, never held across
// a device's Read or Write.
type audioCtl struct {
	p              *Phone
	raw            hal.Audio // the board's devices; nil = none
	capGain, pGain media.Gain
	music          atomic.Pointer[musicClip]
	route          atomic.Pointer[string]

	mu   sync.Mutex // guards ring; taken before p.mu and any session's
	ring *ringer
}

// initAudio puts the controls between the phone and the board's devices.
func (p *Phone) initAudio(audio hal.Audio) {
	a := &audioCtl{p: p, raw: audio}
	r := RouteHandset
	if rt, ok := audio.(AudioRouter); ok && len(rt.AudioRoutes()) > 0 && !slices.Contains(rt.AudioRoutes(), r) {
		r = rt.AudioRoutes()[0]
	}
	a.route.Store(&r)
	p.au = a
	if audio != nil {
		p.audio = controlledAudio{a}
	}
}

// SetAudioCaptureVolume sets the microphone's volume, 0–100 (100: as the
// device gives it), for this call and the next.
func (p *Phone) SetAudioCaptureVolume(v int) error {
	if err := p.au.capGain.SetVolume(v); err != nil {
		return newError(ErrSIPBadRequest, "setAudioCaptureVolume: %v", err)
	}
	return nil
}

// AudioCaptureVolume is getAudioCaptureVolume.
func (p *Phone) AudioCaptureVolume() int { return p.au.capGain.Volume() }

// SetAudioPlayOutVolume sets the speaker's volume for calls, 0–100.
func (p *Phone) SetAudioPlayOutVolume(v int) error {
	if err := p.au.pGain.SetVolume(v); err != nil {
		return newError(ErrSIPBadRequest, "setAudioPlayOutVolume: %v", err)
	}
	return nil
}

// AudioPlayOutVolume is getAudioPlayOutVolume.
func (p *Phone) AudioPlayOutVolume() int { return p.au.pGain.Volume() }

// AudioRoute is the current route.
func (p *Phone) AudioRoute() string { return *p.au.route.Load() }

// AudioRoutes are the routes this board has.
func (p *Phone) AudioRoutes() []string {
	if rt, ok := p.au.raw.(AudioRouter); ok {
		return rt.AudioRoutes()
	}
	return []string{RouteHandset, RouteSpeaker, RouteHeadset}
}

// SetAudioRoute picks the route (handset, speaker, headset; the SDK's
// Earpiece and Speakerphone too, any case). On a board with routes the
// call being talked on moves to the new devices at once.
func (p *Phone) SetAudioRoute(route string) error {
	r := strings.ToLower(strings.TrimSpace(route))
	switch r {
	case "earpiece":
		r = RouteHandset
	case "speakerphone":
		r = RouteSpeaker
	}
	routes := p.AudioRoutes()
	if !slices.Contains(routes, r) {
		return newError(ErrSIPBadRequest, "setAudioRoute: '%s' is not a route of this board; use one of %s", route, strings.Join(routes, ", "))
	}
	a := p.au
	a.mu.Lock()
	a.route.Store(&r)
	rt, routed := a.raw.(AudioRouter)
	if routed && a.ring == nil { // the ringer keeps the speaker until it stops
		if err := rt.SetAudioRoute(r); err != nil {
			a.mu.Unlock()
			return newError(ErrSpeakerStartFail, "setAudioRoute %s: %v", r, err)
		}
	}
	a.mu.Unlock()
	if !routed {
		return nil
	}
	p.mu.Lock()
	owner := p.audioOwner
	p.mu.Unlock()
	if owner != nil { // reopen the call's devices on the new route
		owner.releaseAudio()
		owner.claimAudio()
	}
	return nil
}

// StartPlayMusic plays a WAV file (16-bit PCM, any rate, mono or stereo)
// to the far end in place of the microphone, in a loop, until
// StopPlayMusic: on the call being talked on now and on any later one.
func (p *Phone) StartPlayMusic(path string) error {
	if strings.TrimSpace(path) == "" {
		return newError(ErrSIPBadRequest, "startPlayMusic: give 'path', a WAV file on the phone")
	}
	w, err := wav.ReadFile(path)
	if err != nil {
		return newError(ErrSIPBadRequest, "startPlayMusic: %v", err)
	}
	p.au.music.Store(&musicClip{path: path, pcm: w.Mono(), rate: w.Rate})
	p.log.Info("playing music to the far end", "file", path)
	return nil
}

// StopPlayMusic gives the far end the microphone again; without music
// playing it does nothing.
func (p *Phone) StopPlayMusic() error {
	p.au.music.Store(nil)
	return nil
}

// AudioState reports volumes, route, ringer and music.
func (p *Phone) AudioState() AudioState {
	a := p.au
	st := AudioState{
		CaptureVolume: a.capGain.Volume(), PlayOutVolume: a.pGain.Volume(),
		Route: p.AudioRoute(), Routes: p.AudioRoutes(),
	}
	a.mu.Lock()
	st.Ringing = a.ring != nil
	a.mu.Unlock()
	if m := a.music.Load(); m != nil {
		st.Music = m.path
	}
	return st
}

// controlledAudio opens the board's devices with the controls applied.
type controlledAudio struct{ a *audioCtl }

func (c controlledAudio) OpenCapture(rate, frame int) (hal.Capture, error) {
	d, err := c.a.raw.OpenCapture(rate, frame)
	if err != nil {
		return nil, err
	}
	return &controlledCapture{Capture: d, a: c.a, rate: rate}, nil
}

// OpenPlayback takes the speaker from the ringer first: a call's sound
// wins.
func (c controlledAudio) OpenPlayback(rate, frame int) (hal.Playback, error) {
	c.a.mu.Lock()
	c.a.stopRingerLocked()
	c.a.mu.Unlock()
	d, err := c.a.raw.OpenPlayback(rate, frame)
	if err != nil {
		return nil, err
	}
	return controlledPlayback{Playback: d, g: &c.a.pGain}, nil
}

// controlledCapture is the microphone with its volume, or the music.
// Read runs on the stream's sender goroutine only.
type controlledCapture struct {
	hal.Capture
	a      *audioCtl
	rate   int
	clip   *musicClip        // the clip player was made for
	player *media.LoopSource // music at this device's rate
}

func (c *controlledCapture) Read(frame []int16) error {
	if err := c.Capture.Read(frame); err != nil {
		return err
	}
	m := c.a.music.Load()
	if m == nil {
		c.a.capGain.Apply(frame)
		return nil
	}
	if m != c.clip { // resampled once per clip, not per frame
		c.clip, c.player = m, media.NewLoopSource(m.pcm, m.rate, c.rate)
	}
	return c.player.Read(frame)
}

type controlledPlayback struct {
	hal.Playback
	g *media.Gain
}

func (c controlledPlayback) Write(frame []int16) error {
	c.g.Apply(frame)
	return c.Playback.Write(frame)
}

// ---------------------------------------------------------------- ringer

// ringer plays the ring tone on the speaker until stopped.
type ringer struct {
	pb   hal.Playback
	stop chan struct{}
	done chan struct{}
}

// updateRinger rings while an inbound call rings and no call has the
// sound devices (a call being talked on hears the waiting tone instead).
func (p *Phone) updateRinger() {
	a := p.au
	a.mu.Lock()
	defer a.mu.Unlock()
	p.mu.Lock()
	owner := p.audioOwner
	p.mu.Unlock()
	ringing := false
	for _, s := range p.sessionList() {
		if s.State() == StateRinging {
			ringing = true
		}
	}
	if ringing && owner == nil {
		a.startRingerLocked()
	} else {
		a.stopRingerLocked()
	}
}

func (a *audioCtl) startRingerLocked() {
	if a.ring != nil || a.raw == nil {
		return
	}
	rt, routed := a.raw.(AudioRouter)
	if routed && slices.Contains(rt.AudioRoutes(), RouteSpeaker) {
		if err := rt.SetAudioRoute(RouteSpeaker); err != nil {
			a.p.log.Warn("ringer: cannot switch to the speaker; ringing on the current route", "err", err)
		}
	}
	pb, err := a.raw.OpenPlayback(ringRate, ringFrame)
	if err != nil {
		// Logged, not onError: the call itself reports a missing speaker
		// when answered, and a ringer per call would say it twice.
		a.p.log.Warn("ringer: the speaker failed to start; the call rings silently", "err", err)
		a.restoreRouteLocked()
		return
	}
	r := &ringer{pb: pb, stop: make(chan struct{}), done: make(chan struct{})}
	a.ring = r
	go r.play(a.p.log)
}

func (a *audioCtl) stopRingerLocked() {
	r := a.ring
	if r == nil {
		return
	}
	a.ring = nil
	close(r.stop)
	_ = r.pb.Close() // wakes a Write in progress
	<-r.done
	a.restoreRouteLocked()
}

// restoreRouteLocked puts the agent's route back after ringing.
func (a *audioCtl) restoreRouteLocked() {
	if rt, ok := a.raw.(AudioRouter); ok {
		if err := rt.SetAudioRoute(*a.route.Load()); err != nil {
			a.p.log.Warn("cannot switch the audio route back after ringing", "route", *a.route.Load(), "err", err)
		}
	}
}

// play writes the ring tone's cadence; the device's blocking Write paces it.
func (r *ringer) play(log *slog.Logger) {
	defer close(r.done)
	frame := make([]int16, ringFrame)
	at := 0 // position in the cadence, in samples
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		ringTone(frame, at)
		at = (at + len(frame)) % ringPeriod
		if err := r.pb.Write(frame); err != nil {
			select {
			case <-r.stop:
			default:
				log.Warn("ringer: the speaker failed; the call rings on silently", "err", err)
			}
			return
		}
	}
}

// ringTone fills frame with the cadence from sample at: the two tones
// during the first second of each 4 s, silence after.
func ringTone(frame []int16, at int) {
	for i := range frame {
		n := (at + i) % ringPeriod
		if n >= ringOn {
			frame[i] = 0
			continue
		}
		t := float64(n) / ringRate
		frame[i] = int16(ringAmp*math.Sin(2*math.Pi*ringF1*t) + ringAmp*math.Sin(2*math.Pi*ringF2*t))
	}
}
