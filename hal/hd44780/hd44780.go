// Package hd44780 drives HD44780 character LCDs (16×2, 20×4, 20×2, 16×4) in
// 4-bit mode, on GPIO pins or behind the common PCF8574 I²C backpack, as a
// hal.Display and as periph's display.TextDisplay.
//
// periph's devices/v3 v3.7.4 hd44780 is not used: its init sequence sends
// 0x14 as the function set, it addresses two lines only, sleeps with the real
// clock and has no backpack; the backpack driver is on devices' master only.
//
// # Datasheet
//
// https://www.sparkfun.com/datasheets/LCD/HD44780.pdf (4-bit initialisation:
// figure 24, p.46; instruction timings: table 6, p.24).
package hd44780

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/display"
)

// Instructions (datasheet table 6).
const (
	cmdClear      = 0x01
	cmdHome       = 0x02
	cmdEntryMode  = 0x06 // increment, no display shift
	cmdControl    = 0x08 // | ctlOn | ctlCursor | ctlBlink
	cmdShiftLeft  = 0x10 // cursor one left
	cmdShiftRight = 0x14 // cursor one right
	cmdFunction   = 0x28 // 4-bit bus, 2 lines (4-line modules are 2 lines folded), 5×8 dots
	cmdDDRAM      = 0x80 // | address

	ctlOn     = 0x04
	ctlCursor = 0x02
	ctlBlink  = 0x01
)

// Waits from the datasheet, rounded up for slow oscillators.
const (
	waitPowerOn = 50 * time.Millisecond   // > 40 ms after Vcc reaches 2.7 V
	waitInit1   = 5 * time.Millisecond    // > 4.1 ms after the first 0x3
	waitInit2   = 150 * time.Microsecond  // > 100 µs after the second 0x3
	waitExec    = 50 * time.Microsecond   // 37 µs per instruction or character
	waitClear   = 2000 * time.Microsecond // 1.52 ms for clear and home
)

// Opts are optional settings; nil means the defaults.
type Opts struct {
	// Sleep waits for the controller; nil is time.Sleep. Tests pass a
	// recorder so they never wait.
	Sleep func(time.Duration)
}

// port is the wiring: how nibbles reach the controller.
type port interface {
	// nibble latches the low 4 bits of n with RS low (initialisation only).
	nibble(n byte) error
	// write latches b as two nibbles, high first, with RS high for data.
	write(data bool, b byte) error
	// backlight switches the backlight; ok is false when there is none.
	backlight(on bool) (ok bool, err error)
	// execWait is the wait the caller must add after each instruction; 0
	// when the bus is slower than the controller anyway (I²C).
	execWait() time.Duration
	String() string
}

// Display is an HD44780 LCD. It keeps a copy of what the screen shows so that
// Show writes only the cells that changed. Safe for concurrent use.
type Display struct {
	mu         sync.Mutex
	p          port
	sleep      func(time.Duration)
	rows, cols int
	cells      []byte // ROM codes on screen, row by row
	next       []byte // Show's scratch, so Show does not allocate
	ac         int    // the controller's DDRAM address counter; -1 unknown
	ctl        byte   // display control bits (ctlOn, ctlCursor, ctlBlink)
}

var (
	_ display.TextDisplay      = (*Display)(nil)
	_ display.DisplayBacklight = (*Display)(nil)
)

// ErrNoBacklight is returned by SetBacklight on GPIO wiring without a
// backlight pin.
var ErrNoBacklight = fmt.Errorf("hd44780: no backlight pin: %w", display.ErrNotImplemented)

func checkSize(rows, cols int) error {
	switch {
	case rows == 2 && cols == 16, rows == 4 && cols == 20, rows == 2 && cols == 20, rows == 4 && cols == 16:
		return nil
	}
	return fmt.Errorf("hd44780: %d×%d (rows×cols) is not a supported size: use 2×16, 4×20, 2×20 or 4×16", rows, cols)
}

func newDisplay(p port, rows, cols int, opts *Opts) *Display {
	d := &Display{p: p, rows: rows, cols: cols, sleep: time.Sleep, ac: -1}
	if opts != nil && opts.Sleep != nil {
		d.sleep = opts.Sleep
	}
	d.cells = make([]byte, rows*cols)
	d.next = make([]byte, rows*cols)
	return d
}

// init runs the datasheet's 4-bit initialisation (figure 24): three 0x3
// nibbles to reach 8-bit mode from any state, 0x2 to enter 4-bit mode, then
// function set, display on, clear and entry mode. On the bus this is the
// byte sequence 0x33, 0x32, 0x28, 0x0C, 0x01, 0x06.
func (d *Display) init() error {
	d.sleep(waitPowerOn)
	for _, s := range []struct {
		n    byte
		wait time.Duration
	}{{0x3, waitInit1}, {0x3, waitInit2}, {0x3, waitInit2}, {0x2, waitExec}} {
		if err := d.p.nibble(s.n); err != nil {
			return err
		}
		d.sleep(s.wait)
	}
	if err := d.command(cmdFunction); err != nil {
		return err
	}
	d.ctl = ctlOn
	if err := d.command(cmdControl | d.ctl); err != nil {
		return err
	}
	if err := d.clear(); err != nil {
		return err
	}
	return d.command(cmdEntryMode)
}

// command sends an instruction and waits for it to run.
func (d *Display) command(c byte) error {
	if err := d.p.write(false, c); err != nil {
		d.ac = -1
		return err
	}
	if w := d.p.execWait(); w > 0 {
		d.sleep(w)
	}
	return nil
}

// put writes one character at the address counter and advances it.
func (d *Display) put(b byte) error {
	if err := d.p.write(true, b); err != nil {
		d.ac = -1
		return err
	}
	if w := d.p.execWait(); w > 0 {
		d.sleep(w)
	}
	if i := d.cellAt(d.ac); i >= 0 {
		d.cells[i] = b
	}
	d.ac = nextAddr(d.ac)
	return nil
}

func (d *Display) clear() error {
	if err := d.command(cmdClear); err != nil {
		return err
	}
	d.sleep(waitClear)
	for i := range d.cells {
		d.cells[i] = ' '
	}
	d.ac = 0
	return nil
}

// rowAddr is the DDRAM address of a row's first cell: 4-line modules are a
// 2-line controller whose lines are folded, rows 2 and 3 continuing rows 0
// and 1.
func (d *Display) rowAddr(r int) int {
	return [4]int{0x00, 0x40, d.cols, 0x40 + d.cols}[r]
}

// cellAt is the index in cells shown at DDRAM address a, or -1.
func (d *Display) cellAt(a int) int {
	for r := range d.rows {
		if s := d.rowAddr(r); a >= s && a < s+d.cols {
			return r*d.cols + a - s
		}
	}
	return -1
}

// nextAddr and prevAddr follow the address counter of a 2-line controller:
// 0x00–0x27 and 0x40–0x67, each wrapping into the other.
func nextAddr(a int) int {
	switch a {
	case -1:
		return -1
	case 0x27:
		return 0x40
	case 0x67:
		return 0x00
	}
	return a + 1
}

func prevAddr(a int) int {
	switch a {
	case -1:
		return -1
	case 0x40:
		return 0x27
	case 0x00:
		return 0x67
	}
	return a - 1
}

func (d *Display) setAddr(a int) error {
	if err := d.command(cmdDDRAM | byte(a&0x7F)); err != nil {
		return err
	}
	d.ac = a
	return nil
}

// Size is the number of rows and columns (hal.Display).
func (d *Display) Size() (rows, cols int) { return d.rows, d.cols }

// Show replaces the whole screen (hal.Display). Missing lines are blank, long
// lines are cut to the width, and characters the ROM lacks are replaced (see
// Encode). Only the cells that differ from the screen are written.
func (d *Display) Show(lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.next {
		d.next[i] = ' '
	}
	for r := 0; r < d.rows && r < len(lines); r++ {
		Encode(d.next[r*d.cols:(r+1)*d.cols], lines[r])
	}
	for r := range d.rows {
		for c := range d.cols {
			i := r*d.cols + c
			if d.next[i] == d.cells[i] {
				continue
			}
			if a := d.rowAddr(r) + c; a != d.ac {
				if err := d.setAddr(a); err != nil {
					return fmt.Errorf("hd44780: show: %w", err)
				}
			}
			if err := d.put(d.next[i]); err != nil {
				return fmt.Errorf("hd44780: show: %w", err)
			}
		}
	}
	return nil
}

// SetBacklight switches the backlight on or off. It is on after init.
func (d *Display) SetBacklight(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ok, err := d.p.backlight(on)
	if err != nil {
		return fmt.Errorf("hd44780: backlight: %w", err)
	}
	if !ok {
		return ErrNoBacklight
	}
	return nil
}

// Backlight implements display.DisplayBacklight: 0 is off, anything else on.
func (d *Display) Backlight(intensity display.Intensity) error {
	return d.SetBacklight(intensity != 0)
}

// Halt clears the screen and switches the display and backlight off
// (conn.Resource).
func (d *Display) Halt() error {
	err := d.Clear()
	if err == nil {
		err = d.Display(false)
	}
	if err == nil {
		if err = d.SetBacklight(false); errors.Is(err, ErrNoBacklight) {
			err = nil
		}
	}
	return err
}

// String names the display and its wiring.
func (d *Display) String() string {
	return fmt.Sprintf("HD44780 %d×%d on %s", d.rows, d.cols, d.p)
}
