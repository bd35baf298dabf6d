//go:build cgo

package aec_test

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"deskphone/hal"
	"deskphone/hal/aec"
)

// board is a fake hal.Audio; with routes it also has the phone's
// AudioRouter methods.
type board struct {
	mic   []int16
	route string
}

func (b *board) OpenCapture(_, _ int) (hal.Capture, error) {
	return &fakeDev{mic: b.mic}, nil
}

func (b *board) OpenPlayback(_, _ int) (hal.Playback, error) { return &fakeDev{}, nil }

type routedBoard struct{ board }

func (b *routedBoard) AudioRoute() string { return b.route }

func (b *routedBoard) AudioRoutes() []string { return []string{"handset", "headset", "speaker"} }
func (b *routedBoard) SetAudioRoute(r string) error {
	if !slices.Contains(b.AudioRoutes(), r) {
		return errors.New("no such route")
	}
	b.route = r
	return nil
}

type control interface {
	hal.Audio
	SetEnabled(bool)
	Enabled() bool
	Stats() aec.Stats
}

// call opens a capture and a playback as a call does, runs n frames and
// closes them; it reports whether the capture was changed.
func call(t *testing.T, a hal.Audio, mic []int16, n int) (changed bool) {
	t.Helper()
	capt, err := a.OpenCapture(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := a.OpenPlayback(8000, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	defer pb.Close()
	buf := make([]int16, 160)
	for range n {
		if err := pb.Write(mic); err != nil {
			t.Fatal(err)
		}
		if err := capt.Read(buf); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(buf, mic) {
			changed = true
		}
	}
	return changed
}

// On a board with routes, Auto cancels on the speaker route only, the
// route reaches the board, and a bad one is the board's error.
func TestWrapRoutedAuto(t *testing.T) {
	if a := aec.Wrap(&routedBoard{board{route: "speaker"}}, aec.AudioOptions{}); !a.(control).Enabled() {
		t.Errorf("a board starting on the speaker route: cancelling off; want on")
	}
	b := &routedBoard{board{mic: ramp(160), route: "handset"}}
	a := aec.Wrap(b, aec.AudioOptions{})
	r, ok := a.(interface {
		control
		AudioRoutes() []string
		SetAudioRoute(string) error
	})
	if !ok {
		t.Fatalf("Wrap of a board with routes is a %T; want one that passes routes on", a)
	}
	if r.Enabled() || call(t, a, b.mic, 10) {
		t.Errorf("on the handset (the phone's first route) the capture was processed; want it untouched")
	}
	if err := r.SetAudioRoute("speaker"); err != nil || b.route != "speaker" {
		t.Fatalf("SetAudioRoute(speaker) = %v, board's route %q", err, b.route)
	}
	if !r.Enabled() || !call(t, a, b.mic, 10) {
		t.Errorf("on the speaker the capture passed through; want it cancelled")
	}
	if err := r.SetAudioRoute("headset"); err != nil || r.Enabled() || call(t, a, b.mic, 10) {
		t.Errorf("on the headset: err %v, enabled %v; want bypass", err, r.Enabled())
	}
	if err := r.SetAudioRoute("car"); err == nil || b.route != "headset" {
		t.Errorf("SetAudioRoute(car) = %v, board's route %q; want the board's error and the route kept", err, b.route)
	}
	if st := r.Stats(); st.Frames != 10 {
		t.Errorf("stats %+v, want the speaker call's 10 frames counted after its devices closed", st)
	}
}

// On a board without routes: Auto is off, On cancels, and the wrapper does
// not pretend to have routes (the phone would reopen devices on a switch).
func TestWrapNoRoutes(t *testing.T) {
	b := &board{mic: ramp(160)}
	a := aec.Wrap(b, aec.AudioOptions{})
	if _, routed := a.(interface{ SetAudioRoute(string) error }); routed {
		t.Errorf("Wrap of a board without routes has SetAudioRoute")
	}
	if call(t, a, b.mic, 5) {
		t.Errorf("Auto without routes processed the capture; want it untouched")
	}
	on := aec.Wrap(b, aec.AudioOptions{Mode: aec.On})
	if !call(t, on, b.mic, 5) {
		t.Errorf("On: the capture passed through; want it cancelled")
	}
	on.(control).SetEnabled(false)
	if call(t, on, b.mic, 5) {
		t.Errorf("On, then SetEnabled(false): the capture was processed")
	}
}

// A device whose format the canceller cannot take still opens, without
// cancelling, and the log says why.
func TestWrapOddFormat(t *testing.T) {
	var logs bytes.Buffer
	b := &board{mic: ramp(100)}
	a := aec.Wrap(b, aec.AudioOptions{Mode: aec.On, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	capt, err := a.OpenCapture(8000, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	if _, ok := capt.(*fakeDev); !ok {
		t.Errorf("capture is a %T; want the board's own", capt)
	}
	if !strings.Contains(logs.String(), "echo cancelling off for this device: aec: device frame of 100 samples") {
		t.Errorf("log:\n%s\nwant a warning naming the frame size", logs.String())
	}
}
