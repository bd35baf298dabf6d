package keypad

import (
	"errors"
	"fmt"

	"deskphone/hal"
)

// port is an I/O expander's pins as one word, bit n = pin n.
type port interface {
	// drive pulls the bits of low low and releases the other bits (inputs
	// with pull-ups).
	drive(low uint16) error
	read() (uint16, error)
}

// expanderMatrix scans a key matrix on an expander's pins. It is polled:
// the expanders' interrupt outputs are not used.
type expanderMatrix struct {
	port
	rows, cols []uint16 // one bit per row and per column
	rowMask    uint16
	driven     uint16 // what drive was last given, to skip rewriting it
	valid      bool   // driven is known
}

// newExpanderMatrix checks the bit numbers against the layout and the
// expander's width.
func newExpanderMatrix(chip string, width int, rowBits, colBits []int, layout [][]hal.Key) (*expanderMatrix, []hal.Key, error) {
	keys, err := checkLayout(layout, len(rowBits), len(colBits))
	if err != nil {
		return nil, nil, err
	}
	m := &expanderMatrix{}
	var used uint16
	bit := func(n int, what string) (uint16, error) {
		if n < 0 || n >= width {
			return 0, fmt.Errorf("keypad: %s %s bit %d does not exist; use 0-%d", chip, what, n, width-1)
		}
		b := uint16(1) << n
		if used&b != 0 {
			return 0, fmt.Errorf("keypad: %s bit %d is used twice; give each row and column its own bit", chip, n)
		}
		used |= b
		return b, nil
	}
	for _, n := range rowBits {
		b, err := bit(n, "row")
		if err != nil {
			return nil, nil, err
		}
		m.rows = append(m.rows, b)
		m.rowMask |= b
	}
	for _, n := range colBits {
		b, err := bit(n, "column")
		if err != nil {
			return nil, nil, err
		}
		m.cols = append(m.cols, b)
	}
	return m, keys, nil
}

func (m *expanderMatrix) set(low uint16) error {
	if m.valid && m.driven == low {
		return nil
	}
	m.valid = false
	if err := m.drive(low); err != nil {
		return err
	}
	m.driven, m.valid = low, true
	return nil
}

func (m *expanderMatrix) idle() (bool, error) {
	if err := m.set(m.rowMask); err != nil {
		return false, err
	}
	v, err := m.read()
	if err != nil {
		return false, err
	}
	for _, c := range m.cols {
		if v&c == 0 {
			return true, nil
		}
	}
	return false, nil
}

func (m *expanderMatrix) scan(down []bool) error {
	for i, r := range m.rows {
		if err := m.set(r); err != nil {
			return err
		}
		v, err := m.read()
		if err != nil {
			return err
		}
		for c, b := range m.cols {
			down[i*len(m.cols)+c] = v&b == 0
		}
	}
	return nil
}

func (m *expanderMatrix) wake() <-chan struct{} { return nil }

// close releases every row.
func (m *expanderMatrix) close() error { return m.drive(0) }

// errNoAnswer words the error of an expander's first transfer.
func errNoAnswer(chip string, addr uint16, err error, hint string) error {
	return fmt.Errorf("keypad: %s at I2C address %#02x does not answer (%w); check the wiring and the address (%s)", chip, addr, err, hint)
}

var errNilBus = errors.New("keypad: no I2C bus given")
