package boards

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pin is a GPIO pin by the name periph's host knows it (BCM: "GPIO17"),
// with the profile line it was written on, for errors.
type Pin struct {
	Name string
	Line int
}

// UnmarshalYAML keeps the line of the pin's name.
func (p *Pin) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a pin is a name like GPIO17", n.Line)
	}
	p.Name, p.Line = n.Value, n.Line
	return nil
}

func (p Pin) String() string { return p.Name }

// Addr is a 7-bit I2C address, written 0x27 (or 39) in a profile.
type Addr struct {
	Value int
	Line  int
	Set   bool
}

// UnmarshalYAML parses 0x27 (YAML reads it as an int) or "0x27".
func (a *Addr) UnmarshalYAML(n *yaml.Node) error {
	v, err := strconv.ParseInt(strings.TrimSpace(n.Value), 0, 32)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: address %q is not a number; write it like 0x27", n.Line, n.Value)
	}
	*a = Addr{Value: int(v), Line: n.Line, Set: true}
	return nil
}

func (a Addr) String() string { return fmt.Sprintf("0x%02x", a.Value) }

// header is a board's pin header: the pin names periph registers on it and
// the pins each I2C bus takes.
type header struct {
	pins []string
	i2c  map[string][2]string // bus name → SDA, SCL
	help string               // which names exist, for errors
}

// headers by Profile.Pins. Every Raspberry Pi since the B+ (3, 4, 5,
// Zero 2 W) has the same 40-pin header: BCM GPIO0-GPIO27, I2C bus 1 on
// GPIO2 (SDA) and GPIO3 (SCL). GPIO0/1 carry the HAT EEPROM's bus (i2c-0).
var headers = map[string]header{
	"rpi": {
		pins: gpioRange(0, 27),
		i2c:  map[string][2]string{"1": {"GPIO2", "GPIO3"}, "0": {"GPIO0", "GPIO1"}},
		help: "GPIO0-GPIO27 (BCM numbering)",
	},
}

func gpioRange(lo, hi int) []string {
	var s []string
	for i := lo; i <= hi; i++ {
		s = append(s, "GPIO"+strconv.Itoa(i))
	}
	return s
}

func (h header) has(pin string) bool { return slices.Contains(h.pins, pin) }

func (h header) buses() string {
	var b []string
	for name := range h.i2c {
		b = append(b, strconv.Quote(name))
	}
	slices.Sort(b)
	return strings.Join(b, ", ")
}
