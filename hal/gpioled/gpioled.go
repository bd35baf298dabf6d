// Package gpioled drives a phone's LEDs on GPIO pins: single LEDs and RGB
// LEDs (a pin per colour), each on, off, blinking (1 Hz) or blinking fast
// (4 Hz), dimmed by PWM on pins that support it. It implements hal.LEDs and
// hal.ColorLEDs.
//
// Every blinking LED blinks in step with the others, from one timer that
// runs only while some LED blinks.
package gpioled

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"deskphone/hal"
)

// Blink patterns: slow 1 Hz, fast 4 Hz, both lit half the period. step is
// their common tick.
const (
	slowPeriod = time.Second
	fastPeriod = 250 * time.Millisecond
	step       = fastPeriod / 2
)

// Clock is the time source: the real clock by default, a fake in tests.
type Clock = hal.Clock

// Spec is one LED: Pin for a single LED, or R, G and B for an RGB LED (a
// missing colour's pin may be nil: an LED with only red and green shows
// amber but not blue).
type Spec struct {
	Pin     gpio.PinOut
	R, G, B gpio.PinOut
	// ActiveLow: lit while its pin is low (an LED to 3.3 V, a common-anode
	// RGB LED).
	ActiveLow bool
	// Brightness is the PWM duty while lit, on pins with PWM; 0 means full
	// on without PWM. Pins without PWM are simply on.
	Brightness gpio.Duty
	// Color is an RGB LED's colour until SetLEDColor changes it. Default
	// green.
	Color hal.Color
}

// Opts tunes the driver. The zero value (or nil) gives the defaults.
type Opts struct {
	// Clock is the time source of blinking. Default the real clock.
	Clock Clock
	// PWMFrequency is the PWM frequency of dimmed LEDs. Default 1 kHz:
	// no visible flicker.
	PWMFrequency physic.Frequency
}

// LEDs is a set of named LEDs. It implements hal.LEDs and hal.ColorLEDs.
type LEDs struct {
	clock Clock
	freq  physic.Frequency
	epoch time.Time // blink phase 0

	mu       sync.Mutex
	leds     map[string]*led
	blinking bool // the blink timer runs
	closed   bool
	done     chan struct{}
}

var (
	_ hal.LEDs      = (*LEDs)(nil)
	_ hal.ColorLEDs = (*LEDs)(nil)
)

type led struct {
	name      string
	pins      [3]gpio.PinOut // a single LED uses pins[0]; RGB: R, G, B
	rgb       bool
	activeLow bool
	duty      gpio.Duty
	noPWM     [3]bool // the pin refused PWM: full on instead
	on        [3]bool // what each pin shows now
	state     hal.LEDState
	color     hal.Color
}

// New drives the LEDs named in leds, all off to begin with.
func New(leds map[string]Spec, opts *Opts) (*LEDs, error) {
	l := &LEDs{leds: map[string]*led{}, done: make(chan struct{})}
	if opts != nil {
		l.clock, l.freq = opts.Clock, opts.PWMFrequency
	}
	if l.clock == nil {
		l.clock = hal.SystemClock{}
	}
	if l.freq == 0 {
		l.freq = physic.KiloHertz
	}
	l.epoch = l.clock.Now()
	used := map[gpio.PinOut]string{}
	names := make([]string, 0, len(leds))
	for name := range leds {
		names = append(names, name)
	}
	slices.Sort(names) // errors name the same LED every time
	for _, name := range names {
		d, err := newLED(name, leds[name], used)
		if err != nil {
			return nil, err
		}
		l.leds[name] = d
		d.on = [3]bool{true, true, true} // force the first write
		if err := l.apply(d, false); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func newLED(name string, s Spec, used map[gpio.PinOut]string) (*led, error) {
	d := &led{name: name, activeLow: s.ActiveLow, duty: s.Brightness, color: hal.Green}
	switch {
	case s.Pin != nil && (s.R != nil || s.G != nil || s.B != nil):
		return nil, fmt.Errorf("gpioled: LED %q has both Pin and R/G/B; give Pin for a single LED or R, G, B for an RGB LED", name)
	case s.Pin != nil:
		d.pins[0] = s.Pin
	case s.R != nil || s.G != nil || s.B != nil:
		d.rgb, d.pins = true, [3]gpio.PinOut{s.R, s.G, s.B}
	default:
		return nil, fmt.Errorf("gpioled: LED %q has no pin; give Pin, or R, G, B", name)
	}
	if s.Brightness < 0 || s.Brightness > gpio.DutyMax {
		return nil, fmt.Errorf("gpioled: LED %q: brightness %v is out of range; use 0 (full) to gpio.DutyMax", name, s.Brightness)
	}
	if s.Color != "" {
		if _, ok := colorPins(s.Color); !ok {
			return nil, errColor(name, s.Color)
		}
		d.color = s.Color
	}
	for _, p := range d.pins {
		if p == nil {
			continue
		}
		if other, ok := used[p]; ok {
			return nil, fmt.Errorf("gpioled: pin %s is used by LED %q and LED %q; give each its own pin", p, other, name)
		}
		used[p] = name
	}
	return d, nil
}

// colorPins says which of R, G, B make a colour.
func colorPins(c hal.Color) ([3]bool, bool) {
	switch c {
	case hal.Green:
		return [3]bool{false, true, false}, true
	case hal.Red:
		return [3]bool{true, false, false}, true
	case hal.Amber:
		return [3]bool{true, true, false}, true
	case hal.Blue:
		return [3]bool{false, false, true}, true
	default:
		return [3]bool{}, false
	}
}

func errColor(name string, c hal.Color) error {
	return fmt.Errorf("gpioled: LED %q: unknown colour %q; use %s, %s, %s or %s", name, c, hal.Green, hal.Red, hal.Amber, hal.Blue)
}

// SetLED sets an LED's state; an RGB LED keeps its colour. An LED this
// board does not have is ignored, as hal.LEDs requires.
func (l *LEDs) SetLED(name string, s hal.LEDState) error {
	return l.set(name, "", s)
}

// SetLEDColor sets an RGB LED's colour and state. On a single-colour LED
// only the state applies.
func (l *LEDs) SetLEDColor(name string, c hal.Color, s hal.LEDState) error {
	if _, ok := colorPins(c); !ok {
		return errColor(name, c)
	}
	return l.set(name, c, s)
}

// SetBrightness changes an LED's PWM duty while lit (0: full on).
func (l *LEDs) SetBrightness(name string, duty gpio.Duty) error {
	if duty < 0 || duty > gpio.DutyMax {
		return fmt.Errorf("gpioled: LED %q: brightness %v is out of range; use 0 (full) to gpio.DutyMax", name, duty)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.leds[name]
	if d == nil || l.closed {
		return nil
	}
	d.duty = duty
	d.on = [3]bool{} // rewrite every lit pin with the new duty
	return l.apply(d, l.lit(d, l.clock.Now()))
}

func (l *LEDs) set(name string, c hal.Color, s hal.LEDState) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.leds[name]
	if d == nil {
		return nil
	}
	if l.closed {
		return hal.ErrClosed
	}
	if c != "" {
		d.color = c
	}
	d.state = s
	if (s == hal.LEDBlink || s == hal.LEDFastBlink) && !l.blinking {
		l.blinking = true
		go l.blink()
	}
	return l.apply(d, l.lit(d, l.clock.Now()))
}

// lit says whether d is lit at now, in its blink pattern.
func (l *LEDs) lit(d *led, now time.Time) bool {
	phase := now.Sub(l.epoch)
	switch d.state {
	case hal.LEDOn:
		return true
	case hal.LEDBlink:
		return phase%slowPeriod < slowPeriod/2
	case hal.LEDFastBlink:
		return phase%fastPeriod < fastPeriod/2
	default:
		return false
	}
}

// apply writes the pins whose level differs from what d should show.
func (l *LEDs) apply(d *led, lit bool) error {
	want := [3]bool{lit}
	if d.rgb {
		mask, _ := colorPins(d.color)
		for i := range want {
			want[i] = lit && mask[i]
		}
	}
	var errs []error
	for i, p := range d.pins {
		if p == nil || want[i] == d.on[i] {
			continue
		}
		if err := l.write(d, i, want[i]); err != nil {
			errs = append(errs, fmt.Errorf("gpioled: LED %q pin %s: %w", d.name, p, err))
			continue
		}
		d.on[i] = want[i]
	}
	return errors.Join(errs...)
}

// write lights pin i of d (by PWM if dimmed and possible) or darkens it.
func (l *LEDs) write(d *led, i int, on bool) error {
	p := d.pins[i]
	if on && d.duty > 0 && d.duty < gpio.DutyMax && !d.noPWM[i] {
		duty := d.duty
		if d.activeLow {
			duty = gpio.DutyMax - duty
		}
		if p.PWM(duty, l.freq) == nil {
			return nil
		}
		d.noPWM[i] = true // no PWM on this pin: full on from now on
	}
	return p.Out(gpio.Level(on != d.activeLow))
}

// blink updates the blinking LEDs at every step while any blinks.
func (l *LEDs) blink() {
	for {
		now := l.clock.Now()
		next := step - now.Sub(l.epoch)%step
		select {
		case now = <-l.clock.After(next):
		case <-l.done:
			return
		}
		l.mu.Lock()
		blinking := false
		for _, d := range l.leds {
			if d.state == hal.LEDBlink || d.state == hal.LEDFastBlink {
				blinking = true
				_ = l.apply(d, l.lit(d, now)) // a failing pin: SetLED reported it
			}
		}
		l.blinking = blinking
		l.mu.Unlock()
		if !blinking {
			return
		}
	}
}

// Close turns every LED off and stops blinking.
func (l *LEDs) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.done)
	var errs []error
	for _, d := range l.leds {
		d.state = hal.LEDOff
		d.on = [3]bool{true, true, true} // force the write
		errs = append(errs, l.apply(d, false))
	}
	return errors.Join(errs...)
}
