package gpioled

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"

	"deskphone/hal"
)

func pin(n int) *gpiotest.Pin { return &gpiotest.Pin{N: "GPIO", Num: n, L: gpio.High} }

func level(p *gpiotest.Pin) gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.L
}

func newLEDs(t *testing.T, specs map[string]Spec) (*LEDs, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClock()
	l, err := New(specs, &Opts{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, clk
}

// record returns each pin's level, as 1 or 0, at every 125 ms step over
// n steps: the fake clock moves only when the blink timer waits for it.
func record(t *testing.T, clk *clockwork.FakeClock, n int, pins ...*gpiotest.Pin) []string {
	t.Helper()
	out := make([]string, len(pins))
	for s := range n {
		if s > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := clk.BlockUntilContext(ctx, 1)
			cancel()
			if err != nil {
				t.Fatal("the blink timer is not running")
			}
			clk.Advance(step)
			// The timer has updated the pins once it waits again.
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			err = clk.BlockUntilContext(ctx, 1)
			cancel()
			if err != nil {
				t.Fatal("the blink timer stopped")
			}
		}
		for i, p := range pins {
			if level(p) == gpio.High {
				out[i] += "1"
			} else {
				out[i] += "0"
			}
		}
	}
	return out
}

func TestBlinkTiming(t *testing.T) {
	line, mute, reg := pin(5), pin(6), pin(13)
	l, clk := newLEDs(t, map[string]Spec{hal.LEDLine: {Pin: line}, hal.LEDMute: {Pin: mute}, hal.LEDReg: {Pin: reg}})
	if level(line) != gpio.Low || level(mute) != gpio.Low || level(reg) != gpio.Low {
		t.Fatal("LEDs not off after New")
	}
	for name, s := range map[string]hal.LEDState{hal.LEDLine: hal.LEDFastBlink, hal.LEDMute: hal.LEDBlink, hal.LEDReg: hal.LEDOn} {
		if err := l.SetLED(name, s); err != nil {
			t.Fatal(err)
		}
	}
	got := record(t, clk, 16, line, mute, reg) // 2 s in steps of 125 ms
	for i, want := range []string{
		"1010101010101010", // fast blink: 4 Hz, 50 %
		"1111000011110000", // blink: 1 Hz, 50 %
		"1111111111111111", // on
	} {
		if got[i] != want {
			t.Errorf("LED %d levels every 125 ms: %s, want %s", i, got[i], want)
		}
	}
	// Nothing blinking: the timer stops.
	for _, name := range []string{hal.LEDLine, hal.LEDMute} {
		if err := l.SetLED(name, hal.LEDOff); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(step) // the timer's last tick
	l.mu.Lock()
	for deadline := time.Now().Add(5 * time.Second); l.blinking; {
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("blink timer still running with no LED blinking")
		}
		time.Sleep(time.Millisecond)
		l.mu.Lock()
	}
	l.mu.Unlock()
	if level(line) != gpio.Low || level(mute) != gpio.Low || level(reg) != gpio.High {
		t.Error("levels after blinking stopped: want line and mute off, registered on")
	}
}

// An LED set to blink mid-period joins the common phase.
func TestBlinkInStep(t *testing.T) {
	a, b := pin(5), pin(6)
	l, clk := newLEDs(t, map[string]Spec{"a": {Pin: a}, "b": {Pin: b}})
	if err := l.SetLED("a", hal.LEDBlink); err != nil {
		t.Fatal(err)
	}
	record(t, clk, 3, a) // 250 ms in
	if err := l.SetLED("b", hal.LEDBlink); err != nil {
		t.Fatal(err)
	}
	got := record(t, clk, 8, a, b)
	if got[0] != got[1] || got[0] != "11000011" {
		t.Errorf("a %s, b %s: want both 11000011", got[0], got[1])
	}
}

func TestRGB(t *testing.T) {
	r, g, b := pin(17), pin(27), pin(22)
	l, clk := newLEDs(t, map[string]Spec{hal.LEDStatus: {R: r, G: g, B: b}})
	rgb := func() string {
		s := ""
		for _, p := range []*gpiotest.Pin{r, g, b} {
			if level(p) == gpio.High {
				s += "1"
			} else {
				s += "0"
			}
		}
		return s
	}
	for _, tc := range []struct {
		c    hal.Color
		want string
	}{{hal.Green, "010"}, {hal.Red, "100"}, {hal.Amber, "110"}, {hal.Blue, "001"}} {
		if err := l.SetLEDColor(hal.LEDStatus, tc.c, hal.LEDOn); err != nil {
			t.Fatal(err)
		}
		if got := rgb(); got != tc.want {
			t.Errorf("%s: R G B = %s, want %s", tc.c, got, tc.want)
		}
	}
	// SetLED keeps the colour; blinking blinks that colour alone.
	if err := l.SetLED(hal.LEDStatus, hal.LEDFastBlink); err != nil {
		t.Fatal(err)
	}
	got := record(t, clk, 4, r, g, b)
	if got[0] != "0000" || got[1] != "0000" || got[2] != "1010" {
		t.Errorf("blue fast blink: R %s G %s B %s, want 0000 0000 1010", got[0], got[1], got[2])
	}
	if err := l.SetLEDColor(hal.LEDStatus, "purple", hal.LEDOn); err == nil || !strings.Contains(err.Error(), `unknown colour "purple"`) {
		t.Errorf("purple: %v, want an error naming the colour", err)
	}
}

func TestActiveLowAndUnknown(t *testing.T) {
	p := pin(5)
	l, _ := newLEDs(t, map[string]Spec{"line": {Pin: p, ActiveLow: true}})
	if level(p) != gpio.High {
		t.Fatal("active-low LED not off (high) after New")
	}
	if err := l.SetLED("line", hal.LEDOn); err != nil || level(p) != gpio.Low {
		t.Fatalf("on: err %v, level %v; want low", err, level(p))
	}
	if err := l.SetLED("headset", hal.LEDOn); err != nil {
		t.Errorf("an LED the board lacks: %v, want nil", err)
	}
	if err := l.SetLEDColor("headset", hal.Red, hal.LEDOn); err != nil {
		t.Errorf("a colour LED the board lacks: %v, want nil", err)
	}
}

// noPWM is a pin without PWM.
type noPWM struct{ gpiotest.Pin }

func (*noPWM) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM on this pin") }

func TestBrightness(t *testing.T) {
	dim, plain := pin(18), &noPWM{Pin: gpiotest.Pin{N: "GPIO", Num: 5}}
	l, _ := newLEDs(t, map[string]Spec{
		"dim":   {Pin: dim, Brightness: gpio.DutyMax / 4},
		"plain": {Pin: plain, Brightness: gpio.DutyMax / 4},
	})
	for _, n := range []string{"dim", "plain"} {
		if err := l.SetLED(n, hal.LEDOn); err != nil {
			t.Fatal(err)
		}
	}
	dim.Lock()
	d, f := dim.D, dim.F
	dim.Unlock()
	if d != gpio.DutyMax/4 || f != physic.KiloHertz {
		t.Errorf("dimmed LED: PWM %v at %v, want 25%% at 1kHz", d, f)
	}
	if level(&plain.Pin) != gpio.High {
		t.Error("LED on a pin without PWM: not simply on")
	}
	if err := l.SetBrightness("dim", gpio.DutyHalf); err != nil {
		t.Fatal(err)
	}
	dim.Lock()
	d = dim.D
	dim.Unlock()
	if d != gpio.DutyHalf {
		t.Errorf("after SetBrightness: duty %v, want 50%%", d)
	}
	if err := l.SetLED("dim", hal.LEDOff); err != nil || level(dim) != gpio.Low {
		t.Errorf("off: err %v, level %v; want low", err, level(dim))
	}
}

func TestSpecErrors(t *testing.T) {
	p := pin(5)
	for _, tc := range []struct {
		specs map[string]Spec
		want  string
	}{
		{map[string]Spec{"line": {}}, `LED "line" has no pin`},
		{map[string]Spec{"line": {Pin: p, R: pin(6)}}, `LED "line" has both Pin and R/G/B`},
		{map[string]Spec{"line": {Pin: p}, "mute": {Pin: p}}, `pin GPIO(5) is used by LED "line" and LED "mute"`},
		{map[string]Spec{"status": {R: pin(6), Color: "pink"}}, `unknown colour "pink"`},
		{map[string]Spec{"line": {Pin: p, Brightness: -1}}, "brightness"},
	} {
		_, err := New(tc.specs, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error containing %q", tc.specs, err, tc.want)
		}
	}
}

func TestCloseTurnsOff(t *testing.T) {
	p := pin(5)
	l, _ := newLEDs(t, map[string]Spec{"line": {Pin: p}})
	if err := l.SetLED("line", hal.LEDBlink); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if level(p) != gpio.Low {
		t.Error("LED still lit after Close")
	}
	if err := l.SetLED("line", hal.LEDOn); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("SetLED after Close = %v, want hal.ErrClosed", err)
	}
}
