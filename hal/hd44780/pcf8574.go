package hd44780

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The common PCF8574 backpack's wiring: each byte written to the expander
// sets its 8 outputs at once.
const (
	bpRS = 1 << 0 // P0
	// P1 is R/W: always low, the driver only writes.
	bpE         = 1 << 2 // P2
	bpBacklight = 1 << 3 // P3, through a transistor
	// P4–P7 are D4–D7: the nibble is the byte's high half.
)

// NewPCF8574 initialises an LCD behind a PCF8574 I²C backpack at addr
// (0x27 on most PCF8574 backpacks, 0x3F on PCF8574A ones; 0x20–0x27 and
// 0x38–0x3F are possible) in 4-bit mode: cleared, display on, cursor hidden,
// backlight on. A device that does not answer gives an error that says "no
// display at I2C address 0x..".
func NewPCF8574(bus i2c.Bus, addr uint16, rows, cols int, opts *Opts) (*Display, error) {
	if err := checkSize(rows, cols); err != nil {
		return nil, err
	}
	if addr < 0x20 || addr > 0x27 && addr < 0x38 || addr > 0x3F {
		return nil, fmt.Errorf("hd44780: I2C address 0x%02X is not a PCF8574 backpack's: use 0x20–0x27 (PCF8574, usually 0x27) or 0x38–0x3F (PCF8574A, usually 0x3F)", addr)
	}
	p := &pcfPort{dev: i2c.Dev{Bus: bus, Addr: addr}, bl: bpBacklight}
	// All outputs low but the backlight: E low latches nothing. It is the
	// first write, so it also tells whether anything answers.
	if err := p.dev.Tx([]byte{p.bl}, nil); err != nil {
		return nil, fmt.Errorf("hd44780: no display at I2C address 0x%02X: %w", addr, err)
	}
	d := newDisplay(p, rows, cols, opts)
	if err := d.init(); err != nil {
		return nil, fmt.Errorf("hd44780: init at I2C address 0x%02X: %w", addr, err)
	}
	return d, nil
}

type pcfPort struct {
	dev i2c.Dev
	bl  byte // bpBacklight or 0, or-ed into every byte
	buf [4]byte
}

func (p *pcfPort) String() string {
	return fmt.Sprintf("PCF8574 backpack at I2C address 0x%02X", p.dev.Addr)
}

// pulse puts nibble n with its control bits into buf twice: with E high, then
// E low; the controller latches on E's fall. One I²C byte lasts 22.5 µs at
// 400 kHz, well over the 450 ns E must stay high.
func (p *pcfPort) pulse(buf []byte, n, ctl byte) {
	v := n<<4 | ctl | p.bl
	buf[0] = v | bpE
	buf[1] = v
}

func (p *pcfPort) nibble(n byte) error {
	p.pulse(p.buf[:2], n&0x0F, 0)
	return p.dev.Tx(p.buf[:2], nil)
}

// write sends a whole instruction or character in one I²C write of 4 bytes.
func (p *pcfPort) write(data bool, b byte) error {
	var rs byte
	if data {
		rs = bpRS
	}
	p.pulse(p.buf[0:2], b>>4, rs)
	p.pulse(p.buf[2:4], b&0x0F, rs)
	return p.dev.Tx(p.buf[:], nil)
}

func (p *pcfPort) backlight(on bool) (bool, error) {
	bl := byte(0)
	if on {
		bl = bpBacklight
	}
	if err := p.dev.Tx([]byte{bl}, nil); err != nil {
		return true, err
	}
	p.bl = bl
	return true, nil
}

// execWait: 0. Between an instruction's last E fall and the next one's first
// go a stop, a start, the address and two bytes: 27 bit times, 67 µs at
// 400 kHz, more than the 37 µs the controller needs.
func (p *pcfPort) execWait() time.Duration { return 0 }
