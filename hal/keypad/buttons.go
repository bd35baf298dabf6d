package keypad

import (
	"errors"
	"fmt"
	"slices"

	"periph.io/x/conn/v3/gpio"

	"deskphone/hal"
)

// NewButtons reads keys that each have their own pin, wired to ground and
// read with the pin's pull-up (pressed = low): function keys such as hold,
// transfer, volume, and the agent-status keys. They are debounced and report
// long presses like matrix keys.
func NewButtons(pins map[hal.Key]gpio.PinIn, opts *Opts) (*Keypad, error) {
	if len(pins) == 0 {
		return nil, errors.New("keypad: no buttons given; map each key to its pin")
	}
	keys := make([]hal.Key, 0, len(pins))
	for k := range pins {
		if k == "" {
			return nil, errors.New("keypad: a button has an empty key name; name every key")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // a fixed order: events of one scan come sorted
	list := make([]gpio.PinIn, len(keys))
	names := make([]string, len(keys))
	for i, k := range keys {
		if pins[k] == nil {
			return nil, fmt.Errorf("keypad: button %q has no pin; give it one", k)
		}
		list[i], names[i] = pins[k], "button "+string(k)
	}
	in, err := newInputs(list, names)
	if err != nil {
		return nil, err
	}
	return start(&buttons{inputs: in}, keys, opts, gpioPoll), nil
}

type buttons struct{ *inputs }

func (b *buttons) idle() (bool, error) {
	b.drain()
	for _, p := range b.pins {
		if p.Read() == gpio.Low {
			return true, nil
		}
	}
	return false, nil
}

func (b *buttons) scan(down []bool) error {
	for i, p := range b.pins {
		down[i] = p.Read() == gpio.Low
	}
	return nil
}
