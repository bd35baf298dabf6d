package ssd1306

import (
	"fmt"

	"periph.io/x/conn/v3/display"
)

var _ display.TextDisplay = (*Display)(nil)

// The display.TextDisplay methods, on the 8×21 text grid. Rows and columns
// count from 0 (MinRow and MinCol are 0). No cursor is drawn.

// Rows is the number of text rows: 8.
func (d *Display) Rows() int { return Rows }

// Cols is the number of text columns: 21.
func (d *Display) Cols() int { return Cols }

// MinRow is the first row's number: 0.
func (d *Display) MinRow() int { return 0 }

// MinCol is the first column's number: 0.
func (d *Display) MinCol() int { return 0 }

// AutoScroll switches nothing: true is not supported, text stops at the
// last cell.
func (d *Display) AutoScroll(enabled bool) error {
	if enabled {
		return fmt.Errorf("ssd1306: auto scroll: %w", display.ErrNotImplemented)
	}
	return nil
}

// Clear blanks the screen and moves the cursor home.
func (d *Display) Clear() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.clear(); err != nil {
		return fmt.Errorf("ssd1306: clear: %w", err)
	}
	return nil
}

// Home moves the cursor to row 0, column 0.
func (d *Display) Home() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.row, d.col = 0, 0
	return nil
}

// Cursor accepts CursorOff only: the OLED draws no cursor.
func (d *Display) Cursor(modes ...display.CursorMode) error {
	for _, m := range modes {
		switch m {
		case display.CursorOff:
		case display.CursorUnderline, display.CursorBlock, display.CursorBlink:
			return fmt.Errorf("ssd1306: cursor: %w", display.ErrNotImplemented)
		default:
			return fmt.Errorf("ssd1306: cursor mode %d: %w", m, display.ErrInvalidCommand)
		}
	}
	return nil
}

// Display switches the panel on or off; its content is kept.
func (d *Display) Display(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.power(on); err != nil {
		return fmt.Errorf("ssd1306: display on/off: %w", err)
	}
	return nil
}

// Move moves the cursor one cell; forward and back run on into the next or
// previous row.
func (d *Display) Move(dir display.CursorDirection) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := d.row*Cols + d.col
	switch dir {
	case display.Forward:
		i++
	case display.Backward:
		i--
	case display.Up:
		i -= Cols
	case display.Down:
		i += Cols
	default:
		return fmt.Errorf("ssd1306: move direction %d: %w", dir, display.ErrInvalidCommand)
	}
	if i < 0 || i >= Rows*Cols {
		return fmt.Errorf("ssd1306: move: the cursor would leave the %d×%d screen", Rows, Cols)
	}
	d.row, d.col = i/Cols, i%Cols
	return nil
}

// MoveTo moves the cursor to a row and column, counted from 0.
func (d *Display) MoveTo(row, col int) error {
	if row < 0 || row >= Rows || col < 0 || col >= Cols {
		return fmt.Errorf("ssd1306: move to row %d, column %d: outside the %d×%d screen (rows and columns count from 0)", row, col, Rows, Cols)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.row, d.col = row, col
	return nil
}

// Write writes UTF-8 text at the cursor, one cell per character (see
// Encode), running on into the next row; what goes past the last cell is
// dropped. n counts the bytes of p consumed.
func (d *Display) Write(p []byte) (n int, err error) {
	return d.WriteString(string(p))
}

// WriteString writes text at the cursor, like Write.
func (d *Display) WriteString(text string) (n int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next = d.text
	i := d.row*Cols + d.col
	for _, r := range text {
		if i >= Rows*Cols {
			break
		}
		d.next[i] = EncodeRune(r)
		i++
	}
	if err := d.flush(); err != nil {
		return 0, fmt.Errorf("ssd1306: write: %w", err)
	}
	if i >= Rows*Cols {
		i = Rows*Cols - 1
	}
	d.row, d.col = i/Cols, i%Cols
	return len(text), nil
}
