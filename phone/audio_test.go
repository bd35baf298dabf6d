package phone

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/hal"
	"deskphone/hal/wav"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal/sigtest"
)

// testAudio is a board's sound: the microphone gives a constant level, the
// speaker records what it plays; both paced at 20 ms like a sound card.
type testAudio struct {
	level     int16
	failAfter int // microphone reads before it fails; 0 = never

	mu        sync.Mutex
	opens     []string // "capture@RATE" / "playback@RATE", in order
	played    []int16  // the latest playback's samples
	routeLog  []string
	routes    []string
	openCount int // playbacks open now
}

type testCapture struct {
	a    *testAudio
	n    int
	done chan struct{}
	once sync.Once
}

type testPlayback struct {
	a    *testAudio
	done chan struct{}
	once sync.Once
}

func newTestAudio(level int16) *testAudio { return &testAudio{level: level} }

func (a *testAudio) OpenCapture(int, int) (hal.Capture, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opens = append(a.opens, "capture")
	return &testCapture{a: a, done: make(chan struct{})}, nil
}

func (a *testAudio) OpenPlayback(int, int) (hal.Playback, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.openCount > 0 {
		return nil, errors.New("speaker busy: close it first") // as the sim board
	}
	a.openCount++
	a.opens = append(a.opens, "playback")
	a.played = nil
	return &testPlayback{a: a, done: make(chan struct{})}, nil
}

func pace(done chan struct{}) error {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-done:
		return hal.ErrClosed
	case <-t.C:
		return nil
	}
}

func (c *testCapture) Read(f []int16) error {
	if err := pace(c.done); err != nil {
		return err
	}
	if c.n++; c.a.failAfter > 0 && c.n > c.a.failAfter {
		return errors.New("capture device hw:0 unplugged")
	}
	for i := range f {
		f[i] = c.a.level
	}
	return nil
}

func (c *testCapture) Close() error { c.once.Do(func() { close(c.done) }); return nil }

func (p *testPlayback) Write(f []int16) error {
	if err := pace(p.done); err != nil {
		return err
	}
	p.a.mu.Lock()
	p.a.played = append(p.a.played, f...)
	p.a.mu.Unlock()
	return nil
}

func (p *testPlayback) Close() error {
	p.once.Do(func() {
		close(p.done)
		p.a.mu.Lock()
		p.a.openCount--
		p.a.mu.Unlock()
	})
	return nil
}

func (a *testAudio) snapshot() (opens []string, played []int16, openNow int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.opens), slices.Clone(a.played), a.openCount
}

// routedAudio is testAudio with routes (an AudioRouter).
type routedAudio struct{ *testAudio }

func (r routedAudio) AudioRoutes() []string { return r.routes }
func (r routedAudio) SetAudioRoute(route string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routeLog = append(r.routeLog, route)
	return nil
}

// connectFar places a call answered by a farRTP.
func connectFar(t *testing.T, h *harness) (string, *farRTP) {
	t.Helper()
	sid, o := h.dial()
	far := newFarRTP(t, o.Req.SDP)
	o.Answer(sigtest.NewDialog(far.answer))
	h.waitState(sid, StateConnected)
	return sid, far
}

func meanAbs(s []int16) float64 {
	var sum float64
	for _, x := range s {
		sum += math.Abs(float64(x))
	}
	return sum / float64(max(len(s), 1))
}

// The microphone's volume scales what the far end hears by (v/100)².
func TestCaptureVolumeScalesWhatFarEndHears(t *testing.T) {
	audio := newTestAudio(8000)
	h := newHarness(t, audio, nil)
	_, far := connectFar(t, h)
	full := meanAbs(far.received(t, 25)[160*10:]) // past the device's start
	if full < 7000 {
		t.Fatalf("at volume 100 the far end hears %.0f, want about 8000", full)
	}
	if err := h.p.SetAudioCaptureVolume(50); err != nil {
		t.Fatal(err)
	}
	far.received(t, 5) // frames already in flight
	half := meanAbs(far.received(t, 20))
	if want := full * 0.25; math.Abs(half-want) > want*0.05 {
		t.Errorf("at volume 50 the far end hears %.0f, want %.0f (a quarter of %.0f)", half, want, full)
	}
	if h.p.AudioCaptureVolume() != 50 {
		t.Errorf("getAudioCaptureVolume = %d, want 50", h.p.AudioCaptureVolume())
	}
	for _, v := range []int{-1, 101} {
		if err := h.p.SetAudioCaptureVolume(v); CodeOf(err) != ErrSIPBadRequest || !strings.Contains(err.Error(), "0 (silent) to 100") {
			t.Errorf("SetAudioCaptureVolume(%d) = %v, want a 400 naming the range", v, err)
		}
		if err := h.p.SetAudioPlayOutVolume(v); CodeOf(err) != ErrSIPBadRequest {
			t.Errorf("SetAudioPlayOutVolume(%d) = %v, want a 400", v, err)
		}
	}
}

// The speaker's volume scales what the agent hears.
func TestPlayOutVolumeScalesWhatAgentHears(t *testing.T) {
	audio := newTestAudio(0)
	h := newHarness(t, audio, nil)
	if err := h.p.SetAudioPlayOutVolume(50); err != nil {
		t.Fatal(err)
	}
	_, far := connectFar(t, h)
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() { // a far end talking at 8000, paced like one
		defer close(sent)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				far.send(1, func(int) int16 { return 8000 })
			}
		}
	}()
	defer func() { close(stop); <-sent }()
	var played []int16
	eventually(t, "the far end's audio to play", func() bool {
		_, played, _ = audio.snapshot()
		return slices.ContainsFunc(played, func(x int16) bool { return x != 0 })
	})
	dec := make([]int16, 1)
	enc := make([]byte, 1)
	if _, err := media.NewPCMU().Encode([]int16{8000}, enc); err != nil {
		t.Fatal(err)
	}
	if _, err := media.NewPCMU().Decode(enc, dec); err != nil {
		t.Fatal(err)
	}
	want := float64(dec[0]) * 0.25
	eventually(t, "a whole frame at a quarter of the far end's level", func() bool {
		_, played, _ = audio.snapshot()
		for i := 0; i+160 <= len(played); i += 160 {
			if m := meanAbs(played[i : i+160]); math.Abs(m-want) < want*0.02 {
				return true
			}
		}
		return false
	})
	if peak := slices.Max(played); float64(peak) > want*1.02 {
		t.Errorf("the speaker played %d, above volume 50's %.0f", peak, want)
	}
}

// A ringing call rings on the speaker with the dual tone; answering stops
// the ringer before the call opens the speaker.
func TestRingerRingsUntilAnswered(t *testing.T) {
	audio := newTestAudio(0)
	h := newHarness(t, audio, nil)
	sid := h.ring(sigtest.NewIncoming("5551234", "1001", "", nil))
	var played []int16
	eventually(t, "half a second of ring tone", func() bool {
		_, played, _ = audio.snapshot()
		return len(played) >= ringRate/2
	})
	for _, f := range []float64{ringF1, ringF2} {
		if l := media.ToneLevel(played[:ringRate/2], ringRate, f); l < 0.1 {
			t.Errorf("ring tone: %.0f Hz at %.3f of full scale, want about %.3f", f, l, float64(ringAmp)/32767)
		}
	}
	if l := media.ToneLevel(played[:ringRate/2], ringRate, 1000); l > 0.01 {
		t.Errorf("ring tone has 1000 Hz at %.3f", l)
	}
	if !h.p.AudioState().Ringing {
		t.Error("AudioState().Ringing is false while ringing")
	}
	if err := h.p.Answer(sid); err != nil {
		t.Fatal(err)
	}
	h.waitState(sid, StateConnected)
	eventually(t, "the call's speaker open, the ringer's closed", func() bool {
		opens, _, n := audio.snapshot()
		return n == 1 && len(opens) == 3 // ring playback, then the call's capture and playback
	})
	if h.p.AudioState().Ringing {
		t.Error("still ringing after the answer")
	}
	h.rec.flush(t, h.p.bus)
	for _, e := range h.rec.of(sid, event.Error) {
		t.Errorf("onError %+v: the ringer must give the speaker up first", e.Data)
	}
}

// The ring cadence: both tones for 1 s, silence for 3 s, again.
func TestRingToneCadence(t *testing.T) {
	frame := make([]int16, ringPeriod*2)
	ringTone(frame, 0)
	for cycle := range 2 {
		on := frame[cycle*ringPeriod : cycle*ringPeriod+ringOn]
		off := frame[cycle*ringPeriod+ringOn : (cycle+1)*ringPeriod]
		if l := media.ToneLevel(on, ringRate, ringF1); l < 0.1 {
			t.Errorf("cycle %d: %d Hz at %.3f during the ring", cycle, ringF1, l)
		}
		if slices.ContainsFunc(off, func(x int16) bool { return x != 0 }) {
			t.Errorf("cycle %d: sound during the 3 s pause", cycle)
		}
	}
	// A frame that starts mid-cadence continues it.
	part := make([]int16, 160)
	ringTone(part, ringOn-80)
	if !slices.Equal(part, frame[ringOn-80:ringOn+80]) {
		t.Error("ringTone from an offset differs from the cadence")
	}
}

// While the agent talks, a second call gives the waiting tone, not the
// ringer (the speaker is the call's).
func TestNoRingerDuringACall(t *testing.T) {
	audio := newTestAudio(0)
	h := newHarness(t, audio, nil)
	connectFar(t, h)
	eventually(t, "the call's devices", func() bool { opens, _, _ := audio.snapshot(); return len(opens) == 2 })
	h.ring(sigtest.NewIncoming("5551234", "1001", "", nil))
	h.rec.flush(t, h.p.bus)
	if h.p.AudioState().Ringing {
		t.Error("the ringer plays during a call")
	}
	if opens, _, _ := audio.snapshot(); len(opens) != 2 {
		t.Errorf("devices opened %v, want only the call's", opens)
	}
}

// setAudioRoute: names, the SDK's aliases, a refused route naming the
// board's; on a board with routes the call's devices are reopened and the
// ringer rings on the speaker.
func TestAudioRoute(t *testing.T) {
	audio := newTestAudio(0)
	audio.routes = []string{RouteHandset, RouteSpeaker}
	h := newHarness(t, routedAudio{audio}, nil)
	if r := h.p.AudioRoute(); r != RouteHandset {
		t.Errorf("initial route %q, want handset", r)
	}
	if err := h.p.SetAudioRoute("headset"); CodeOf(err) != ErrSIPBadRequest || !strings.Contains(err.Error(), "handset, speaker") {
		t.Errorf("SetAudioRoute(headset) on a board without one = %v, want a 400 listing handset, speaker", err)
	}
	connectFar(t, h)
	eventually(t, "the call's devices", func() bool { opens, _, _ := audio.snapshot(); return len(opens) == 2 })
	if err := h.p.SetAudioRoute("Speakerphone"); err != nil {
		t.Fatal(err)
	}
	if r := h.p.AudioState().Route; r != RouteSpeaker {
		t.Errorf("route %q after Speakerphone, want speaker", r)
	}
	eventually(t, "the call's devices reopened on the new route", func() bool {
		opens, _, n := audio.snapshot()
		return len(opens) == 4 && n == 1
	})
	audio.mu.Lock()
	log := slices.Clone(audio.routeLog)
	audio.mu.Unlock()
	if !slices.Equal(log, []string{RouteSpeaker}) {
		t.Errorf("board routes set %v, want [speaker]", log)
	}
}

func TestAudioRouteWithoutRouter(t *testing.T) {
	h := newHarness(t, newTestAudio(0), nil)
	for in, want := range map[string]string{"Earpiece": RouteHandset, "speaker": RouteSpeaker, " HEADSET ": RouteHeadset} {
		if err := h.p.SetAudioRoute(in); err != nil || h.p.AudioRoute() != want {
			t.Errorf("SetAudioRoute(%q) = %v, route %q; want %q", in, err, h.p.AudioRoute(), want)
		}
	}
	if err := h.p.SetAudioRoute("bluetooth"); CodeOf(err) != ErrSIPBadRequest {
		t.Errorf("SetAudioRoute(bluetooth) = %v, want a 400", err)
	}
}

// startPlayMusic: the far end hears the file instead of the microphone,
// until stopPlayMusic.
func TestPlayMusicToFarEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "music.wav")
	w, err := wav.Create(path, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	clip := make([]int16, 16000)
	for i := range clip {
		clip[i] = int16(10000 * math.Sin(2*math.Pi*660*float64(i)/16000))
	}
	if err := w.Write(clip); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	audio := newTestAudio(0) // a silent microphone
	h := newHarness(t, audio, nil)
	if err := h.p.StartPlayMusic(filepath.Join(t.TempDir(), "missing.wav")); CodeOf(err) != ErrSIPBadRequest || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("StartPlayMusic(missing) = %v, want a 400 naming the file", err)
	}
	_, far := connectFar(t, h)
	if err := h.p.StartPlayMusic(path); err != nil {
		t.Fatal(err)
	}
	if st := h.p.AudioState(); st.Music != path {
		t.Errorf("AudioState().Music = %q, want %q", st.Music, path)
	}
	far.received(t, 5) // frames already in flight
	got := far.received(t, 25)
	if l := media.ToneLevel(got, 8000, 660); l < 0.2 {
		t.Errorf("the far end hears the music's 660 Hz at %.3f, want about 0.3", l)
	}
	if err := h.p.StopPlayMusic(); err != nil {
		t.Fatal(err)
	}
	far.received(t, 5)
	if m := meanAbs(far.received(t, 20)); m > 50 {
		t.Errorf("after stopPlayMusic the far end hears %.0f, want the silent microphone", m)
	}
}

// A microphone that fails mid-call: one onError -1302 naming it, and the
// call goes on.
func TestDeviceFailureMidCallReported(t *testing.T) {
	audio := newTestAudio(100)
	audio.failAfter = 5
	h := newHarness(t, audio, nil)
	sid, far := connectFar(t, h)
	e := h.rec.wait(t, sid, event.Error, 1).Data.(ErrorInfo)
	if e.ErrCode != ErrMicStartFail || !strings.Contains(e.ErrMsg, "microphone") || !strings.Contains(e.ErrMsg, "hw:0") {
		t.Errorf("onError %+v, want -1302 naming the microphone and its device", e)
	}
	far.received(t, 10) // silence keeps flowing
	h.rec.flush(t, h.p.bus)
	if n := len(h.rec.of(sid, event.Error)); n != 1 || h.state(sid) != StateConnected {
		t.Errorf("%d onError, state %s; want one, and the call up", n, h.state(sid))
	}
}

// benchCapture is a microphone that never blocks.
type benchCapture struct{}

func (benchCapture) Read(f []int16) error {
	for i := range f {
		f[i] = int16(i * 100)
	}
	return nil
}
func (benchCapture) Close() error { return nil }

// The capture path per 20 ms frame: volume, and music in place of the
// microphone; both must allocate nothing in steady state.
func BenchmarkControlledCapture(b *testing.B) {
	for _, music := range []bool{false, true} {
		b.Run(map[bool]string{false: "volume", true: "music"}[music], func(b *testing.B) {
			a := &audioCtl{}
			if err := a.capGain.SetVolume(70); err != nil {
				b.Fatal(err)
			}
			if music {
				a.music.Store(&musicClip{pcm: make([]int16, 16000), rate: 16000})
			}
			c := &controlledCapture{Capture: benchCapture{}, a: a, rate: 8000}
			frame := make([]int16, 160)
			_ = c.Read(frame) // the clip is resampled once, on the first frame
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Read(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
