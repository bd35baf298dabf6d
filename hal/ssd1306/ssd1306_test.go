package ssd1306

import (
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/display"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// The init transcript: every I²C write starts with a control byte, 0x00 for
// commands and 0x40 for display RAM (datasheet §8.1.5.2).
func initTranscript(addr uint16) []i2ctest.IO {
	ops := []i2ctest.IO{
		{Addr: addr, W: []byte{0x00,
			0xAE,       // display off
			0xA8, 0x3F, // multiplex: 64 rows
			0xD3, 0x00, // display offset 0
			0x40,       // start line 0
			0xA1,       // segment remap: column 127 is SEG0
			0xC8,       // COM scan from COM63 to COM0
			0xDA, 0x12, // COM pins: alternative
			0x81, 0xCF, // contrast
			0xA4,       // show RAM
			0xA6,       // not inverted
			0xD5, 0x80, // clock
			0x8D, 0x14, // charge pump on
			0xD9, 0xF1, // pre-charge
			0xDB, 0x40, // VCOMH
			0x20, 0x00, // horizontal addressing
			0x2E, // no scroll
		}},
		{Addr: addr, W: []byte{0x00, 0x21, 0, 127, 0x22, 0, 7}}, // window: the whole RAM
	}
	for range 8 { // 8 blank pages of 128 columns
		ops = append(ops, i2ctest.IO{Addr: addr, W: append([]byte{0x40}, make([]byte, 128)...)})
	}
	return append(ops, i2ctest.IO{Addr: addr, W: []byte{0x00, 0xAF}}) // display on
}

func newOLED(t *testing.T, ops ...i2ctest.IO) (*Display, *i2ctest.Playback) {
	t.Helper()
	bus := &i2ctest.Playback{Ops: append(initTranscript(0x3C), ops...), DontPanic: true}
	d, err := NewI2C(bus, 0x3C, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, bus
}

func TestInit(t *testing.T) {
	d, bus := newOLED(t)
	if err := bus.Close(); err != nil {
		t.Fatalf("init transcript: %v", err)
	}
	if r, c := d.Size(); r != 8 || c != 21 {
		t.Errorf("Size() = %d, %d, want 8, 21", r, c)
	}
	if got, want := d.String(), "SSD1306 128×64 (8×21 text) at I2C address 0x3C"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestRotatedAt3D(t *testing.T) {
	ops := initTranscript(0x3D)
	w := ops[0].W
	w[7], w[8] = 0xA0, 0xC0 // segment remap and COM scan flipped
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	if _, err := NewI2C(bus, 0x3D, &Opts{Rotated: true}); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("init transcript: %v", err)
	}
}

// Each text row is one 8-pixel page; a cell is its glyph's 5 columns and a
// blank one, starting after a 1-column margin. Only the changed cells of a
// changed row are sent.
func TestShow(t *testing.T) {
	d, bus := newOLED(t,
		// Show("Hi", …, "ok"): row 0, cells 0–1: columns 1–12 of page 0.
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 1, 12, 0x22, 0, 0}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40,
			0x7F, 0x08, 0x08, 0x08, 0x7F, 0x00, // H
			0x00, 0x44, 0x7D, 0x40, 0x00, 0x00, // i
		}},
		// row 7, the last page.
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 1, 12, 0x22, 7, 7}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40,
			0x38, 0x44, 0x44, 0x44, 0x38, 0x00, // o
			0x7F, 0x10, 0x28, 0x44, 0x00, 0x00, // k
		}},
		// Show("Ho"): cell 1 of row 0 only, columns 7–12; row 7 blanked.
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 7, 12, 0x22, 0, 0}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40, 0x38, 0x44, 0x44, 0x44, 0x38, 0x00}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 1, 12, 0x22, 7, 7}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// Show of a full row: columns 1–126, the 21st cell ends at 126.
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 1, 126, 0x22, 3, 3}},
		i2ctest.IO{Addr: 0x3C, W: append([]byte{0x40}, fullRow()...)},
	)
	steps := [][]string{
		{"Hi", "", "", "", "", "", "", "ok"},
		{"Hi", "", "", "", "", "", "", "ok"}, // unchanged: nothing sent
		{"Ho"},
		{"Ho", "", "", "_____________________ cut"},
	}
	for i, lines := range steps {
		if err := d.Show(lines); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("transcript: %v", err)
	}
}

func fullRow() []byte {
	var px []byte
	for range 21 {
		px = append(px, 0x40, 0x40, 0x40, 0x40, 0x40, 0x00) // '_'
	}
	return px
}

// A person can read the glyphs: the pixels sent for "Call 1002" drawn as art.
func TestFontReads(t *testing.T) {
	rec := &i2ctest.Record{}
	d, err := NewI2C(rec, 0x3C, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.Ops = nil
	if err := d.Show([]string{"Call 1002"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.Ops) != 2 {
		t.Fatalf("%d writes, want a window and its pixels", len(rec.Ops))
	}
	want := `
.###.........##....##...........#....###...###...###..
#...#.........#.....#..........##...#...#.#...#.#...#.
#......###....#.....#...........#...#..##.#..##.....#.
#.........#...#.....#...........#...#.#.#.#.#.#....#..
#......####...#.....#...........#...##..#.##..#...#...
#...#.#...#...#.....#...........#...#...#.#...#..#....
.###...####..###...###.........###...###...###..#####.
......................................................
`
	if got := "\n" + art(rec.Ops[1].W[1:]); got != want {
		t.Errorf("pixels:%s\nwant:%s", got, want)
	}
	for c := byte(0x20); c <= 0x7E; c++ {
		for _, col := range glyph(c) {
			if col&0x80 != 0 {
				t.Errorf("glyph %q uses row 8, the blank row under the text", c)
			}
		}
	}
}

func art(px []byte) string {
	var b strings.Builder
	for bit := range 8 {
		for _, col := range px {
			if col&(1<<bit) != 0 {
				b.WriteByte('#')
			} else {
				b.WriteByte('.')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestAbsent(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // nothing answers
	_, err := NewI2C(bus, 0x3D, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "ssd1306: no display at I2C address 0x3D: ") {
		t.Fatalf("err = %v, want 'ssd1306: no display at I2C address 0x3D: ...'", err)
	}
	_, err = NewI2C(bus, 0x27, nil)
	if err == nil || !strings.Contains(err.Error(), "I2C address 0x27 is not an SSD1306's: use 0x3C (most modules) or 0x3D") {
		t.Errorf("0x27: err = %v", err)
	}
}

func TestEncode(t *testing.T) {
	got := make([]byte, Cols)
	Encode(got, "José Müller ~\\ 漢\t\xff and more")
	if want := "Jose Muller ~\\ ??? an"; string(got) != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
}

func TestTextDisplay(t *testing.T) {
	d, bus := newOLED(t,
		// MoveTo(2, 19), WriteString("abc"): "ab" ends row 2, "c" starts row 3.
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 115, 126, 0x22, 2, 2}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40, 0x20, 0x54, 0x54, 0x54, 0x78, 0, 0x7F, 0x48, 0x44, 0x44, 0x38, 0}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0x21, 1, 6, 0x22, 3, 3}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x40, 0x38, 0x44, 0x44, 0x44, 0x20, 0}},
		i2ctest.IO{Addr: 0x3C, W: []byte{0x00, 0xAE}}, // Display(false)
	)
	var td display.TextDisplay = d
	if td.Rows() != 8 || td.Cols() != 21 || td.MinRow() != 0 || td.MinCol() != 0 {
		t.Errorf("Rows, Cols, MinRow, MinCol = %d %d %d %d", td.Rows(), td.Cols(), td.MinRow(), td.MinCol())
	}
	if err := td.MoveTo(2, 19); err != nil {
		t.Fatal(err)
	}
	if n, err := td.WriteString("abc"); err != nil || n != 3 {
		t.Fatalf("WriteString: %d, %v", n, err)
	}
	// The text written is remembered: Show of the same screen sends nothing.
	if err := d.Show([]string{"", "", "                   ab", "c"}); err != nil {
		t.Fatal(err)
	}
	if err := td.Display(false); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("transcript: %v", err)
	}
	if err := td.Move(display.Up); err != nil {
		t.Error(err)
	}
	if err := td.MoveTo(8, 0); err == nil || !strings.Contains(err.Error(), "outside the 8×21 screen") {
		t.Errorf("MoveTo(8, 0): err = %v", err)
	}
	if err := td.Cursor(display.CursorBlink); !errors.Is(err, display.ErrNotImplemented) {
		t.Errorf("Cursor(CursorBlink): err = %v", err)
	}
	if err := td.AutoScroll(true); !errors.Is(err, display.ErrNotImplemented) {
		t.Errorf("AutoScroll(true): err = %v", err)
	}
}

// nopBus accepts every write, for measuring the driver alone.
type nopBus struct{}

func (nopBus) String() string                  { return "nop" }
func (nopBus) Tx(uint16, []byte, []byte) error { return nil }
func (nopBus) SetSpeed(physic.Frequency) error { return nil }

// Show runs on every screen change: it must not allocate.
func TestShowAllocs(t *testing.T) {
	d, err := NewI2C(nopBus{}, 0x3C, nil)
	if err != nil {
		t.Fatal(err)
	}
	screens := [][]string{{"1001  Registered", "Free", "", "12:04"}, {"Calling 1002", "00:01", "Muted"}}
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		if err := d.Show(screens[i%2]); err != nil {
			t.Fatal(err)
		}
		i++
	}); n != 0 {
		t.Errorf("Show: %v allocations, want 0", n)
	}
}
