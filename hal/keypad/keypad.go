// Package keypad reads a phone's keys: a row/column matrix on GPIO pins or
// on an I2C expander (MCP23017, PCF8574), and function keys on their own
// pins. It debounces every key, reports key-down, key-up and long press,
// and implements hal.Keypad.
//
// A key is pressed when its column (or its own pin) reads low: columns and
// buttons have pull-ups and the keys connect them to a row driven low. Where
// the input pins detect edges, the scanner sleeps until a falling edge wakes
// it and scans only while a key is down or settling; otherwise it polls
// every Opts.Poll. Expanders are always polled.
//
// A matrix without diodes cannot tell three keys at the corners of a
// rectangle from four: the fourth reads pressed too (ghosting). Phone keypads
// are pressed one key at a time, so this is not corrected.
package keypad

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"deskphone/hal"
)

// Kind is what happened to a key.
type Kind int

// The kinds of Event.
const (
	Down Kind = iota // pressed (after debounce)
	Up               // released (after debounce)
	Long             // still down LongPress after Down; sent once per press
)

func (k Kind) String() string {
	switch k {
	case Down:
		return "down"
	case Up:
		return "up"
	case Long:
		return "long"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Event is one change of one key.
type Event struct {
	Key  hal.Key
	Kind Kind
}

// Clock is the time source: the real clock by default, a fake in tests.
type Clock = hal.Clock

// Opts tunes the scanner. The zero value (or nil) gives the defaults.
type Opts struct {
	// Debounce is how long a key must read the same before it counts as
	// pressed or released. Default 20 ms.
	Debounce time.Duration
	// LongPress is how long a key must stay down after Down for a Long
	// event. Default 800 ms.
	LongPress time.Duration
	// Poll is the scan interval while a key is down or settling, and at
	// all times on pins without edge detection. Default 5 ms on GPIO, 10 ms
	// on an expander: a 4-row scan of an MCP23017 is 8 transfers, about
	// 3.5 ms of a 100 kHz bus that a display may share.
	Poll time.Duration
	// Clock is the time source. Default the real clock.
	Clock Clock
	// Errors, if set, is told of a failing scan (e.g. an I2C error): once
	// when it starts failing, not at every scan. Default: ignored.
	Errors func(error)

	idled func() // test hook: the scanner waits for an edge
}

func (o *Opts) withDefaults(poll time.Duration) Opts {
	var r Opts
	if o != nil {
		r = *o
	}
	if r.Debounce <= 0 {
		r.Debounce = 20 * time.Millisecond
	}
	if r.LongPress <= 0 {
		r.LongPress = 800 * time.Millisecond
	}
	if r.Poll <= 0 {
		r.Poll = poll
	}
	if r.Clock == nil {
		r.Clock = hal.SystemClock{}
	}
	return r
}

// queue is how many unread presses (and, apart, events) are kept; more are
// dropped rather than stall the scanner.
const queue = 64

// source is where raw key states come from: a GPIO matrix, an expander or
// buttons. Key i is keys[i] of the Keypad.
type source interface {
	// idle prepares the keys to wake the scanner (all rows driven) and
	// reports whether any key reads down now.
	idle() (bool, error)
	// scan reads every key: down[i] is true while key i reads pressed.
	scan(down []bool) error
	// wake is signalled on a falling edge of an input; nil if the inputs
	// have no edge detection, and the scanner then polls.
	wake() <-chan struct{}
	close() error
}

// Keypad is a running scanner. It implements hal.Keypad.
type Keypad struct {
	src      source
	keys     []hal.Key
	opts     Opts
	presses  chan hal.Key
	events   chan Event
	done     chan struct{}
	stopped  chan struct{}
	once     sync.Once
	closeErr error
}

var _ hal.Keypad = (*Keypad)(nil)

// Default poll intervals: GPIO reads are cheap, I2C transfers are not.
const (
	gpioPoll     = 5 * time.Millisecond
	expanderPoll = 10 * time.Millisecond
)

func start(src source, keys []hal.Key, opts *Opts, poll time.Duration) *Keypad {
	k := &Keypad{
		src:     src,
		keys:    keys,
		opts:    opts.withDefaults(poll),
		presses: make(chan hal.Key, queue),
		events:  make(chan Event, queue),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go k.run()
	return k
}

// Presses delivers a key when it goes down (after debounce). It is closed
// by Close. Presses nobody reads are dropped after 64.
func (k *Keypad) Presses() <-chan hal.Key { return k.presses }

// Events delivers every Down, Up and Long, in order. It is closed by Close.
// Events nobody reads are dropped after 64, so a caller that wants only
// Presses need not drain it.
func (k *Keypad) Events() <-chan Event { return k.events }

// Close stops the scanner, closes Presses and Events, and releases the
// pins.
func (k *Keypad) Close() error {
	k.once.Do(func() {
		close(k.done)
		<-k.stopped
		k.closeErr = k.src.close()
	})
	return k.closeErr
}

func (k *Keypad) run() {
	defer close(k.stopped)
	defer close(k.events)
	defer close(k.presses)
	deb := newDebouncer(len(k.keys), k.opts.Debounce, k.opts.LongPress)
	down := make([]bool, len(k.keys))
	failing := false
	report := func(err error) {
		if err != nil && !failing && k.opts.Errors != nil {
			k.opts.Errors(err)
		}
		failing = err != nil
	}
	for {
		if !deb.busy() {
			pressed, err := k.src.idle()
			report(err)
			if !pressed {
				if !k.waitIdle(err == nil) {
					return
				}
				continue
			}
		}
		err := k.src.scan(down)
		report(err)
		if err == nil {
			deb.update(k.opts.Clock.Now(), down, k.emit)
		}
		// Settled: back to idle at once, where an edge or a poll wakes it.
		if (err != nil || deb.busy()) && !k.sleep() {
			return
		}
	}
}

// waitIdle waits, every key up, for an edge if the source has them (and
// the last access worked), else for a poll interval; false if closed.
func (k *Keypad) waitIdle(edges bool) bool {
	wake := k.src.wake()
	if !edges || wake == nil {
		return k.sleep()
	}
	if k.opts.idled != nil {
		k.opts.idled()
	}
	select {
	case <-wake:
		return true
	case <-k.done:
		return false
	}
}

// sleep waits one poll interval; false if closed meanwhile.
func (k *Keypad) sleep() bool {
	select {
	case <-k.opts.Clock.After(k.opts.Poll):
		return true
	case <-k.done:
		return false
	}
}

func (k *Keypad) emit(i int, kind Kind) {
	if k.keys[i] == "" { // a matrix position with no key
		return
	}
	e := Event{Key: k.keys[i], Kind: kind}
	if kind == Down {
		select {
		case k.presses <- e.Key:
		default:
		}
	}
	select {
	case k.events <- e:
	default:
	}
}

// checkLayout flattens a layout of rows×cols keys, row by row, and refuses
// ragged rows, empty names and keys named twice.
func checkLayout(layout [][]hal.Key, rows, cols int) ([]hal.Key, error) {
	if len(layout) != rows {
		return nil, fmt.Errorf("keypad: layout has %d rows but %d row pins are given; give one layout row per row pin", len(layout), rows)
	}
	keys := make([]hal.Key, 0, rows*cols)
	seen := map[hal.Key]bool{}
	for r, row := range layout {
		if len(row) != cols {
			return nil, fmt.Errorf("keypad: layout row %d has %d keys but %d column pins are given; give one key per column (\"\" for no key)", r, len(row), cols)
		}
		for _, key := range row {
			if key != "" && seen[key] {
				return nil, fmt.Errorf("keypad: key %q appears twice in the layout; each key must have one position", key)
			}
			seen[key] = true
			keys = append(keys, key)
		}
	}
	if rows == 0 || cols == 0 {
		return nil, errors.New("keypad: a matrix needs at least one row and one column")
	}
	return keys, nil
}
