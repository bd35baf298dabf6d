package keypad

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"deskphone/hal"
)

// playbackRig runs a keypad on an expander replaying ops, with Debounce =
// Poll = 5 ms so a press is down at the second scan that sees it.
func playbackRig(t *testing.T, ops []i2ctest.IO, build func(*i2ctest.Playback, *Opts) (*Keypad, error)) (*rig, *i2ctest.Playback) {
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	r := newRig(t, func(o *Opts) (*Keypad, error) {
		o.Debounce = 5 * time.Millisecond
		return build(bus, o)
	})
	return r, bus
}

// MCP23017 at 0x20, the phone layout with rows on GPA0-3 and columns on
// GPA4-6. Registers: IODIR 0x00, GPPU 0x0C, GPIO 0x12, OLAT 0x14; a 16-bit
// write sets port A then port B.
func mcpScan(gpioA ...byte) []i2ctest.IO {
	var ops []i2ctest.IO
	for row, v := range gpioA {
		iodir := ^byte(1 << row) // this row an output (latched low), the rest inputs
		ops = append(ops,
			i2ctest.IO{Addr: 0x20, W: []byte{0x00, iodir, 0xFF}},
			i2ctest.IO{Addr: 0x20, W: []byte{0x12}, R: []byte{v, 0xFF}})
	}
	return ops
}

func TestMCP23017Transcript(t *testing.T) {
	var ops []i2ctest.IO
	add := func(o ...i2ctest.IO) { ops = append(ops, o...) }
	add(
		i2ctest.IO{Addr: 0x20, W: []byte{0x14, 0x00, 0x00}},            // OLAT: every latch low
		i2ctest.IO{Addr: 0x20, W: []byte{0x0C, 0x70, 0x00}},            // GPPU: pull-ups on the columns GPA4-6
		i2ctest.IO{Addr: 0x20, W: []byte{0x00, 0xF0, 0xFF}},            // IODIR: idle, every row driven low
		i2ctest.IO{Addr: 0x20, W: []byte{0x12}, R: []byte{0xF0, 0xFF}}, // GPIO: no column low
		// 5 ms: "5" is down: column 1 (GPA5) reads low while its row (GPA1) is low.
		i2ctest.IO{Addr: 0x20, W: []byte{0x12}, R: []byte{0xD0, 0xFF}},
	)
	add(mcpScan(0xFE, 0xDD, 0xFB, 0xF7)...) // scan at 5 ms: rows 0-3 in turn
	add(mcpScan(0xFE, 0xDD, 0xFB, 0xF7)...) // 10 ms: down for 5 ms: Down
	add(mcpScan(0xFE, 0xFD, 0xFB, 0xF7)...) // 15 ms: released
	add(mcpScan(0xFE, 0xFD, 0xFB, 0xF7)...) // 20 ms: up for 5 ms: Up
	add(
		i2ctest.IO{Addr: 0x20, W: []byte{0x00, 0xF0, 0xFF}}, // idle again
		i2ctest.IO{Addr: 0x20, W: []byte{0x12}, R: []byte{0xF0, 0xFF}},
		i2ctest.IO{Addr: 0x20, W: []byte{0x00, 0xFF, 0xFF}}, // Close: every pin an input
	)
	r, bus := playbackRig(t, ops, func(b *i2ctest.Playback, o *Opts) (*Keypad, error) {
		return NewMCP23017(b, 0x20, []int{0, 1, 2, 3}, []int{4, 5, 6}, phoneLayout, o)
	})
	r.advance(2)
	r.expect(Event{"5", Down})
	r.advance(2)
	r.expect(Event{"5", Up})
	r.sync() // polling: asleep after the idle read
	if err := r.kp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// PCF8574 at 0x20, rows on P0-3 and columns on P4-6: one byte written sets
// every pin (0 = pulled low, 1 = weak pull-up, readable), one byte read
// gives every level.
func pcfScan(reads ...byte) []i2ctest.IO {
	var ops []i2ctest.IO
	for row, v := range reads {
		ops = append(ops,
			i2ctest.IO{Addr: 0x20, W: []byte{^byte(1 << row)}},
			i2ctest.IO{Addr: 0x20, R: []byte{v}})
	}
	return ops
}

func TestPCF8574Transcript(t *testing.T) {
	var ops []i2ctest.IO
	add := func(o ...i2ctest.IO) { ops = append(ops, o...) }
	add(
		i2ctest.IO{Addr: 0x20, W: []byte{0xF0}}, // every row low: idle
		i2ctest.IO{Addr: 0x20, R: []byte{0xF0}}, // no column low
		i2ctest.IO{Addr: 0x20, R: []byte{0xB0}}, // 5 ms: "#" (row 3, column 2 = P6) is down
	)
	add(pcfScan(0xFE, 0xFD, 0xFB, 0xB7)...) // 5 ms
	add(pcfScan(0xFE, 0xFD, 0xFB, 0xB7)...) // 10 ms: Down
	add(pcfScan(0xFE, 0xFD, 0xFB, 0xF7)...) // 15 ms: released
	add(pcfScan(0xFE, 0xFD, 0xFB, 0xF7)...) // 20 ms: Up
	add(
		i2ctest.IO{Addr: 0x20, W: []byte{0xF0}},
		i2ctest.IO{Addr: 0x20, R: []byte{0xF0}},
		i2ctest.IO{Addr: 0x20, W: []byte{0xFF}}, // Close: every pin released
	)
	r, bus := playbackRig(t, ops, func(b *i2ctest.Playback, o *Opts) (*Keypad, error) {
		return NewPCF8574(b, 0x20, []int{0, 1, 2, 3}, []int{4, 5, 6}, phoneLayout, o)
	})
	r.advance(2)
	r.expect(Event{"#", Down})
	r.advance(2)
	r.expect(Event{"#", Up})
	r.sync()
	if err := r.kp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	r.wantPresses("#")
}

// A chip that does not answer is an error naming the chip and its address.
func TestExpanderAbsent(t *testing.T) {
	for name, build := range map[string]func(*i2ctest.Playback) error{
		"MCP23017 at I2C address 0x21": func(b *i2ctest.Playback) error {
			_, err := NewMCP23017(b, 0x21, []int{0}, []int{1}, [][]hal.Key{{"1"}}, nil)
			return err
		},
		"PCF8574 at I2C address 0x3f": func(b *i2ctest.Playback) error {
			_, err := NewPCF8574(b, 0x3f, []int{0}, []int{1}, [][]hal.Key{{"1"}}, nil)
			return err
		},
	} {
		err := build(&i2ctest.Playback{DontPanic: true})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "does not answer") {
			t.Errorf("%s: error %v, want one naming it and saying it does not answer", name, err)
		}
	}
}

func TestExpanderBits(t *testing.T) {
	layout := [][]hal.Key{{"1", "2"}}
	for _, tc := range []struct {
		rows, cols []int
		want       string
	}{
		{[]int{8}, []int{0, 1}, "PCF8574 row bit 8 does not exist; use 0-7"},
		{[]int{0}, []int{1, 0}, "bit 0 is used twice"},
	} {
		_, err := NewPCF8574(&i2ctest.Playback{DontPanic: true}, 0x20, tc.rows, tc.cols, layout, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rows %v cols %v: %v, want %q", tc.rows, tc.cols, err, tc.want)
		}
	}
}
