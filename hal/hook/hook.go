// Package hook reads the handset's hook switch on a GPIO pin, debounced,
// and implements hal.Hook.
//
// The switch connects the pin to ground, read with the pin's pull-up. By
// default the pin reads low while the handset is off hook (lifted); set
// Opts.Invert for a switch wired the other way. Where the pin detects edges
// an edge wakes the reader; otherwise it polls every Opts.Poll.
package hook

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"deskphone/hal"
)

// Clock is the time source: the real clock by default, a fake in tests.
type Clock = hal.Clock

// Opts tunes the reader. The zero value (or nil) gives the defaults.
type Opts struct {
	// Invert: the pin reads high while off hook.
	Invert bool
	// Debounce is how long the pin must read the same before a change
	// counts. Default 50 ms: hook switches bounce longer than keys.
	Debounce time.Duration
	// Poll is the read interval while the switch settles, and at all times
	// on a pin without edge detection. Default 10 ms.
	Poll time.Duration
	// Clock is the time source. Default the real clock.
	Clock Clock

	idled func() // test hook: the reader waits for an edge
}

// edgeWait bounds each WaitForEdge so the watcher notices Close even on
// drivers whose Halt does not interrupt the wait.
const edgeWait = time.Second

// Hook is a running hook-switch reader. It implements hal.Hook.
type Hook struct {
	pin     gpio.PinIn
	opts    Opts
	mu      sync.Mutex
	off     bool
	changes chan bool
	wake    chan struct{} // nil: no edges, poll
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

var _ hal.Hook = (*Hook)(nil)

// New reads the hook switch on pin. The state at New is taken as it reads
// (the handset is still at boot); later changes are debounced.
func New(pin gpio.PinIn, opts *Opts) (*Hook, error) {
	if pin == nil {
		return nil, fmt.Errorf("hook: no pin given; give the hook switch's pin")
	}
	h := &Hook{
		pin:     pin,
		changes: make(chan bool, 8),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.Debounce <= 0 {
		h.opts.Debounce = 50 * time.Millisecond
	}
	if h.opts.Poll <= 0 {
		h.opts.Poll = 10 * time.Millisecond
	}
	if h.opts.Clock == nil {
		h.opts.Clock = hal.SystemClock{}
	}
	if pin.In(gpio.PullUp, gpio.BothEdges) == nil {
		h.wake = make(chan struct{}, 1)
		go h.watch()
	} else if err := pin.In(gpio.PullUp, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("hook: pin %s cannot be an input with a pull-up: %w", pin, err)
	}
	h.off = h.read()
	go h.run()
	return h, nil
}

// OffHook reports whether the handset is lifted.
func (h *Hook) OffHook() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.off
}

// Changes delivers the new state (true = off hook) on every debounced
// change. It is closed by Close. If 8 changes wait unread the oldest is
// dropped: the last one delivered is always the current state.
func (h *Hook) Changes() <-chan bool { return h.changes }

// Close stops the reader and closes Changes.
func (h *Hook) Close() error {
	var err error
	h.once.Do(func() {
		close(h.done)
		<-h.stopped
		err = h.pin.Halt() // interrupts the watcher's wait where supported
	})
	return err
}

// read is the pin's raw state: true = off hook.
func (h *Hook) read() bool {
	return (h.pin.Read() == gpio.Low) != h.opts.Invert
}

func (h *Hook) run() {
	defer close(h.stopped)
	defer close(h.changes)
	state := h.OffHook()
	raw, since := state, h.opts.Clock.Now()
	for {
		now := h.opts.Clock.Now()
		if r := h.read(); r != raw {
			raw, since = r, now
		}
		if raw != state && now.Sub(since) >= h.opts.Debounce {
			state = raw
			h.publish(state)
		}
		var ok bool
		if raw != state || h.wake == nil {
			ok = h.sleep()
		} else {
			ok = h.waitEdge()
		}
		if !ok {
			return
		}
	}
}

func (h *Hook) publish(off bool) {
	h.mu.Lock()
	h.off = off
	h.mu.Unlock()
	select {
	case h.changes <- off:
		return
	default:
	}
	select { // full: drop the oldest, keep the newest
	case <-h.changes:
	default:
	}
	select {
	case h.changes <- off:
	default:
	}
}

func (h *Hook) sleep() bool {
	select {
	case <-h.opts.Clock.After(h.opts.Poll):
		return true
	case <-h.done:
		return false
	}
}

func (h *Hook) waitEdge() bool {
	if h.opts.idled != nil {
		h.opts.idled()
	}
	select {
	case <-h.wake:
		return true
	case <-h.done:
		return false
	}
}

func (h *Hook) watch() {
	for {
		select {
		case <-h.done:
			return
		default:
		}
		if h.pin.WaitForEdge(edgeWait) {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
}
