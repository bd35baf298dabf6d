package keypad

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// edgeWait bounds each WaitForEdge so a watcher notices Close even on
// drivers whose Halt does not interrupt the wait.
const edgeWait = time.Second

// inputs is a set of input pins with pull-ups that wake the scanner on a
// falling edge (a key going down) where the pins can detect edges.
type inputs struct {
	pins  []gpio.PinIn
	wakeC chan struct{} // nil: no edge detection, poll
	done  chan struct{}
}

// newInputs sets the pins as inputs with pull-ups, with falling-edge
// detection if every pin supports it; if one does not, none uses it and the
// scanner polls. names[i] says what pin i is, for errors.
func newInputs(pins []gpio.PinIn, names []string) (*inputs, error) {
	in := &inputs{pins: pins, done: make(chan struct{})}
	edges := true
	for _, p := range pins {
		if p.In(gpio.PullUp, gpio.FallingEdge) != nil {
			edges = false
			break
		}
	}
	if !edges {
		for i, p := range pins {
			if err := p.In(gpio.PullUp, gpio.NoEdge); err != nil {
				return nil, fmt.Errorf("keypad: %s pin %s cannot be an input with a pull-up: %w", names[i], p, err)
			}
		}
		return in, nil
	}
	in.wakeC = make(chan struct{}, 1)
	for _, p := range pins {
		go in.watch(p)
	}
	return in, nil
}

func (in *inputs) watch(p gpio.PinIn) {
	for {
		select {
		case <-in.done:
			return
		default:
		}
		if p.WaitForEdge(edgeWait) {
			select {
			case in.wakeC <- struct{}{}:
			default: // already signalled
			}
		}
	}
}

// drain forgets edges seen so far: those of the scan itself.
func (in *inputs) drain() {
	select {
	case <-in.wakeC:
	default:
	}
}

func (in *inputs) wake() <-chan struct{} { return in.wakeC }

// close stops the watchers; Halt interrupts their wait on drivers that
// support it, the others return within edgeWait.
func (in *inputs) close() error {
	close(in.done)
	var first error
	for _, p := range in.pins {
		if err := p.Halt(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
