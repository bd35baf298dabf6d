package hd44780

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// wire is the GPIO side of an LCD: gpiotest pins whose every level change
// goes to one log, and an LCD model that reads the data lines when E falls,
// as the controller does.
type wire struct {
	t       *testing.T
	log     []string // "RS0 0x3": what was latched; "sleep 5ms"
	pins    map[string]*logPin
	eHighAt int  // log length when E rose, to check nothing moved while E was high
	eHigh   bool // E is high
	waited  bool // a wait happened while E was high (≥ 450 ns)
}

type logPin struct {
	gpiotest.Pin
	w *wire
}

func (p *logPin) Out(l gpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.w.changed(p.N, l)
	return nil
}

func newWire(t *testing.T) *wire {
	w := &wire{t: t, pins: map[string]*logPin{}}
	for _, n := range []string{"RS", "E", "D4", "D5", "D6", "D7", "BL"} {
		w.pins[n] = &logPin{Pin: gpiotest.Pin{N: n}, w: w}
	}
	return w
}

func (w *wire) changed(name string, l gpio.Level) {
	switch {
	case name == "E" && l == gpio.High && !w.eHigh:
		w.eHigh, w.eHighAt, w.waited = true, len(w.log), false
	case name == "E" && l == gpio.Low && w.eHigh:
		w.eHigh = false
		if !w.waited {
			w.t.Errorf("E pulse %d without a wait while high", len(w.log))
		}
		var n byte
		for i, d := range []string{"D4", "D5", "D6", "D7"} {
			if w.pins[d].L {
				n |= 1 << i
			}
		}
		rs := 0
		if w.pins["RS"].L {
			rs = 1
		}
		w.log = append(w.log, fmt.Sprintf("RS%d 0x%X", rs, n))
	case name != "E" && name != "BL" && w.eHigh:
		w.t.Errorf("%s changed while E was high", name)
	}
}

func (w *wire) sleep(d time.Duration) {
	if w.eHigh {
		w.waited = true
		return
	}
	w.log = append(w.log, "sleep "+d.String())
}

func (w *wire) gpioPins() GPIOPins {
	p := w.pins
	return GPIOPins{RS: p["RS"], E: p["E"], D4: p["D4"], D5: p["D5"], D6: p["D6"], D7: p["D7"], Backlight: p["BL"]}
}

// byteOps is what writing b looks like on the wire: two nibbles, each
// followed by nothing, then the instruction's 50 µs wait.
func byteOps(rs int, b byte) []string {
	return []string{fmt.Sprintf("RS%d 0x%X", rs, b>>4), fmt.Sprintf("RS%d 0x%X", rs, b&0xF), "sleep 50µs"}
}

func TestGPIOInitAndShow(t *testing.T) {
	w := newWire(t)
	d, err := NewGPIO(w.gpioPins(), 2, 16, &Opts{Sleep: w.sleep})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sleep 50ms", "RS0 0x3", "sleep 5ms", "RS0 0x3", "sleep 150µs", "RS0 0x3", "sleep 150µs", "RS0 0x2", "sleep 50µs",
	}
	want = append(want, byteOps(0, 0x28)...) // function set: 4-bit, 2 lines
	want = append(want, byteOps(0, 0x0C)...) // display on
	want = append(want, byteOps(0, 0x01)...) // clear
	want = append(want, "sleep 2ms")
	want = append(want, byteOps(0, 0x06)...) // entry mode
	if !slices.Equal(w.log, want) {
		t.Errorf("init:\n got %q\nwant %q", w.log, want)
	}
	if !w.pins["BL"].L {
		t.Error("backlight off after init")
	}

	w.log = nil
	if err := d.Show([]string{"", "Hi"}); err != nil {
		t.Fatal(err)
	}
	want = slices.Concat(byteOps(0, 0xC0), byteOps(1, 'H'), byteOps(1, 'i'))
	if !slices.Equal(w.log, want) {
		t.Errorf("show:\n got %q\nwant %q", w.log, want)
	}
	if err := d.SetBacklight(false); err != nil || w.pins["BL"].L {
		t.Errorf("SetBacklight(false): err %v, pin %v", err, w.pins["BL"].L)
	}
}

func TestGPIOBadArgs(t *testing.T) {
	w := newWire(t)
	p := w.gpioPins()
	p.D6 = nil
	if _, err := NewGPIO(p, 2, 16, nil); err == nil || !strings.Contains(err.Error(), "GPIO pin D6 is missing") {
		t.Errorf("nil D6: err = %v", err)
	}
	if _, err := NewGPIO(w.gpioPins(), 3, 16, nil); err == nil || !strings.Contains(err.Error(), "3×16 (rows×cols) is not a supported size") {
		t.Errorf("3×16: err = %v", err)
	}
	if len(w.log) != 0 {
		t.Errorf("pins driven for refused arguments: %q", w.log)
	}
}

type failPin struct{ gpiotest.Pin }

func (p *failPin) Out(gpio.Level) error { return errors.New("permission denied") }

func TestGPIOPinError(t *testing.T) {
	w := newWire(t)
	p := w.gpioPins()
	p.E = &failPin{gpiotest.Pin{N: "GPIO17"}}
	_, err := NewGPIO(p, 2, 16, &Opts{Sleep: w.sleep})
	if err == nil || !strings.Contains(err.Error(), "pin GPIO17") || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("err = %v, want it to name pin GPIO17 and the cause", err)
	}
}
