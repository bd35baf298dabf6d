// Package periphparts registers the periph.io drivers with boards: keypads
// on GPIO or an I2C expander (hal/keypad), HD44780 and SSD1306 displays
// (hal/hd44780, hal/ssd1306). Parts get their pins and buses from a Host:
// the machine's, opened through periph's host/v3 the first time a part needs
// one (so the sim board never touches it), or fakes in tests (Use).
package periphparts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"deskphone/boards"
)

// Host hands out pins by name (BCM: "GPIO17") and I2C buses by name ("1"
// for /dev/i2c-1). A bus is opened once and shared by its devices.
type Host interface {
	Pin(name string) (gpio.PinIO, error)
	Bus(name string) (i2c.Bus, error)
}

const hostKey = "periphparts.host"

// Use makes the board opened with env take its pins and buses from h
// instead of the machine's (tests pass gpiotest pins and i2ctest buses).
func Use(env *boards.Env, h Host) { env.Provide(hostKey, h) }

// hostOf returns env's host, opening the machine's on first use.
func hostOf(env *boards.Env) (Host, error) {
	v, err := env.Shared(hostKey, func() (any, error) { return openMachine() })
	if err != nil {
		return nil, err
	}
	return v.(Host), nil
}

// ErrNoGPIO is returned when periph finds no GPIO pins on this machine.
var ErrNoGPIO = errors.New("no GPIO on this machine")

// machine is the real host: periph's registries after host.Init.
type machine struct {
	mu    sync.Mutex
	buses map[string]i2c.BusCloser
}

// openMachine loads periph's host drivers and checks that there are pins:
// on a PC or in a container there are none, and a real board's profile
// cannot work there.
func openMachine() (*machine, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("%w: periph's host drivers failed to load: %w", ErrNoGPIO, err)
	}
	if len(gpioreg.All()) == 0 {
		return nil, fmt.Errorf("%w: periph found no GPIO pins (no /dev/gpiochip* or /dev/gpiomem it can use); run on the board, as a user in the gpio and i2c groups, or use board: sim", ErrNoGPIO)
	}
	return &machine{buses: map[string]i2c.BusCloser{}}, nil
}

func (m *machine) Pin(name string) (gpio.PinIO, error) {
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	var names []string
	for _, p := range gpioreg.All() {
		names = append(names, p.Name())
	}
	slices.Sort(names)
	return nil, fmt.Errorf("pin %s is not on this machine (periph has %s)", name, strings.Join(names, " "))
}

func (m *machine) Bus(name string) (i2c.Bus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.buses[name]; ok {
		return b, nil
	}
	b, err := i2creg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("I2C bus %q: %w (is I2C enabled? raspi-config: Interface Options, I2C; /dev/i2c-%s must exist)", name, err, name)
	}
	m.buses[name] = b
	return b, nil
}

// Close closes the buses it opened; the board closes it after its parts.
func (m *machine) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, b := range m.buses {
		errs = append(errs, b.Close())
	}
	clear(m.buses)
	return errors.Join(errs...)
}

// pins opens each named pin.
func pins(h Host, ps []boards.Pin) ([]gpio.PinIO, error) {
	out := make([]gpio.PinIO, len(ps))
	for i, p := range ps {
		pin, err := h.Pin(p.Name)
		if err != nil {
			return nil, err
		}
		out[i] = pin
	}
	return out, nil
}

// HasGPIO returns nil if periph finds GPIO pins here, else the error a
// real board would fail with (ErrNoGPIO).
func HasGPIO() error {
	m, err := openMachine()
	if err != nil {
		return err
	}
	return m.Close()
}
