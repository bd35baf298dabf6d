// Package ssd1306 drives an SSD1306 128×64 OLED over I²C as a text display:
// a 6×8 font gives 8 rows of 21 columns. It implements hal.Display and
// periph's display.TextDisplay.
//
// periph's devices/v3 v3.7.4 ssd1306 is not used: its NewI2C always talks to
// address 0x3C (boards strapped to 0x3D exist), and its partial updates set
// the position with the page-addressing commands (0xB0, 0x00, 0x10) while it
// runs the controller in horizontal addressing mode, where the datasheet
// says they do not apply. Here every write sets its window with 0x21/0x22.
//
// # Datasheet
//
// https://cdn-shop.adafruit.com/datasheets/SSD1306.pdf (commands: §9–10,
// p.28–46; I²C writes: §8.1.5, p.20; initialisation flow: p.64; charge pump:
// application note, p.62 and p.3 of "SSD1306 charge pump").
package ssd1306

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"

	"deskphone/hal"
)

// The text grid and the pixels behind it.
const (
	Rows   = 8  // text rows: one 8-pixel page each
	Cols   = 21 // text columns: 6 pixels each
	width  = 128
	pages  = 8
	cellW  = 6 // 5 glyph columns + 1 blank
	margin = (width - Cols*cellW) / 2
)

// The I²C control byte before a write (§8.1.5.2): a stream of commands or a
// stream of display RAM data.
const (
	ctlCommands = 0x00
	ctlData     = 0x40
)

// Opts are optional settings; nil means the defaults.
type Opts struct {
	// Rotated turns the picture by 180°, for a module mounted upside down.
	Rotated bool
}

// Display is an SSD1306 showing text. It keeps the text on screen so that Show
// redraws only the cells that changed. Safe for concurrent use.
type Display struct {
	mu        sync.Mutex
	dev       i2c.Dev
	text      [Rows * Cols]byte // ASCII on screen
	next      [Rows * Cols]byte // Show's scratch
	buf       [1 + width]byte   // control byte + one page of pixels
	cmd       [7]byte           // a command write, kept so writes do not allocate
	row, col  int               // the TextDisplay cursor
	displayOn bool
}

// initCommands follows the datasheet's flow (p.64) for a 128×64 panel with
// the internal charge pump, the display left off until its RAM is cleared.
func initCommands(o Opts) []byte {
	seg, com := byte(0xA1), byte(0xC8) // column 127 is SEG0, COM scans up: the usual mounting
	if o.Rotated {
		seg, com = 0xA0, 0xC0
	}
	return []byte{ctlCommands,
		0xAE,       // display off
		0xA8, 0x3F, // multiplex ratio: 64 rows
		0xD3, 0x00, // display offset 0
		0x40,       // start line 0
		seg,        // segment remap
		com,        // COM scan direction
		0xDA, 0x12, // COM pins: alternative configuration, as 128×64 modules are wired
		0x81, 0xCF, // contrast
		0xA4,       // show the RAM's content
		0xA6,       // normal, lit pixels are 1
		0xD5, 0x80, // clock: reset divide ratio and frequency
		0x8D, 0x14, // charge pump on
		0xD9, 0xF1, // pre-charge period, for the internal charge pump
		0xDB, 0x40, // VCOMH deselect level
		0x20, 0x00, // horizontal addressing: writes run along a page, then the next
		0x2E, // no scrolling
	}
}

// NewI2C initialises a 128×64 SSD1306 at addr (0x3C, or 0x3D when the
// module's address pad says so): blank and switched on. A device that does
// not answer gives an error that says "no display at I2C address 0x..".
func NewI2C(bus i2c.Bus, addr uint16, opts *Opts) (*Display, error) {
	if addr != 0x3C && addr != 0x3D {
		return nil, fmt.Errorf("ssd1306: I2C address 0x%02X is not an SSD1306's: use 0x3C (most modules) or 0x3D", addr)
	}
	var o Opts
	if opts != nil {
		o = *opts
	}
	d := &Display{dev: i2c.Dev{Bus: bus, Addr: addr}}
	if err := d.dev.Tx(initCommands(o), nil); err != nil {
		return nil, fmt.Errorf("ssd1306: no display at I2C address 0x%02X: %w", addr, err)
	}
	if err := d.clear(); err != nil {
		return nil, fmt.Errorf("ssd1306: init at I2C address 0x%02X: %w", addr, err)
	}
	if err := d.power(true); err != nil {
		return nil, fmt.Errorf("ssd1306: init at I2C address 0x%02X: %w", addr, err)
	}
	return d, nil
}

// window makes the next data bytes fill columns x0..x1 of pages p0..p1
// (column addresses are 7 bits, page addresses 3).
func (d *Display) window(x0, x1, p0, p1 int) error {
	d.cmd = [7]byte{ctlCommands, 0x21, byte(x0 & 0x7F), byte(x1 & 0x7F), 0x22, byte(p0 & 7), byte(p1 & 7)}
	return d.dev.Tx(d.cmd[:], nil)
}

// clear blanks the whole RAM, margins included, one page per write.
func (d *Display) clear() error {
	if err := d.window(0, width-1, 0, pages-1); err != nil {
		return err
	}
	d.buf = [len(d.buf)]byte{ctlData}
	for range pages {
		if err := d.dev.Tx(d.buf[:], nil); err != nil {
			return err
		}
	}
	for i := range d.text {
		d.text[i] = ' '
	}
	d.row, d.col = 0, 0
	return nil
}

func (d *Display) power(on bool) error {
	c := byte(0xAE)
	if on {
		c = 0xAF
	}
	d.cmd[0], d.cmd[1] = ctlCommands, c
	if err := d.dev.Tx(d.cmd[:2], nil); err != nil {
		return err
	}
	d.displayOn = on
	return nil
}

// drawRow redraws the cells c0..c1 of row r from next.
func (d *Display) drawRow(r, c0, c1 int) error {
	x0 := margin + c0*cellW
	x1 := margin + (c1+1)*cellW - 1
	if err := d.window(x0, x1, r, r); err != nil {
		return err
	}
	px := d.buf[1:1]
	for c := c0; c <= c1; c++ {
		g := glyph(d.next[r*Cols+c])
		px = append(px, g[0], g[1], g[2], g[3], g[4], 0)
	}
	if err := d.dev.Tx(d.buf[:1+len(px)], nil); err != nil {
		return err
	}
	copy(d.text[r*Cols+c0:r*Cols+c1+1], d.next[r*Cols+c0:r*Cols+c1+1])
	return nil
}

// flush draws what differs between next and text, row by row, each row from
// its first to its last changed cell.
func (d *Display) flush() error {
	for r := range Rows {
		c0, c1 := -1, -1
		for c := range Cols {
			if d.next[r*Cols+c] != d.text[r*Cols+c] {
				if c0 < 0 {
					c0 = c
				}
				c1 = c
			}
		}
		if c0 < 0 {
			continue
		}
		if err := d.drawRow(r, c0, c1); err != nil {
			return err
		}
	}
	return nil
}

// Size is 8 rows of 21 columns (hal.Display).
func (d *Display) Size() (rows, cols int) { return Rows, Cols }

// Show replaces the whole screen (hal.Display). Missing lines are blank, long
// lines are cut to 21 columns, characters outside ASCII are shown as in
// Encode. Nothing is sent when the text is unchanged.
func (d *Display) Show(lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for r := range Rows {
		var s string
		if r < len(lines) {
			s = lines[r]
		}
		Encode(d.next[r*Cols:(r+1)*Cols], s)
	}
	if err := d.flush(); err != nil {
		return fmt.Errorf("ssd1306: show: %w", err)
	}
	return nil
}

// Halt blanks the screen and switches the panel off (conn.Resource).
func (d *Display) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.clear(); err != nil {
		return fmt.Errorf("ssd1306: halt: %w", err)
	}
	if err := d.power(false); err != nil {
		return fmt.Errorf("ssd1306: halt: %w", err)
	}
	return nil
}

// String names the display and its address.
func (d *Display) String() string {
	return fmt.Sprintf("SSD1306 128×64 (%d×%d text) at I2C address 0x%02X", Rows, Cols, d.dev.Addr)
}

// EncodeRune is the font's character for r: printable ASCII as is, accented
// Latin-1 letters without their accent, '?' for anything else.
func EncodeRune(r rune) byte {
	if r >= 0x20 && r <= 0x7E {
		return byte(r)
	}
	if b, ok := hal.FoldAccent(r); ok {
		return b
	}
	return '?'
}

// Encode fills dst with the characters of s, one cell per character, padding
// with spaces and cutting what does not fit.
func Encode(dst []byte, s string) { hal.FillCells(dst, s, EncodeRune) }
