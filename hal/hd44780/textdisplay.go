package hd44780

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/display"
)

// The display.TextDisplay methods. Rows and columns count from 0 (MinRow and
// MinCol are 0). Text written this way is remembered, so a later Show still
// writes only what differs.

// Rows is the number of rows.
func (d *Display) Rows() int { return d.rows }

// Cols is the number of columns.
func (d *Display) Cols() int { return d.cols }

// MinRow is the first row's number: 0.
func (d *Display) MinRow() int { return 0 }

// MinCol is the first column's number: 0.
func (d *Display) MinCol() int { return 0 }

// AutoScroll switches nothing: true is not supported, shifting the display would move text
// under Show's record of the screen.
func (d *Display) AutoScroll(enabled bool) error {
	if enabled {
		return fmt.Errorf("hd44780: auto scroll: %w", display.ErrNotImplemented)
	}
	return nil
}

// Clear blanks the screen and moves the cursor home.
func (d *Display) Clear() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.clear(); err != nil {
		return fmt.Errorf("hd44780: clear: %w", err)
	}
	return nil
}

// Home moves the cursor to row 0, column 0.
func (d *Display) Home() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.command(cmdHome); err != nil {
		return fmt.Errorf("hd44780: home: %w", err)
	}
	d.sleep(waitClear)
	d.ac = 0
	return nil
}

// Cursor sets the cursor's look: CursorOff hides it, CursorUnderline and
// CursorBlock (or CursorBlink, the same on this chip) show it; they combine.
func (d *Display) Cursor(modes ...display.CursorMode) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctl := d.ctl
	for _, m := range modes {
		switch m {
		case display.CursorOff:
			ctl &^= ctlCursor | ctlBlink
		case display.CursorUnderline:
			ctl |= ctlCursor
		case display.CursorBlock, display.CursorBlink:
			ctl |= ctlBlink
		default:
			return fmt.Errorf("hd44780: cursor mode %d: %w", m, display.ErrInvalidCommand)
		}
	}
	return d.control(ctl)
}

// Display switches the screen on or off; its content is kept.
func (d *Display) Display(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctl := d.ctl &^ ctlOn
	if on {
		ctl |= ctlOn
	}
	return d.control(ctl)
}

func (d *Display) control(ctl byte) error {
	if err := d.command(cmdControl | ctl); err != nil {
		return fmt.Errorf("hd44780: display control: %w", err)
	}
	d.ctl = ctl
	return nil
}

// Move moves the cursor one cell.
func (d *Display) Move(dir display.CursorDirection) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ac < 0 {
		return errUnknownCursor
	}
	switch dir {
	case display.Forward:
		if err := d.command(cmdShiftRight); err != nil {
			return fmt.Errorf("hd44780: move: %w", err)
		}
		d.ac = nextAddr(d.ac)
		return nil
	case display.Backward:
		if err := d.command(cmdShiftLeft); err != nil {
			return fmt.Errorf("hd44780: move: %w", err)
		}
		d.ac = prevAddr(d.ac)
		return nil
	case display.Up, display.Down:
		i := d.cellAt(d.ac)
		if i < 0 {
			return errors.New("hd44780: move: the cursor is off screen; use MoveTo")
		}
		r, c := i/d.cols, i%d.cols
		if dir == display.Up {
			r--
		} else {
			r++
		}
		return d.moveTo(r, c)
	}
	return fmt.Errorf("hd44780: move direction %d: %w", dir, display.ErrInvalidCommand)
}

// MoveTo moves the cursor to a row and column, counted from 0.
func (d *Display) MoveTo(row, col int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.moveTo(row, col)
}

func (d *Display) moveTo(row, col int) error {
	if row < 0 || row >= d.rows || col < 0 || col >= d.cols {
		return fmt.Errorf("hd44780: move to row %d, column %d: outside the %d×%d screen (rows and columns count from 0)", row, col, d.rows, d.cols)
	}
	if err := d.setAddr(d.rowAddr(row) + col); err != nil {
		return fmt.Errorf("hd44780: move: %w", err)
	}
	return nil
}

var errUnknownCursor = errors.New("hd44780: the cursor position is unknown after a bus error; call MoveTo, Home or Clear")

// Write writes UTF-8 text at the cursor, one cell per character (see
// Encode); a line that runs off the right edge continues wherever the
// controller's address counter goes. n counts the bytes of p consumed.
func (d *Display) Write(p []byte) (n int, err error) {
	return d.WriteString(string(p))
}

// WriteString writes text at the cursor, like Write.
func (d *Display) WriteString(text string) (n int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ac < 0 {
		return 0, errUnknownCursor
	}
	for i, r := range text {
		if err := d.put(EncodeRune(r)); err != nil {
			return i, fmt.Errorf("hd44780: write: %w", err)
		}
	}
	return len(text), nil
}
