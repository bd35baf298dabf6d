package keypad

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"deskphone/hal"
)

// NewGPIO scans a key matrix on GPIO pins: rows are outputs, columns inputs
// with pull-ups. layout[r][c] is the key joining row r and column c ("" for
// none). Only the row being scanned is driven (low); the others float if
// the pin can be an input, so two keys down in one column never short a
// high row to a low one; otherwise they are driven high.
func NewGPIO(rows []gpio.PinOut, cols []gpio.PinIn, layout [][]hal.Key, opts *Opts) (*Keypad, error) {
	keys, err := checkLayout(layout, len(rows), len(cols))
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if r == nil {
			return nil, fmt.Errorf("keypad: row %d has no pin; give every row a pin", i)
		}
		if err := r.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("keypad: row pin %s cannot be an output: %w", r, err)
		}
	}
	names := make([]string, len(cols))
	for i := range cols {
		if cols[i] == nil {
			return nil, fmt.Errorf("keypad: column %d has no pin; give every column a pin", i)
		}
		names[i] = fmt.Sprintf("column %d", i)
	}
	in, err := newInputs(cols, names)
	if err != nil {
		return nil, err
	}
	return start(&gpioMatrix{rows: rows, cols: cols, inputs: in}, keys, opts, gpioPoll), nil
}

type gpioMatrix struct {
	rows []gpio.PinOut
	cols []gpio.PinIn
	*inputs
}

func (m *gpioMatrix) idle() (bool, error) {
	for _, r := range m.rows {
		if err := r.Out(gpio.Low); err != nil {
			return false, fmt.Errorf("keypad: row pin %s: %w", r, err)
		}
	}
	m.drain()
	for _, c := range m.cols {
		if c.Read() == gpio.Low {
			return true, nil
		}
	}
	return false, nil
}

func (m *gpioMatrix) scan(down []bool) error {
	for j, r := range m.rows {
		if err := m.drive(r, j == 0); err != nil {
			return err
		}
	}
	for i, r := range m.rows {
		if i > 0 {
			if err := m.drive(m.rows[i-1], false); err != nil {
				return err
			}
			if err := m.drive(r, true); err != nil {
				return err
			}
		}
		for c, p := range m.cols {
			down[i*len(m.cols)+c] = p.Read() == gpio.Low
		}
	}
	return nil
}

// drive makes row r low when active, else floating (or high).
func (m *gpioMatrix) drive(r gpio.PinOut, active bool) error {
	var err error
	switch in, ok := r.(gpio.PinIn); {
	case active:
		err = r.Out(gpio.Low)
	case ok:
		err = in.In(gpio.Float, gpio.NoEdge)
	default:
		err = r.Out(gpio.High)
	}
	if err != nil {
		return fmt.Errorf("keypad: row pin %s: %w", r, err)
	}
	return nil
}

func (m *gpioMatrix) close() error {
	err := m.inputs.close()
	for _, r := range m.rows {
		if e := r.Halt(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
