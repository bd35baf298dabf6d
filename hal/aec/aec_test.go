//go:build cgo

package aec_test

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/hal"
	"deskphone/hal/aec"
)

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		rate, frame int
		opts        aec.Options
		want        string
	}{
		{11025, 441, aec.Options{}, "sample rate 11025 Hz"},
		{96000, 960, aec.Options{}, "sample rate 96000 Hz"},
		{8000, 100, aec.Options{}, "device frame of 100 samples"},
		{8000, 160, aec.Options{Frame: 5 * time.Millisecond}, "frame 5ms: want 10ms or 20ms"},
		{8000, 160, aec.Options{Tail: 2 * time.Second}, "tail 2s"},
		{8000, 160, aec.Options{EchoSuppress: 10}, "echo suppression 10"},
	} {
		_, err := aec.New(tc.rate, tc.frame, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%d, %d, %+v) = %v, want an error containing %q", tc.rate, tc.frame, tc.opts, err, tc.want)
		}
	}
}

// fakeDev is a microphone that hears a fixed frame and a speaker that
// keeps nothing.
type fakeDev struct {
	mic    []int16
	closed int
}

func (f *fakeDev) Read(frame []int16) error { copy(frame, f.mic); return nil }
func (f *fakeDev) Write([]int16) error      { return nil }
func (f *fakeDev) Close() error             { f.closed++; return nil }

// ramp is a frame of a sawtooth.
func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i*97%6000 - 3000)
	}
	return s
}

func readOnce(t *testing.T, c hal.Capture, n int) []int16 {
	t.Helper()
	b := make([]int16, n)
	if err := c.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// Without a playback, or bypassed, the capture passes through untouched;
// with one it is processed; Close frees the state and closes only the
// wrapped devices.
func TestWrappers(t *testing.T) {
	c, err := aec.New(8000, 160, aec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := &fakeDev{mic: ramp(160)}
	capt := c.Capture(dev)
	if got := readOnce(t, capt, 160); !slices.Equal(got, dev.mic) {
		t.Errorf("with no playback open the capture changed")
	}
	pb := c.Playback(dev)
	for range 20 {
		if err := pb.Write(dev.mic); err != nil {
			t.Fatal(err)
		}
		if err := capt.Read(make([]int16, 160)); err != nil {
			t.Fatal(err)
		}
	}
	if got := readOnce(t, capt, 160); slices.Equal(got, dev.mic) {
		t.Errorf("with a playback open the capture passed through; want it cancelled")
	}
	if st := c.Stats(); st.Frames == 0 {
		t.Errorf("stats %+v: want frames counted", st)
	}
	c.SetEnabled(false)
	if got := readOnce(t, capt, 160); !slices.Equal(got, dev.mic) || c.Enabled() {
		t.Errorf("bypassed, the capture changed (or Enabled is still true)")
	}
	c.SetEnabled(true)
	if err := capt.Read(make([]int16, 100)); err == nil || !strings.Contains(err.Error(), "captured frame of 100 samples") {
		t.Errorf("odd frame: %v, want an error naming its size", err)
	}
	pb.Close()
	capt.Close()
	if dev.closed != 2 {
		t.Errorf("closing the wrappers closed the devices %d times, want 2", dev.closed)
	}
	c.Close()
	c.Close() // again: nothing
	pb = c.Playback(dev)
	capt = c.Capture(dev)
	if err := capt.Read(make([]int16, 160)); !errors.Is(err, aec.ErrClosed) {
		t.Errorf("Read after Close: %v, want aec.ErrClosed", err)
	}
	pb.Close()
}

// The two directions in their own goroutines, with the route switching
// underneath, for the race detector; then Close while both still run.
func TestConcurrent(t *testing.T) {
	c, err := aec.New(16000, 320, aec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := &fakeDev{mic: ramp(320)}
	pb, capt := c.Playback(dev), c.Capture(dev)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	loop := func(f func([]int16) error) {
		defer wg.Done()
		buf := ramp(320)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := f(buf); err != nil {
				if !errors.Is(err, aec.ErrClosed) {
					errs <- err
				}
				return
			}
		}
	}
	wg.Add(2)
	go loop(pb.Write)
	go loop(capt.Read)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; c.Stats().Frames < 200; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s only %d blocks cancelled", c.Stats().Frames)
		}
		c.SetEnabled(i%2 == 0)
		runtime.Gosched() // let the loops run between switches
	}
	c.SetEnabled(true)
	c.Close() // the capture loop ends with ErrClosed
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
