package hook

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// hookPin is a gpiotest pin whose level is what the test sets: the gpiotest
// pin also takes the level of each edge it reports, and an edge reported
// late would undo a later change.
type hookPin struct {
	gpiotest.Pin
	level gpio.Level
}

func (p *hookPin) Read() gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.level
}

type rig struct {
	t     *testing.T
	clk   *clockwork.FakeClock
	pin   *hookPin
	h     *Hook
	mu    sync.Mutex
	idles int
}

// newRig reads a gpiotest pin (with edges unless polled) with a 50 ms
// debounce and a 10 ms poll on a fake clock.
func newRig(t *testing.T, edges, invert bool) *rig {
	r := &rig{t: t, clk: clockwork.NewFakeClock(), pin: &hookPin{Pin: gpiotest.Pin{N: "GPIO26", Num: 26}, level: gpio.High}}
	if edges {
		r.pin.EdgesChan = make(chan gpio.Level, 16)
	}
	h, err := New(r.pin, &Opts{Invert: invert, Clock: r.clk, idled: func() {
		r.mu.Lock()
		r.idles++
		r.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	r.h = h
	return r
}

// set drives the pin to l, with its edge if the pin has edges.
func (r *rig) set(l gpio.Level) {
	r.pin.Lock()
	r.pin.level = l
	r.pin.Unlock()
	if r.pin.EdgesChan != nil {
		r.pin.EdgesChan <- l
	}
}

// sync waits until the reader sleeps on the clock.
func (r *rig) sync() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.clk.BlockUntilContext(ctx, 1); err != nil {
		r.t.Fatal("the reader never waited for its next poll")
	}
}

// advance lets n polls of 10 ms pass, each once the reader waits for it.
func (r *rig) advance(n int) {
	r.t.Helper()
	for range n {
		r.sync()
		r.clk.Advance(10 * time.Millisecond)
	}
}

// toIdle runs f and waits until the reader then waits for an edge.
func (r *rig) toIdle(f func()) {
	r.t.Helper()
	count := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.idles
	}
	before := count()
	f()
	for deadline := time.Now().Add(5 * time.Second); count() == before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatal("the reader did not wait for an edge within 5s")
		}
	}
}

// expect reads the next change, within a deadline.
func (r *rig) expect(off bool) {
	r.t.Helper()
	select {
	case got, ok := <-r.h.Changes():
		if !ok || got != off {
			r.t.Fatalf("change %v (open %v), want %v", got, ok, off)
		}
	case <-time.After(5 * time.Second):
		r.t.Fatalf("no change within 5s, want %v", off)
	}
	if r.h.OffHook() != off {
		r.t.Fatalf("OffHook() = %v after the change to %v", !off, off)
	}
}

// none checks no change waits; call it once the reader waits.
func (r *rig) none() {
	r.t.Helper()
	select {
	case c := <-r.h.Changes():
		r.t.Fatalf("unexpected change to %v", c)
	default:
	}
}

// Lifting with three bounces, then replacing: one change each way, each
// 50 ms after the switch last moved.
func TestHookEdgesAndBounce(t *testing.T) {
	r := newRig(t, true, false)
	if r.h.OffHook() {
		t.Fatal("off hook at start with the pin high")
	}
	for range 3 {
		r.set(gpio.Low)
		r.advance(1)
		r.sync()
		r.set(gpio.High) // back before it settled
		r.toIdle(func() { r.advance(1) })
		r.none()
	}
	r.set(gpio.Low)
	r.advance(4)
	r.sync()
	r.none() // 40 ms
	r.advance(1)
	r.expect(true)

	r.set(gpio.High)
	r.advance(5)
	r.expect(false)
}

// Invert: high is off hook, and the state at New is read as it is.
func TestHookInvert(t *testing.T) {
	r := newRig(t, true, true)
	if !r.h.OffHook() {
		t.Fatal("on hook at start with the pin high and Invert")
	}
	r.set(gpio.Low)
	r.advance(5)
	r.expect(false)
}

// A pin without edge detection is polled.
func TestHookPolled(t *testing.T) {
	r := newRig(t, false, false)
	r.advance(10)
	r.sync()
	r.none()
	r.set(gpio.Low)
	r.advance(6) // seen at the next poll, settled 50 ms later
	r.expect(true)
}

func TestHookClose(t *testing.T) {
	r := newRig(t, true, false)
	if err := r.h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-r.h.Changes(); ok {
		t.Error("Changes still open after Close")
	}
	if _, err := New(nil, nil); err == nil || !strings.Contains(err.Error(), "no pin") {
		t.Errorf("New(nil) = %v, want an error saying no pin", err)
	}
}
