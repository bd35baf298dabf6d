package periphparts

import (
	"errors"
	"log/slog"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"deskphone/boards"
	"deskphone/hal"
	"deskphone/hal/keypad"
)

func init() {
	boards.RegisterKeypad("gpio", openKeypad)
	boards.RegisterKeypad("mcp23017", openKeypad)
	boards.RegisterKeypad("pcf8574", openKeypad)
}

// openKeypad opens the matrix the part names and its single buttons, and
// delivers both as one keypad.
func openKeypad(env *boards.Env, p *boards.KeypadPart) (hal.Keypad, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := &keypad.Opts{Errors: func(err error) {
		log.Warn("keypad: scanning fails; keys are not read until it recovers", "part", "keypad", "driver", p.Driver, "error", err)
	}}
	matrix, err := openMatrix(h, p, opts)
	if err != nil {
		return nil, err
	}
	if len(p.Buttons) == 0 {
		return matrix, nil
	}
	buttons := make(map[hal.Key]gpio.PinIn, len(p.Buttons))
	for k, pin := range p.Buttons {
		in, err := h.Pin(pin.Name)
		if err != nil {
			_ = matrix.Close()
			return nil, err
		}
		buttons[hal.Key(k)] = in
	}
	b, err := keypad.NewButtons(buttons, opts)
	if err != nil {
		_ = matrix.Close()
		return nil, err
	}
	return merge(matrix, b), nil
}

func openMatrix(h Host, p *boards.KeypadPart, opts *keypad.Opts) (*keypad.Keypad, error) {
	layout := make([][]hal.Key, len(p.Layout))
	for r, row := range p.Layout {
		layout[r] = make([]hal.Key, len(row))
		for c, k := range row {
			if k != "-" { // "-": no key at this crossing
				layout[r][c] = hal.Key(k)
			}
		}
	}
	if p.Driver == "gpio" {
		rows, err := pins(h, p.Rows)
		if err != nil {
			return nil, err
		}
		cols, err := pins(h, p.Cols)
		if err != nil {
			return nil, err
		}
		out := make([]gpio.PinOut, len(rows))
		for i, r := range rows {
			out[i] = r
		}
		in := make([]gpio.PinIn, len(cols))
		for i, c := range cols {
			in[i] = c
		}
		return keypad.NewGPIO(out, in, layout, opts)
	}
	bus, err := h.Bus(p.Bus)
	if err != nil {
		return nil, err
	}
	if p.Driver == "mcp23017" {
		return keypad.NewMCP23017(bus, uint16(p.Address.Value), p.RowBits, p.ColBits, layout, opts) //nolint:gosec // G115: boards.Check keeps addresses in 0x08-0x77
	}
	return keypad.NewPCF8574(bus, uint16(p.Address.Value), p.RowBits, p.ColBits, layout, opts) //nolint:gosec // G115: boards.Check keeps addresses in 0x08-0x77
}

// merged is two keypads read as one: the matrix and the single buttons.
type merged struct {
	parts     []*keypad.Keypad
	presses   chan hal.Key
	done      chan struct{} // closed by Close: forwarders stop even if nothing reads
	closeOnce sync.Once
}

func merge(parts ...*keypad.Keypad) *merged {
	m := &merged{parts: parts, presses: make(chan hal.Key, 64), done: make(chan struct{})}
	var wg sync.WaitGroup
	for _, k := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range k.Presses() {
				select {
				case m.presses <- key:
				case <-m.done:
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(m.presses) }()
	return m
}

// Presses delivers the keys of both, in the order they were read; it is
// closed once both are.
func (m *merged) Presses() <-chan hal.Key { return m.presses }

// Close stops both scanners.
func (m *merged) Close() error {
	m.closeOnce.Do(func() { close(m.done) })
	var errs []error
	for _, k := range m.parts {
		errs = append(errs, k.Close())
	}
	return errors.Join(errs...)
}
