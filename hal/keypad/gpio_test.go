package keypad

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"deskphone/hal"
)

func gpioRig(t *testing.T, m *matrix) *rig {
	return newRig(t, func(o *Opts) (*Keypad, error) {
		rows, cols := m.pins()
		return NewGPIO(rows, cols, phoneLayout, o)
	})
}

// An edge wakes the scanner; the key is down once it has read down for the
// debounce time (20 ms: scans at 0, 5, 10, 15, 20 ms), and up likewise.
func TestGPIOPressOnEdge(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	m.set(1, 1, true) // "5": its edge wakes the scanner, first scan at 0 ms
	r.advance(3)
	r.quiet() // 15 ms: still settling
	r.advance(1)
	r.expect(Event{"5", Down})
	r.wantPresses("5")
	m.set(1, 1, false)
	r.advance(4)
	r.quiet() // released at 25 ms: up 20 ms later
	r.toIdle(func() { r.advance(1) })
	r.expect(Event{"5", Up})
	r.wantPresses()
	// Every key up and settled, the scanner waits for the next edge, with
	// no timer, and wakes for it.
	m.set(3, 2, true) // "#"
	r.advance(4)
	r.expect(Event{"#", Down})
}

// A press whose contacts bounce three times gives one Down, and no Up.
func TestGPIOBounce(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	for range 3 {
		m.set(0, 0, true) // contact: an edge wakes the scanner
		r.advance(1)
		r.sync()
		m.set(0, 0, false) // and opens again before it settles
		r.toIdle(func() { r.advance(1) })
	}
	r.none()
	m.set(0, 0, true)
	r.advance(3)
	r.quiet()
	r.advance(1)
	r.expect(Event{"1", Down})
	r.advance(10)
	r.quiet()
	r.wantPresses("1")
}

// A tap shorter than the debounce time is noise: no event.
func TestGPIOShortGlitch(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	m.set(2, 0, true)
	r.advance(3) // 15 ms
	r.sync()
	m.set(2, 0, false)
	r.toIdle(func() { r.advance(1) })
	r.none()
	m.set(2, 1, true)
	r.advance(4)
	r.expect(Event{"8", Down}) // the next key still works
	r.wantPresses("8")
}

// Held for LongPress after Down: one Long, then Up on release.
func TestGPIOLongPress(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	m.set(3, 0, true) // "*"
	r.advance(4)
	r.expect(Event{"*", Down})
	r.advance(159) // 795 ms after Down
	r.quiet()
	r.advance(1)
	r.expect(Event{"*", Long})
	r.advance(200) // held on: no second Long
	r.quiet()
	m.set(3, 0, false)
	r.toIdle(func() { r.advance(5) })
	r.expect(Event{"*", Up})
	r.wantPresses("*") // a long press is one press
}

// Two keys on different rows and columns are both seen, and released apart.
func TestGPIOTwoKeys(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	m.pressTogether([2]int{0, 0}, [2]int{1, 2}) // "1" and "6"
	r.advance(4)
	r.expect(Event{"1", Down}, Event{"6", Down})
	m.set(0, 0, false)
	r.advance(5)
	r.expect(Event{"1", Up})
	r.quiet()
	m.set(1, 2, false)
	r.toIdle(func() { r.advance(5) })
	r.expect(Event{"6", Up})
	r.wantPresses("1", "6")
}

// Columns without edge detection: the scanner polls all the time.
func TestGPIOPolling(t *testing.T) {
	m := newMatrix(4, 3, false)
	r := gpioRig(t, m)
	r.advance(10) // idle, yet on a timer: polling
	r.quiet()
	m.set(2, 2, true) // "9", no edge: seen at the next poll
	r.advance(5)
	r.expect(Event{"9", Down})
}

// Only the scanned row is driven; the others float, so two keys in one
// column never join a high row to a low one.
func TestGPIORowsFloat(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	m.set(1, 1, true)
	r.sync() // after a scan: the last row driven, the others floating
	for i, row := range m.rows {
		row.Lock()
		float, l := row.float, row.L
		row.Unlock()
		if i < 3 && !float || i == 3 && (float || l != gpio.Low) {
			t.Errorf("row %d: floating=%v level=%v after a scan; want only row 3 driven low", i, float, l)
		}
	}
	if got := m.cols[0].Pull(); got != gpio.PullUp {
		t.Errorf("column pull = %v, want up", got)
	}
}

func TestCloseClosesChannels(t *testing.T) {
	m := newMatrix(4, 3, true)
	r := gpioRig(t, m)
	if err := r.kp.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []func() bool{
		func() bool { _, ok := <-r.kp.Presses(); return ok },
		func() bool { _, ok := <-r.kp.Events(); return ok },
	} {
		if c() {
			t.Error("a channel is still open after Close")
		}
	}
	if err := r.kp.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLayoutErrors(t *testing.T) {
	m := newMatrix(4, 3, false)
	rows, cols := m.pins()
	for _, tc := range []struct {
		layout [][]hal.Key
		want   string
	}{
		{phoneLayout[:3], "layout has 3 rows but 4 row pins"},
		{[][]hal.Key{{"1", "2"}, {"4", "5", "6"}, {"7", "8", "9"}, {"*", "0", "#"}}, "layout row 0 has 2 keys but 3 column pins"},
		{[][]hal.Key{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"*", "0", "1"}}, `key "1" appears twice`},
	} {
		_, err := NewGPIO(rows, cols, tc.layout, &Opts{Poll: time.Hour})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewGPIO(%v) = %v, want an error containing %q", tc.layout, err, tc.want)
		}
	}
}
