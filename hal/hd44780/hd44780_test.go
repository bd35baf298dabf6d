package hd44780

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/display"
)

// opsPort records what the controller is sent, as "cmd 0xC0" and "data 'H'",
// so tests of the addressing logic read like the datasheet.
type opsPort struct {
	ops  []string
	fail bool
}

func (p *opsPort) nibble(n byte) error {
	p.ops = append(p.ops, fmt.Sprintf("nibble 0x%X", n))
	return nil
}
func (p *opsPort) write(data bool, b byte) error {
	if p.fail {
		return errors.New("bus down")
	}
	switch {
	case data && b < 0x80:
		p.ops = append(p.ops, fmt.Sprintf("data %q", rune(b)))
	case data:
		p.ops = append(p.ops, fmt.Sprintf("data 0x%02X", b))
	default:
		p.ops = append(p.ops, fmt.Sprintf("cmd 0x%02X", b))
	}
	return nil
}
func (p *opsPort) backlight(bool) (bool, error) { return false, nil }
func (p *opsPort) execWait() time.Duration      { return 0 }
func (p *opsPort) String() string               { return "ops" }

func newOps(t *testing.T, rows, cols int) (*Display, *opsPort) {
	t.Helper()
	p := &opsPort{}
	d := newDisplay(p, rows, cols, &Opts{Sleep: func(time.Duration) {}})
	if err := d.init(); err != nil {
		t.Fatal(err)
	}
	want := []string{"nibble 0x3", "nibble 0x3", "nibble 0x3", "nibble 0x2", "cmd 0x28", "cmd 0x0C", "cmd 0x01", "cmd 0x06"}
	if !slices.Equal(p.ops, want) {
		t.Fatalf("init:\n got %q\nwant %q", p.ops, want)
	}
	p.ops = nil
	return d, p
}

func expectOps(t *testing.T, p *opsPort, what string, want ...string) {
	t.Helper()
	if !slices.Equal(p.ops, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, p.ops, want)
	}
	p.ops = nil
}

// A 4×20 module is a 2-line controller folded: row 2 continues row 0 at
// 0x14 and row 3 continues row 1 at 0x54.
func TestShowAddresses4x20(t *testing.T) {
	d, p := newOps(t, 4, 20)
	if err := d.Show([]string{"", "", "a", "b"}); err != nil {
		t.Fatal(err)
	}
	expectOps(t, p, "rows 2 and 3", "cmd 0x94", "data 'a'", "cmd 0xD4", "data 'b'")

	// A full row 0 runs into row 2 without a new address.
	if err := d.Show([]string{"12345678901234567890", "", "xb", "b"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"cmd 0x80"}
	for _, c := range "12345678901234567890" {
		want = append(want, fmt.Sprintf("data %q", c))
	}
	want = append(want, "data 'x'", "data 'b'")
	expectOps(t, p, "row 0 into row 2", want...)
}

func TestShowOnlyChangedCells(t *testing.T) {
	d, p := newOps(t, 2, 16)
	if err := d.Show([]string{"Idle 1001", "Free"}); err != nil {
		t.Fatal(err)
	}
	p.ops = nil
	// Cells 5 and 6 of row 0 change; row 1 goes blank where it had text.
	if err := d.Show([]string{"Idle 2201"}); err != nil {
		t.Fatal(err)
	}
	expectOps(t, p, "changes", "cmd 0x85", "data '2'", "data '2'",
		"cmd 0xC0", "data ' '", "data ' '", "data ' '", "data ' '")
	// Too long lines are cut, extra lines ignored.
	if err := d.Show([]string{"Idle 2201        cut", "", "ignored"}); err != nil {
		t.Fatal(err)
	}
	expectOps(t, p, "cut")
}

func TestShowBusErrorThenRecovers(t *testing.T) {
	d, p := newOps(t, 2, 16)
	p.fail = true
	if err := d.Show([]string{"abc"}); err == nil || !strings.Contains(err.Error(), "bus down") {
		t.Fatalf("err = %v, want the bus error", err)
	}
	if _, err := d.WriteString("x"); err == nil {
		t.Error("WriteString with an unknown cursor: no error")
	}
	p.fail = false
	p.ops = nil
	if err := d.Show([]string{"abc"}); err != nil {
		t.Fatal(err)
	}
	// The address is set again since the counter is unknown.
	expectOps(t, p, "after the error", "cmd 0x80", "data 'a'", "data 'b'", "data 'c'")
}

func TestTextDisplay(t *testing.T) {
	d, p := newOps(t, 4, 20)
	var td display.TextDisplay = d
	if td.Rows() != 4 || td.Cols() != 20 || td.MinRow() != 0 || td.MinCol() != 0 {
		t.Errorf("Rows, Cols, MinRow, MinCol = %d %d %d %d", td.Rows(), td.Cols(), td.MinRow(), td.MinCol())
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(td.MoveTo(1, 5))
	n, err := td.WriteString("Ωk")
	must(err)
	if n != len("Ωk") {
		t.Errorf("WriteString: n = %d, want %d", n, len("Ωk"))
	}
	must(td.Move(display.Up))
	must(td.Move(display.Backward))
	must(td.Cursor(display.CursorUnderline, display.CursorBlink))
	must(td.Display(false))
	must(td.Cursor(display.CursorOff))
	must(td.Display(true))
	expectOps(t, p, "text display",
		"cmd 0xC5", "data 0xF4", "data 'k'", // row 1 column 5; Ω is 0xF4 in the A00 ROM
		"cmd 0x87",             // up: row 0 column 7
		"cmd 0x10",             // back one
		"cmd 0x0F", "cmd 0x0B", // cursor and blink on; display off
		"cmd 0x08", "cmd 0x0C", // cursor off; display on
	)
	// What Write put on screen is remembered: Show of the same text sends nothing.
	must(d.Show([]string{"", "     Ωk"}))
	expectOps(t, p, "Show after Write")

	if err := td.MoveTo(4, 0); err == nil || !strings.Contains(err.Error(), "outside the 4×20 screen") {
		t.Errorf("MoveTo(4, 0): err = %v", err)
	}
	if err := td.AutoScroll(true); !errors.Is(err, display.ErrNotImplemented) {
		t.Errorf("AutoScroll(true): err = %v, want ErrNotImplemented", err)
	}
	if err := td.Cursor(display.CursorMode(9)); !errors.Is(err, display.ErrInvalidCommand) {
		t.Errorf("Cursor(9): err = %v, want ErrInvalidCommand", err)
	}
	must(td.Clear())
	must(td.Home())
	expectOps(t, p, "clear, home", "cmd 0x01", "cmd 0x02")
	if err := d.SetBacklight(true); !errors.Is(err, ErrNoBacklight) {
		t.Errorf("SetBacklight without a backlight: err = %v", err)
	}
}
