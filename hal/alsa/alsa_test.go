//go:build cgo

package alsa

// These tests run the real alsa-lib code through its file and null plugins
// (testdata/asoundrc, loaded alone through ALSA_CONFIG_PATH): no sound
// card. Those plugins have no clock, so the driver paces them by the wall
// clock; the tests check data, formats, errors and recovery, not timing.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"deskphone/hal"
)

func TestMain(m *testing.M) {
	conf, err := filepath.Abs("testdata/asoundrc")
	if err == nil {
		err = os.Setenv("ALSA_CONFIG_PATH", conf)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func writeRaw(t *testing.T, path string, s []int16) {
	t.Helper()
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readRaw(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// files is a handset route on the test PCMs: capture reads in, playback
// writes out.
func files(t *testing.T, in string, rate, channels int) (Route, string) {
	out := filepath.Join(t.TempDir(), "out.raw")
	if in == "" {
		in = "/dev/null"
	}
	return Route{Capture: fmt.Sprintf("in:FILE=%q", in), Playback: fmt.Sprintf("out:FILE=%q", out), Rate: rate, Channels: channels}, out
}

func newAudio(t *testing.T, routes map[string]Route) *Audio {
	t.Helper()
	a, err := New(Config{Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// play writes s to a route's playback in 20 ms frames and closes it.
func play(t *testing.T, a *Audio, rate int, s []int16) Params {
	t.Helper()
	p, err := a.OpenPlayback(rate, rate/50)
	if err != nil {
		t.Fatal(err)
	}
	for f := range slicesChunk(s, rate/50) {
		if err := p.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	prm := p.(*Playback).Params()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return prm
}

func slicesChunk(s []int16, n int) func(func([]int16) bool) {
	return func(yield func([]int16) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// Playback at the device's rate writes exactly the samples, after the
// start-up silence.
func TestPlaybackWritesSamples(t *testing.T) {
	r, out := files(t, "", 0, 0)
	a := newAudio(t, map[string]Route{"handset": r})
	want := tone(4000, 8000, 1000, 12000, 0)
	prm := play(t, a, 8000, want)
	if prm.Rate != 8000 || prm.Channels != 1 || prm.Card {
		t.Errorf("params %+v: want 8000 Hz mono, no card", prm)
	}
	got := readRaw(t, out)
	pre := prm.Prefill
	if len(got) != pre+len(want) {
		t.Fatalf("the file holds %d samples, want %d of silence then %d written", len(got), pre, len(want))
	}
	for i, v := range got[:pre] {
		if v != 0 {
			t.Fatalf("start-up sample %d is %d, want silence", i, v)
		}
	}
	for i, v := range got[pre:] {
		if v != want[i] {
			t.Fatalf("sample %d is %d, written %d", i, v, want[i])
		}
	}
}

// A device at another rate gets the tone resampled: same frequency and
// level, the length in proportion.
func TestPlaybackResamples(t *testing.T) {
	for _, c := range []struct{ codec, dev int }{{8000, 44100}, {16000, 48000}, {48000, 44100}} {
		t.Run(fmt.Sprintf("%d-%d", c.codec, c.dev), func(t *testing.T) {
			r, out := files(t, "", c.dev, 0)
			a := newAudio(t, map[string]Route{"handset": r})
			in := tone(c.codec/2, c.codec, 1000, 16000, 0)
			prm := play(t, a, c.codec, in)
			if prm.Rate != c.dev || prm.CodecRate != c.codec {
				t.Fatalf("params %+v: want the device at %d, the codec at %d", prm, c.dev, c.codec)
			}
			got := readRaw(t, out)[prm.Prefill:]
			checkRatio(t, "playback", len(in), len(got), c.codec, c.dev)
			checkTone(t, "playback", got, c.dev)
		})
	}
}

// Capture at the device's rate reads exactly the file's samples, then
// silence where the file ends.
func TestCaptureReadsSamples(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.raw")
	want := tone(2400, 8000, 700, 9000, 0)
	writeRaw(t, in, want)
	r, _ := files(t, in, 0, 0)
	a := newAudio(t, map[string]Route{"handset": r})
	c, err := a.OpenCapture(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make([]int16, 0, 3200)
	frame := make([]int16, 160)
	for len(got) < 3200 {
		if err := c.Read(frame); err != nil {
			t.Fatal(err)
		}
		got = append(got, frame...)
	}
	for i, v := range got {
		w := int16(0)
		if i < len(want) {
			w = want[i]
		}
		if v != w {
			t.Fatalf("captured sample %d is %d, the file has %d (silence past its end)", i, v, w)
		}
	}
	if s := c.(*Capture).Stats(); s.Frames != 3200 || s.Xruns != 0 {
		t.Errorf("stats %+v: want 3200 frames, no xruns", s)
	}
}

// A device at another rate, or in stereo, is resampled and mixed down.
func TestCaptureResamplesAndMixes(t *testing.T) {
	for _, c := range []struct{ dev, ch, codec int }{{48000, 1, 8000}, {44100, 2, 16000}, {44100, 1, 48000}} {
		t.Run(fmt.Sprintf("%dx%d-%d", c.dev, c.ch, c.codec), func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in.raw")
			mono := tone(c.dev/2, c.dev, 1000, 16000, 0)
			inter := make([]int16, len(mono)*c.ch)
			upmix(mono, inter, c.ch)
			writeRaw(t, in, inter)
			r, _ := files(t, in, c.dev, c.ch)
			a := newAudio(t, map[string]Route{"handset": r})
			hc, err := a.OpenCaptureOn("handset", c.codec, c.codec/50)
			if err != nil {
				t.Fatal(err)
			}
			cp := hc.(*Capture)
			defer cp.Close()
			if prm := cp.Params(); prm.Rate != c.dev || prm.Channels != c.ch {
				t.Fatalf("params %+v: want %d Hz, %d channels", prm, c.dev, c.ch)
			}
			got := make([]int16, 0, c.codec/2)
			frame := make([]int16, c.codec/50)
			for len(got) < c.codec*2/5 { // within the file
				if err := cp.Read(frame); err != nil {
					t.Fatal(err)
				}
				got = append(got, frame...)
			}
			checkTone(t, "capture", got, c.codec)
		})
	}
}

// A stereo playback device gets the mono frames in both channels.
func TestPlaybackUpmixes(t *testing.T) {
	r, out := files(t, "", 0, 2)
	a := newAudio(t, map[string]Route{"handset": r})
	want := tone(800, 8000, 1000, 12000, 0)
	prm := play(t, a, 8000, want)
	got := readRaw(t, out)[prm.Prefill*2:]
	if prm.Channels != 2 || len(got) != 2*len(want) {
		t.Fatalf("%d channels, %d samples: want 2 channels of %d", prm.Channels, len(got), len(want))
	}
	for i, v := range want {
		if got[2*i] != v || got[2*i+1] != v {
			t.Fatalf("frame %d is %d/%d, want %d in both channels", i, got[2*i], got[2*i+1], v)
		}
	}
}

// A PCM that does not exist: the SDK's code for the stream, the device's
// name and ALSA's reason in the error.
func TestMissingDevice(t *testing.T) {
	const mic, spk = "plughw:CARD=Nope,DEV=0", "hw:CARD=Gone"
	a := newAudio(t, map[string]Route{"handset": {Capture: mic, Playback: spk}})
	_, err := a.OpenCapture(8000, 160)
	checkError(t, err, CodeMicStartFail, mic, "open")
	_, err = a.OpenPlayback(8000, 160)
	checkError(t, err, CodeSpeakerStartFail, spk, "open")
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("%v: want errors.Is ENOENT (ALSA's errno)", err)
	}
	errs := a.Check()
	if len(errs) != 2 {
		t.Fatalf("Check: %v, want the microphone and the speaker", errs)
	}
	checkError(t, errs[0], CodeMicStartFail, mic, "open")
	checkError(t, errs[1], CodeSpeakerStartFail, spk, "open")
	good, _ := files(t, "", 0, 0)
	if errs := newAudio(t, map[string]Route{"handset": good}).Check(); len(errs) != 0 {
		t.Errorf("Check on devices that open: %v", errs)
	}
}

func checkError(t *testing.T, err error, code int, device, op string) {
	t.Helper()
	t.Log(err)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T): want *alsa.Error", err, err)
	}
	if e.Code != code || e.SDKCode() != code || e.Device != device || e.Op != op || e.Reason == "" {
		t.Errorf("error %+v: want code %d, device %q, op %q, ALSA's reason", e, code, device, op)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("%q", device)) || !strings.Contains(err.Error(), fmt.Sprint(code)) {
		t.Errorf("message %q does not name the device and the code", err)
	}
}

// Each step of opening maps to the SDK's code for it.
func TestOpenCodes(t *testing.T) {
	busy, acces, noent := -int(syscall.EBUSY), -int(syscall.EACCES), -int(syscall.ENOENT)
	for _, c := range []struct {
		capture      bool
		stage, errno int
		want         int
	}{
		{true, stageOpen, noent, CodeMicStartFail},
		{true, stageOpen, busy, CodeMicOccupied},
		{true, stageOpen, acces, CodeMicNotAuthorized},
		{true, stageRate, -int(syscall.EINVAL), CodeUnsupportedRate},
		{true, stageChannels, -int(syscall.EINVAL), CodeMicSetParamFail},
		{true, stagePrepare, -int(syscall.EIO), CodeMicStartFail},
		{false, stageOpen, busy, CodeSpeakerStartFail},
		{false, stageRate, -int(syscall.EINVAL), CodeUnsupportedRate},
		{false, stagePeriod, -int(syscall.EINVAL), CodeSpeakerSetParamFail},
		{false, stagePrepare, -int(syscall.EIO), CodeSpeakerStartFail},
	} {
		if got := openCode(c.capture, c.stage, c.errno); got != c.want {
			t.Errorf("%s failing at %s with %s: code %d, want %d", streamName(c.capture), stageOp[c.stage], strerror(c.errno), got, c.want)
		}
	}
}

// A codec rate no device takes is -1306 before ALSA is asked.
func TestUnsupportedRate(t *testing.T) {
	r, _ := files(t, "", 0, 0)
	a := newAudio(t, map[string]Route{"handset": r})
	_, err := a.OpenCapture(1000, 20)
	checkError(t, err, CodeUnsupportedRate, r.Capture, "open")
}

// An xrun goes through snd_pcm_recover, is counted, and the device goes
// on (the plugins never have one: the recovery is driven directly).
func TestXrunRecovery(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.raw")
	writeRaw(t, in, tone(1600, 8000, 500, 8000, 0))
	r, out := files(t, in, 0, 0)
	a := newAudio(t, map[string]Route{"handset": r})
	hp, err := a.OpenPlaybackOn("handset", 8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := a.OpenCaptureOn("handset", 8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	p, c := hp.(*Playback), hc.(*Capture)
	frame := make([]int16, 160)
	for _, dev := range []interface {
		Recover(int) error
		Stats() Stats
	}{p, c} {
		if err := dev.Recover(errEPIPE); err != nil {
			t.Fatalf("recovering an xrun: %v", err)
		}
		if s := dev.Stats(); s.Xruns != 1 || s.Recoveries != 1 {
			t.Errorf("after an xrun: %+v, want 1 xrun, 1 recovery", s)
		}
	}
	if err := p.Write(tone(160, 8000, 500, 8000, 0)); err != nil {
		t.Errorf("write after recovery: %v", err)
	}
	if err := c.Read(frame); err != nil {
		t.Errorf("read after recovery: %v", err)
	}
	_ = p.Close()
	_ = c.Close()
	// The recovery queued the start-up silence again: two prefills, then the frame.
	pre := p.Params().Prefill
	if got := readRaw(t, out); len(got) != 2*pre+160 {
		t.Errorf("playback file: %d samples, want %d (two prefills and a frame)", len(got), 2*pre+160)
	}
	if s := a.Stats(); s.Xruns != 2 || s.Recoveries != 2 {
		t.Errorf("the board's totals: %+v, want 2 xruns and 2 recoveries", s)
	}
	if err := p.Recover(errEPIPE); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("recover after close: %v, want hal.ErrClosed", err)
	}
}

// Close wakes a Read that waits for the device.
func TestCloseWakesRead(t *testing.T) {
	r, _ := files(t, "", 0, 0)
	a := newAudio(t, map[string]Route{"handset": r})
	c, err := a.OpenCapture(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Read(make([]int16, 8000*60)) }() // a minute of audio
	deadline := time.Now().Add(5 * time.Second)
	for c.(*Capture).Stats().Frames == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // until the Read is under way
	}
	_ = c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, hal.ErrClosed) {
			t.Errorf("Read after Close: %v, want hal.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5 s after Close")
	}
	if err := c.Read(make([]int16, 160)); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Read on a closed capture: %v", err)
	}
}

// Routes: handset by default, SetAudioRoute picks another, an unknown one is
// refused naming those there are; a 5 ms period gets a 4-period buffer.
func TestRoutesAndPeriod(t *testing.T) {
	h, _ := files(t, "", 0, 0)
	s, sOut := files(t, "", 0, 0)
	a, err := New(Config{Routes: map[string]Route{"handset": h, "speaker": s}, Period: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.SetAudioRoute("headset"); err == nil || !strings.Contains(err.Error(), `no "headset" audio route; it has handset, speaker`) {
		t.Errorf("SetAudioRoute(headset): %v", err)
	}
	if err := a.SetAudioRoute("speaker"); err != nil {
		t.Fatal(err)
	}
	prm := play(t, a, 8000, tone(160, 8000, 1000, 1000, 0))
	if prm.Device != s.Playback || prm.Route != "speaker" {
		t.Errorf("after SetAudioRoute(speaker) playback opened %s on %s", prm.Device, prm.Route)
	}
	// 5 ms periods; the buffer holds a 20 ms frame (160, rounded up to 161)
	// and two periods; the queue's target is a frame and a period, the
	// prefill the target less a frame.
	if prm.Period != 40 || prm.Buffer != 161+2*40 || prm.Target != 161+40 || prm.Prefill != 40 {
		t.Errorf("period %d, buffer %d, target %d, prefill %d frames: want 40 (5 ms at 8 kHz), 241, 201, 40",
			prm.Period, prm.Buffer, prm.Target, prm.Prefill)
	}
	if got := readRaw(t, sOut); len(got) != 40+160 {
		t.Errorf("the speaker's file has %d samples, want 200 (the prefill and a frame)", len(got))
	}
}

// A profile's mistakes are named with what to do.
func TestNewRefuses(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Routes: map[string]Route{"speaker": {Capture: "a", Playback: "b"}}}, "no handset route"},
		{Config{Routes: map[string]Route{"handset": {Capture: "a"}}}, "route handset needs both a capture and a playback PCM name"},
		{Config{Routes: map[string]Route{"handset": {Capture: "a", Playback: "b", Rate: 1000}}}, "rate 1000 is out of range"},
		{Config{Routes: map[string]Route{"handset": {Capture: "a", Playback: "b"}}, Period: time.Millisecond}, "period 1ms is out of range"},
		{Config{Routes: map[string]Route{"handset": {Capture: "a", Playback: "b"}}, Periods: 1}, "periods 1 is out of range"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want %q", c.cfg, err, c.want)
		}
	}
}

// A frame read and written through the driver allocates nothing.
func TestNoAllocsPerFrame(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.raw")
	writeRaw(t, in, tone(48000, 48000, 1000, 8000, 0))
	r, _ := files(t, in, 48000, 2)
	a := newAudio(t, map[string]Route{"handset": r})
	c, err := a.OpenCapture(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := a.OpenPlayback(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	frame := make([]int16, 160)
	allocs := testing.AllocsPerRun(20, func() {
		if c.Read(frame) != nil || p.Write(frame) != nil {
			t.Fatal("transfer failed")
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}
