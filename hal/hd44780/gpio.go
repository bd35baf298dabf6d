package hd44780

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// GPIOPins is the 4-bit wiring on GPIO: RS, E and D4–D7. R/W must be tied to
// ground (the driver never reads the busy flag; it waits instead).
// Backlight may be nil when the backlight is wired to the supply.
type GPIOPins struct {
	RS, E, D4, D5, D6, D7 gpio.PinOut
	Backlight             gpio.PinOut
}

// NewGPIO initialises an LCD wired to GPIO pins in 4-bit mode: cleared,
// display on, cursor hidden, backlight on.
func NewGPIO(p GPIOPins, rows, cols int, opts *Opts) (*Display, error) {
	if err := checkSize(rows, cols); err != nil {
		return nil, err
	}
	for _, pin := range []struct {
		name string
		p    gpio.PinOut
	}{{"RS", p.RS}, {"E", p.E}, {"D4", p.D4}, {"D5", p.D5}, {"D6", p.D6}, {"D7", p.D7}} {
		if pin.p == nil {
			return nil, fmt.Errorf("hd44780: GPIO pin %s is missing: RS, E and D4–D7 are required", pin.name)
		}
	}
	g := &gpioPort{pins: p}
	d := newDisplay(g, rows, cols, opts)
	g.sleep = d.sleep
	if err := g.idle(); err != nil {
		return nil, fmt.Errorf("hd44780: init on %s: %w", g, err)
	}
	if _, err := g.backlight(true); err != nil {
		return nil, fmt.Errorf("hd44780: init on %s: %w", g, err)
	}
	if err := d.init(); err != nil {
		return nil, fmt.Errorf("hd44780: init on %s: %w", g, err)
	}
	return d, nil
}

type gpioPort struct {
	pins  GPIOPins
	sleep func(time.Duration)
}

func (g *gpioPort) String() string {
	return fmt.Sprintf("GPIO (RS %s, E %s, D4–D7 %s %s %s %s)", g.pins.RS, g.pins.E, g.pins.D4, g.pins.D5, g.pins.D6, g.pins.D7)
}

// idle drives every line low: E low so that nothing is latched while the
// data lines settle.
func (g *gpioPort) idle() error {
	for _, p := range []gpio.PinOut{g.pins.E, g.pins.RS, g.pins.D4, g.pins.D5, g.pins.D6, g.pins.D7} {
		if err := p.Out(gpio.Low); err != nil {
			return fmt.Errorf("pin %s: %w", p, err)
		}
	}
	return nil
}

// latch puts n on D4–D7 and pulses E; the controller reads on E's fall.
func (g *gpioPort) latch(n byte) error {
	for i, p := range []gpio.PinOut{g.pins.D4, g.pins.D5, g.pins.D6, g.pins.D7} {
		if err := p.Out(gpio.Level(n&(1<<i) != 0)); err != nil {
			return fmt.Errorf("pin %s: %w", p, err)
		}
	}
	if err := g.pins.E.Out(gpio.High); err != nil {
		return fmt.Errorf("pin %s: %w", g.pins.E, err)
	}
	g.sleep(time.Microsecond) // E high ≥ 450 ns
	if err := g.pins.E.Out(gpio.Low); err != nil {
		return fmt.Errorf("pin %s: %w", g.pins.E, err)
	}
	return nil
}

func (g *gpioPort) nibble(n byte) error {
	if err := g.pins.RS.Out(gpio.Low); err != nil {
		return fmt.Errorf("pin %s: %w", g.pins.RS, err)
	}
	return g.latch(n)
}

func (g *gpioPort) write(data bool, b byte) error {
	if err := g.pins.RS.Out(gpio.Level(data)); err != nil {
		return fmt.Errorf("pin %s: %w", g.pins.RS, err)
	}
	if err := g.latch(b >> 4); err != nil {
		return err
	}
	return g.latch(b & 0x0F)
}

func (g *gpioPort) backlight(on bool) (bool, error) {
	if g.pins.Backlight == nil {
		return false, nil
	}
	if err := g.pins.Backlight.Out(gpio.Level(on)); err != nil {
		return true, fmt.Errorf("pin %s: %w", g.pins.Backlight, err)
	}
	return true, nil
}

// execWait: GPIO is faster than the controller, so every instruction waits.
func (g *gpioPort) execWait() time.Duration { return waitExec }
