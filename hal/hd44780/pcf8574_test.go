package hd44780

import (
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// Each byte to the backpack is D7 D6 D5 D4 BL E RW RS (P7..P0). A nibble is
// two bytes, E high then E low (the controller latches on the fall), and a
// whole instruction or character is one 4-byte write, high nibble first.
// BL (0x08) is set in every byte while the backlight is on.
var initTranscript = []i2ctest.IO{
	{Addr: 0x27, W: []byte{0x08}},                   // all low but the backlight: is anyone there?
	{Addr: 0x27, W: []byte{0x3C, 0x38}},             // 0x3 (8-bit mode), wait 5 ms
	{Addr: 0x27, W: []byte{0x3C, 0x38}},             // 0x3, wait 150 µs
	{Addr: 0x27, W: []byte{0x3C, 0x38}},             // 0x3, wait 150 µs
	{Addr: 0x27, W: []byte{0x2C, 0x28}},             // 0x2: 4-bit mode from here
	{Addr: 0x27, W: []byte{0x2C, 0x28, 0x8C, 0x88}}, // 0x28 function set: 4-bit, 2 lines, 5×8
	{Addr: 0x27, W: []byte{0x0C, 0x08, 0xCC, 0xC8}}, // 0x0C display on, no cursor
	{Addr: 0x27, W: []byte{0x0C, 0x08, 0x1C, 0x18}}, // 0x01 clear, wait 2 ms
	{Addr: 0x27, W: []byte{0x0C, 0x08, 0x6C, 0x68}}, // 0x06 entry mode: increment, no shift
}

var initSleeps = []time.Duration{
	50 * time.Millisecond, 5 * time.Millisecond, 150 * time.Microsecond, 150 * time.Microsecond,
	50 * time.Microsecond, 2 * time.Millisecond,
}

type sleeps []time.Duration

func (s *sleeps) sleep(d time.Duration) { *s = append(*s, d) }

func newPCF(t *testing.T, rows, cols int, ops ...i2ctest.IO) (*Display, *i2ctest.Playback, *sleeps) {
	t.Helper()
	bus := &i2ctest.Playback{Ops: append(append([]i2ctest.IO{}, initTranscript...), ops...), DontPanic: true}
	var s sleeps
	d, err := NewPCF8574(bus, 0x27, rows, cols, &Opts{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return d, bus, &s
}

func TestPCF8574Init(t *testing.T) {
	d, bus, s := newPCF(t, 2, 16)
	if err := bus.Close(); err != nil {
		t.Fatalf("init transcript: %v", err)
	}
	if !slices.Equal(*s, initSleeps) {
		t.Errorf("waits %v, want %v", *s, initSleeps)
	}
	if r, c := d.Size(); r != 2 || c != 16 {
		t.Errorf("Size() = %d, %d, want 2, 16", r, c)
	}
	if got, want := d.String(), "HD44780 2×16 on PCF8574 backpack at I2C address 0x27"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestPCF8574ShowLine(t *testing.T) {
	d, bus, _ := newPCF(t, 2, 16,
		// Show("", "Hi"): row 1 starts at DDRAM 0x40.
		i2ctest.IO{Addr: 0x27, W: []byte{0xCC, 0xC8, 0x0C, 0x08}}, // 0xC0 set DDRAM address 0x40
		i2ctest.IO{Addr: 0x27, W: []byte{0x4D, 0x49, 0x8D, 0x89}}, // 'H' 0x48, RS high
		i2ctest.IO{Addr: 0x27, W: []byte{0x6D, 0x69, 0x9D, 0x99}}, // 'i' 0x69
		// Show("", "Ho"): only the changed cell, at 0x41.
		i2ctest.IO{Addr: 0x27, W: []byte{0xCC, 0xC8, 0x1C, 0x18}}, // 0xC1
		i2ctest.IO{Addr: 0x27, W: []byte{0x6D, 0x69, 0xFD, 0xF9}}, // 'o' 0x6F
		// SetBacklight(false): one byte, E low, backlight bit clear.
		i2ctest.IO{Addr: 0x27, W: []byte{0x00}},
		// Show("", "Hi"): the same bytes without the backlight bit.
		i2ctest.IO{Addr: 0x27, W: []byte{0xC4, 0xC0, 0x14, 0x10}}, // 0xC1
		i2ctest.IO{Addr: 0x27, W: []byte{0x65, 0x61, 0x95, 0x91}}, // 'i'
	)
	steps := []func() error{
		func() error { return d.Show([]string{"", "Hi"}) },
		func() error { return d.Show([]string{"", "Hi"}) }, // unchanged: nothing on the bus
		func() error { return d.Show([]string{"", "Ho"}) },
		func() error { return d.SetBacklight(false) },
		func() error { return d.Show([]string{"", "Hi"}) },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("transcript: %v", err)
	}
}

func TestPCF8574Absent(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // nothing answers
	_, err := NewPCF8574(bus, 0x27, 4, 20, &Opts{Sleep: func(time.Duration) {}})
	if err == nil || !strings.HasPrefix(err.Error(), "hd44780: no display at I2C address 0x27: ") {
		t.Fatalf("err = %v, want 'hd44780: no display at I2C address 0x27: ...'", err)
	}
}

func TestPCF8574BadArgs(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true}
	for _, c := range []struct {
		addr       uint16
		rows, cols int
		want       string
	}{
		{0x27, 2, 40, "2×40 (rows×cols) is not a supported size: use 2×16, 4×20, 2×20 or 4×16"},
		{0x27, 1, 16, "1×16 (rows×cols) is not a supported size"},
		{0x40, 2, 16, "I2C address 0x40 is not a PCF8574 backpack's: use 0x20–0x27 (PCF8574, usually 0x27) or 0x38–0x3F (PCF8574A, usually 0x3F)"},
		{0x30, 2, 16, "I2C address 0x30 is not"},
	} {
		_, err := NewPCF8574(bus, c.addr, c.rows, c.cols, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewPCF8574(%#x, %d, %d): err = %v, want it to contain %q", c.addr, c.rows, c.cols, err, c.want)
		}
	}
	if bus.Count != 0 {
		t.Errorf("%d bus writes for refused arguments, want none", bus.Count)
	}
}

// nopBus accepts every write, for measuring the driver alone.
type nopBus struct{}

func (nopBus) String() string                  { return "nop" }
func (nopBus) Tx(uint16, []byte, []byte) error { return nil }
func (nopBus) SetSpeed(physic.Frequency) error { return nil }

// Show runs on every screen change: it must not allocate.
func TestShowAllocs(t *testing.T) {
	d, err := NewPCF8574(nopBus{}, 0x3F, 4, 20, &Opts{Sleep: func(time.Duration) {}})
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
