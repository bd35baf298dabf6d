package keypad

import (
	"periph.io/x/conn/v3/i2c"

	"deskphone/hal"
)

// NewPCF8574 scans a key matrix on a PCF8574's 8 quasi-bidirectional pins
// (bit n = P n). Writing 0 pulls a pin low; writing 1 leaves it high through
// the chip's weak pull-up, readable as an input. So a row is selected by
// writing its bit 0, and the columns read 0 where a key is down. The chip is
// polled every Opts.Poll (one read while no key is down).
// Datasheet: https://www.ti.com/lit/ds/symlink/pcf8574.pdf
func NewPCF8574(bus i2c.Bus, addr uint16, rowBits, colBits []int, layout [][]hal.Key, opts *Opts) (*Keypad, error) {
	if bus == nil {
		return nil, errNilBus
	}
	m, keys, err := newExpanderMatrix("PCF8574", 8, rowBits, colBits, layout)
	if err != nil {
		return nil, err
	}
	d := &pcf8574{dev: i2c.Dev{Bus: bus, Addr: addr}}
	m.port = d
	// The first write puts every row low, ready to wake: the idle state.
	if err := m.set(m.rowMask); err != nil {
		return nil, errNoAnswer("PCF8574", addr, err, "0x20-0x27, or 0x38-0x3F for a PCF8574A, from pins A2-A0")
	}
	return start(m, keys, opts, expanderPoll), nil
}

type pcf8574 struct {
	dev i2c.Dev
	buf [1]byte
}

func (d *pcf8574) drive(low uint16) error {
	d.buf[0] = ^byte(low & 0xFF)
	return d.dev.Tx(d.buf[:], nil)
}

func (d *pcf8574) read() (uint16, error) {
	if err := d.dev.Tx(nil, d.buf[:]); err != nil {
		return 0, err
	}
	return uint16(d.buf[0]), nil
}
