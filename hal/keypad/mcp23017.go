package keypad

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"

	"deskphone/hal"
)

// MCP23017 registers, in the power-on bank mode (IOCON.BANK = 0), where
// each port A register is followed by its port B twin so one 16-bit write
// sets both. Datasheet: https://ww1.microchip.com/downloads/en/devicedoc/20001952c.pdf
const (
	mcpIODIR = 0x00 // 1 = input
	mcpGPPU  = 0x0C // 1 = 100 kΩ pull-up
	mcpGPIO  = 0x12 // pin levels
	mcpOLAT  = 0x14 // output latches
)

// NewMCP23017 scans a key matrix on an MCP23017's 16 pins: bits 0-7 are
// GPA0-7, bits 8-15 GPB0-7. Rows are driven low one at a time and are
// inputs otherwise; columns are inputs with the chip's pull-ups. The chip is
// polled every Opts.Poll (one read while no key is down).
func NewMCP23017(bus i2c.Bus, addr uint16, rowBits, colBits []int, layout [][]hal.Key, opts *Opts) (*Keypad, error) {
	if bus == nil {
		return nil, errNilBus
	}
	m, keys, err := newExpanderMatrix("MCP23017", 16, rowBits, colBits, layout)
	if err != nil {
		return nil, err
	}
	d := &mcp23017{dev: i2c.Dev{Bus: bus, Addr: addr}}
	// Latches low first, so a row is low the moment it becomes an output.
	if err := d.write16(mcpOLAT, 0); err != nil {
		return nil, errNoAnswer("MCP23017", addr, err, "0x20-0x27 from pins A2-A0")
	}
	var pullups uint16
	for _, c := range m.cols {
		pullups |= c
	}
	if err := d.write16(mcpGPPU, pullups); err != nil {
		return nil, fmt.Errorf("keypad: MCP23017 at %#02x: setting the pull-ups: %w", addr, err)
	}
	m.port = d
	return start(m, keys, opts, expanderPoll), nil
}

type mcp23017 struct {
	dev i2c.Dev
	buf [3]byte
}

func (d *mcp23017) write16(reg byte, v uint16) error {
	d.buf = [3]byte{reg, byte(v & 0xFF), byte(v >> 8)}
	return d.dev.Tx(d.buf[:], nil)
}

// drive makes the low bits outputs (their latches are low) and every other
// bit an input.
func (d *mcp23017) drive(low uint16) error {
	return d.write16(mcpIODIR, ^low)
}

func (d *mcp23017) read() (uint16, error) {
	d.buf[0] = mcpGPIO
	if err := d.dev.Tx(d.buf[:1], d.buf[1:3]); err != nil {
		return 0, err
	}
	return uint16(d.buf[1]) | uint16(d.buf[2])<<8, nil
}
