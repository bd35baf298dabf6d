package keypad

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"deskphone/hal"
)

// A fake key matrix wired from gpiotest pins: a column reads low while a
// pressed key joins it to a row driven low.
type matrix struct {
	mu      sync.Mutex
	pressed map[[2]int]bool
	rows    []*rowPin
	cols    []*colPin
}

// rowPin is a row output that can also float (an input), as the scanner
// leaves the rows it is not scanning.
type rowPin struct {
	gpiotest.Pin
	float bool
}

func (r *rowPin) In(gpio.Pull, gpio.Edge) error {
	r.Lock()
	defer r.Unlock()
	r.float = true
	return nil
}

func (r *rowPin) Out(l gpio.Level) error {
	r.Lock()
	defer r.Unlock()
	r.float, r.L = false, l
	return nil
}

func (r *rowPin) drivenLow() bool {
	r.Lock()
	defer r.Unlock()
	return !r.float && r.L == gpio.Low
}

type colPin struct {
	gpiotest.Pin
	m *matrix
	c int
}

func (c *colPin) Read() gpio.Level {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for k := range c.m.pressed {
		if k[1] == c.c && c.m.rows[k[0]].drivenLow() {
			return gpio.Low
		}
	}
	return gpio.High
}

// newMatrix makes rows×cols pins; with edges the columns detect edges.
func newMatrix(rows, cols int, edges bool) *matrix {
	m := &matrix{pressed: map[[2]int]bool{}}
	for r := range rows {
		m.rows = append(m.rows, &rowPin{Pin: gpiotest.Pin{N: "ROW", Num: r}})
	}
	for c := range cols {
		p := &colPin{Pin: gpiotest.Pin{N: "COL", Num: c}, m: m, c: c}
		if edges {
			p.EdgesChan = make(chan gpio.Level, 16)
		}
		m.cols = append(m.cols, p)
	}
	return m
}

func (m *matrix) pins() ([]gpio.PinOut, []gpio.PinIn) {
	var rows []gpio.PinOut
	var cols []gpio.PinIn
	for _, r := range m.rows {
		rows = append(rows, r)
	}
	for _, c := range m.cols {
		cols = append(cols, c)
	}
	return rows, cols
}

// set presses or releases the key at row r, column c; a press makes a
// falling edge on the column, as the real pin would.
func (m *matrix) set(r, c int, down bool) {
	m.mu.Lock()
	if down {
		m.pressed[[2]int{r, c}] = true
	} else {
		delete(m.pressed, [2]int{r, c})
	}
	m.mu.Unlock()
	if ch := m.cols[c].EdgesChan; ch != nil && down {
		ch <- gpio.Low
	}
}

// pressTogether presses keys at once: all are down before any edge.
func (m *matrix) pressTogether(pos ...[2]int) {
	m.mu.Lock()
	for _, p := range pos {
		m.pressed[p] = true
	}
	m.mu.Unlock()
	for _, p := range pos {
		if ch := m.cols[p[1]].EdgesChan; ch != nil {
			ch <- gpio.Low
		}
	}
}

var phoneLayout = [][]hal.Key{
	{"1", "2", "3"},
	{"4", "5", "6"},
	{"7", "8", "9"},
	{"*", "0", "#"},
}

// rig runs a Keypad on a fake clock and steps it one poll at a time.
type rig struct {
	t     *testing.T
	clk   *clockwork.FakeClock
	kp    *Keypad
	opts  Opts
	mu    sync.Mutex
	idles int // times the scanner went to wait for an edge
}

func testOpts(clk Clock) Opts {
	return Opts{Debounce: 20 * time.Millisecond, LongPress: 800 * time.Millisecond, Poll: 5 * time.Millisecond, Clock: clk}
}

func newRig(t *testing.T, build func(o *Opts) (*Keypad, error)) *rig {
	t.Helper()
	r := &rig{t: t, clk: clockwork.NewFakeClock()}
	o := testOpts(r.clk)
	o.Errors = func(err error) { t.Errorf("scan failed: %v", err) }
	o.idled = func() {
		r.mu.Lock()
		r.idles++
		r.mu.Unlock()
	}
	kp, err := build(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Close() })
	r.kp, r.opts = kp, o
	return r
}

// sync waits until the scanner sleeps on the clock: everything it had to
// do for the current time is done.
func (r *rig) sync() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.clk.BlockUntilContext(ctx, 1); err != nil {
		r.t.Fatal("the scanner never waited for its next poll")
	}
}

// advance lets n poll intervals pass, one at a time, each once the
// scanner waits for it. It does not wait for the last scan: sync before
// changing a key.
func (r *rig) advance(n int) {
	r.t.Helper()
	for range n {
		r.sync()
		r.clk.Advance(r.opts.Poll)
	}
}

// toIdle runs f and waits until the scanner then goes to wait for an edge,
// every key up and settled.
func (r *rig) toIdle(f func()) {
	r.t.Helper()
	count := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.idles
	}
	before := count()
	f()
	deadline := time.Now().Add(5 * time.Second)
	for count() == before {
		if time.Now().After(deadline) {
			r.t.Fatal("the scanner did not go idle within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// quiet checks that no event is waiting once the scanner sleeps on the
// clock.
func (r *rig) quiet() {
	r.t.Helper()
	r.sync()
	r.none()
}

// none checks that no event is waiting; call it once the scanner is idle
// or asleep.
func (r *rig) none() {
	r.t.Helper()
	select {
	case e := <-r.kp.Events():
		r.t.Fatalf("unexpected event %v", e)
	default:
	}
}

// expect reads the next events, waiting up to a deadline for each.
func (r *rig) expect(want ...Event) {
	r.t.Helper()
	for _, w := range want {
		select {
		case e, ok := <-r.kp.Events():
			if !ok {
				r.t.Fatalf("Events closed, want %v", w)
			}
			if e != w {
				r.t.Fatalf("event %v, want %v", e, w)
			}
		case <-time.After(5 * time.Second):
			r.t.Fatalf("no event within 5s, want %v", w)
		}
	}
}

// presses drains Presses (without waiting: call after the events).
func (r *rig) presses() []hal.Key {
	var got []hal.Key
	for {
		select {
		case k, ok := <-r.kp.Presses():
			if !ok {
				return got
			}
			got = append(got, k)
		default:
			return got
		}
	}
}

func (r *rig) wantPresses(want ...hal.Key) {
	r.t.Helper()
	if got := r.presses(); !slices.Equal(got, want) {
		r.t.Fatalf("Presses gave %q, want %q", got, want)
	}
}
