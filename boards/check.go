package boards

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Drivers each part kind has a schema for in Profile.
var drivers = map[string][]string{
	"keypad":  {"sim", "gpio", "mcp23017", "pcf8574"},
	"leds":    {"sim", "gpio"},
	"display": {"sim", "hd44780", "hd44780-pcf8574", "ssd1306"},
	"hook":    {"sim", "gpio"},
	"audio":   {"sim", "alsa"},
}

// Parts are the part kinds every board has, in the order Open opens them.
var Parts = []string{"keypad", "leds", "display", "hook", "audio"}

// Routes are the audio routes a board may have; handset is required.
var Routes = []string{"handset", "speaker", "headset"}

// checker gathers a profile's problems, each with its line when known.
type checker struct {
	file     string
	p        *Profile
	hdr      header
	problems []string
	pins     map[string]string // pin → which part uses it
	addrs    map[string]string // "bus/addr" → which part uses it
	buses    map[string]bool   // I2C buses whose pins are claimed
	noHeader bool              // "pins: is missing" was reported
}

func (c *checker) add(line int, key, format string, args ...any) {
	where := c.file
	if line > 0 {
		where = fmt.Sprintf("%s:%d", c.file, line)
	}
	c.problems = append(c.problems, fmt.Sprintf("%s: %s: %s", where, key, fmt.Sprintf(format, args...)))
}

// check enforces what every board must have and that its wiring is
// possible: pins that exist and are used once, I2C addresses in range and
// not shared, and the keys and LEDs the phone logic relies on.
func (p *Profile) check(name string) error {
	c := &checker{file: name + ".yaml", p: p, pins: map[string]string{}, addrs: map[string]string{}, buses: map[string]bool{}}
	if p.Name != name {
		c.add(0, "name", "is %q, want %q (the file name)", p.Name, name)
	}
	if p.Description == "" {
		c.add(0, "description", "is missing; say what the board is")
	}
	if p.Pins != "" {
		h, ok := headers[p.Pins]
		if !ok {
			c.add(0, "pins", "%q is not a known pin header; use %s", p.Pins, strings.Join(slices.Sorted(maps.Keys(headers)), ", "))
		}
		c.hdr = h
	}
	c.driversKnown()
	c.keypad()
	c.leds()
	c.display()
	c.hook()
	c.audio()
	if len(c.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(c.problems, "\n"))
}

func (c *checker) driversKnown() {
	for _, kind := range Parts {
		d := c.driver(kind)
		switch {
		case d == "":
			c.add(0, kind, "missing part: every board needs %s; give it a driver (%s)", strings.Join(Parts, ", "), strings.Join(drivers[kind], ", "))
		case !slices.Contains(drivers[kind], d):
			c.add(0, kind+".driver", "unknown driver %q; use %s", d, strings.Join(drivers[kind], ", "))
		}
	}
}

func (c *checker) driver(kind string) string {
	switch kind {
	case "keypad":
		return c.p.Keypad.Driver
	case "leds":
		return c.p.LEDs.Driver
	case "display":
		return c.p.Display.Driver
	case "hook":
		return c.p.Hook.Driver
	default:
		return c.p.Audio.Driver
	}
}

// pin checks that pin exists on the header and claims it for who.
func (c *checker) pin(pin Pin, who string) {
	switch {
	case pin.Name == "":
		c.add(0, who, "no pin given; name one, e.g. GPIO17")
		return
	case c.p.Pins == "":
		if !c.noHeader {
			c.noHeader = true
			c.add(0, "pins", "is missing, but parts are wired to pins (%s %s, line %d); set pins: rpi", who, pin.Name, pin.Line)
		}
		return
	case c.hdr.pins == nil:
		return // unknown header: already reported
	case !c.hdr.has(pin.Name):
		c.add(pin.Line, who, "unknown pin %s; the %s header has %s", pin.Name, c.p.Pins, c.hdr.help)
		return
	}
	if first, ok := c.pins[pin.Name]; ok {
		c.add(pin.Line, who, "pin %s is used twice: by %s and by %s; give each its own pin", pin.Name, first, who)
		return
	}
	c.pins[pin.Name] = fmt.Sprintf("%s (line %d)", who, pin.Line)
}

// i2c checks a device's bus and address and claims the address for who.
// The bus's own pins are claimed once, by the bus.
func (c *checker) i2c(bus string, addr Addr, who string, allowed func(int) bool, want string) {
	if bus == "" {
		c.add(addr.Line, who+".bus", "is missing; name the I2C bus, e.g. bus: \"1\" for /dev/i2c-1")
	} else if c.hdr.i2c != nil {
		sdaScl, ok := c.hdr.i2c[bus]
		if !ok {
			c.add(addr.Line, who+".bus", "no I2C bus %q on the %s header; use %s", bus, c.p.Pins, c.hdr.buses())
		} else if !c.buses[bus] {
			c.buses[bus] = true
			c.pin(Pin{Name: sdaScl[0], Line: addr.Line}, "I2C bus "+bus+" (SDA)")
			c.pin(Pin{Name: sdaScl[1], Line: addr.Line}, "I2C bus "+bus+" (SCL)")
		}
	}
	switch {
	case !addr.Set:
		c.add(0, who+".address", "is missing; give the device's I2C address, %s", want)
		return
	case addr.Value < 0x08 || addr.Value > 0x77:
		c.add(addr.Line, who+".address", "%s is out of range: 7-bit I2C addresses are 0x08-0x77; %s", addr, want)
		return
	case !allowed(addr.Value):
		c.add(addr.Line, who+".address", "%s is not an address this device can have; %s", addr, want)
		return
	}
	key := bus + "/" + addr.String()
	if first, ok := c.addrs[key]; ok {
		c.add(addr.Line, who+".address", "I2C bus %s address %s is used twice: by %s and by %s; set the devices' address jumpers apart", bus, addr, first, who)
		return
	}
	c.addrs[key] = who
}

func between(lo, hi int) func(int) bool { return func(a int) bool { return a >= lo && a <= hi } }

// pcf8574 addresses: 0x20-0x27, or 0x38-0x3f for the PCF8574A.
func pcf8574Addr(a int) bool { return between(0x20, 0x27)(a) || between(0x38, 0x3f)(a) }

const pcf8574Want = "a PCF8574 answers at 0x20-0x27 (PCF8574A: 0x38-0x3f), e.g. 0x27"

func (c *checker) keypad() {
	k := &c.p.Keypad
	switch k.Driver {
	case "sim":
		if len(k.Keys) == 0 {
			c.add(0, "keypad.keys", "is empty; list the simulated keys")
		}
	case "gpio":
		c.matrix(len(k.Rows), len(k.Cols))
		for i, p := range k.Rows {
			c.pin(p, fmt.Sprintf("keypad.rows[%d]", i))
		}
		for i, p := range k.Cols {
			c.pin(p, fmt.Sprintf("keypad.cols[%d]", i))
		}
	case "mcp23017":
		c.matrix(len(k.RowBits), len(k.ColBits))
		c.bits(16)
		c.i2c(k.Bus, k.Address, "keypad", between(0x20, 0x27), "an MCP23017 answers at 0x20-0x27, e.g. 0x20")
	case "pcf8574":
		c.matrix(len(k.RowBits), len(k.ColBits))
		c.bits(8)
		c.i2c(k.Bus, k.Address, "keypad", pcf8574Addr, pcf8574Want)
	}
	for _, name := range slices.Sorted(maps.Keys(k.Buttons)) {
		c.pin(k.Buttons[name], "keypad.buttons."+name)
	}
	keys := c.p.Keys()
	for _, req := range RequiredKeys() {
		if !slices.Contains(keys, string(req)) {
			c.add(0, "keypad", "has no key %q; every board needs 0-9 * # call end mute", req)
		}
	}
	seen := map[string]bool{}
	for _, key := range keys {
		if seen[key] {
			c.add(0, "keypad", "key %q is there twice; each key once", key)
		}
		seen[key] = true
	}
}

// matrix checks the layout has one key name per row and column.
func (c *checker) matrix(rows, cols int) {
	k := &c.p.Keypad
	if rows == 0 || cols == 0 {
		c.add(0, "keypad", "a %s matrix needs rows and columns (rows/cols, or row_bits/col_bits on an expander)", k.Driver)
		return
	}
	if len(k.Layout) != rows {
		c.add(0, "keypad.layout", "has %d rows for %d row lines; write one row of key names per line", len(k.Layout), rows)
		return
	}
	for i, row := range k.Layout {
		if len(row) != cols {
			c.add(0, fmt.Sprintf("keypad.layout[%d]", i), "has %d keys for %d columns; use \"-\" where no key is", len(row), cols)
		}
	}
}

// bits checks an expander's port bits: in range and each used once.
func (c *checker) bits(n int) {
	k := &c.p.Keypad
	used := map[int]string{}
	for _, set := range []struct {
		name string
		bits []int
	}{{"row_bits", k.RowBits}, {"col_bits", k.ColBits}} {
		for i, b := range set.bits {
			who := fmt.Sprintf("keypad.%s[%d]", set.name, i)
			if b < 0 || b >= n {
				c.add(0, who, "bit %d is out of range: a %s has bits 0-%d", b, k.Driver, n-1)
				continue
			}
			if first, ok := used[b]; ok {
				c.add(0, who, "bit %d is used twice: by %s and by %s", b, first, who)
				continue
			}
			used[b] = who
		}
	}
}

func (c *checker) leds() {
	l := &c.p.LEDs
	for _, name := range RequiredLEDs() {
		if _, ok := l.LEDs[name]; !ok {
			c.add(0, "leds", "has no LED %q; every board needs line, mute, registered", name)
		}
	}
	if l.Driver != "gpio" {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(l.LEDs)) {
		led, who := l.LEDs[name], "leds."+name
		if !led.RGB() {
			c.pin(led.Pin, who+".pin")
			continue
		}
		if led.Pin.Name != "" {
			c.add(led.Pin.Line, who, "has both pin and red/green/blue; an RGB LED has only red, green and blue")
		}
		c.pin(led.Red, who+".red")
		c.pin(led.Green, who+".green")
		c.pin(led.Blue, who+".blue")
	}
}

func (c *checker) display() {
	d := &c.p.Display
	if d.Driver == "ssd1306" {
		if d.Rows != 0 && d.Rows != 8 || d.Cols != 0 && d.Cols != 21 {
			c.add(0, "display", "an SSD1306 128x64 shows 8 rows of 21 characters; leave rows and cols out or write 8 and 21")
		}
		d.Rows, d.Cols = 8, 21
		c.i2c(d.Bus, d.Address, "display", between(0x3c, 0x3d), "an SSD1306 answers at 0x3c or 0x3d")
		return
	}
	if d.Driver != "" && (d.Rows < 1 || d.Rows > 4 || d.Cols < 1 || d.Cols > 40) {
		c.add(0, "display", "is %dx%d; give rows 1-4 and cols 1-40 (e.g. 4 and 20, or 2 and 16)", d.Rows, d.Cols)
	}
	switch d.Driver {
	case "hd44780":
		c.pin(d.Pins.RS, "display.pins.rs")
		c.pin(d.Pins.E, "display.pins.e")
		if len(d.Pins.D) != 4 {
			c.add(0, "display.pins.d", "has %d pins; 4-bit mode needs D4-D7, 4 pins", len(d.Pins.D))
		}
		for i, p := range d.Pins.D {
			c.pin(p, fmt.Sprintf("display.pins.d[%d]", i))
		}
		if d.Pins.BL.Name != "" {
			c.pin(d.Pins.BL, "display.pins.bl")
		}
	case "hd44780-pcf8574":
		c.i2c(d.Bus, d.Address, "display", pcf8574Addr, pcf8574Want)
	}
}

func (c *checker) hook() {
	if c.p.Hook.Driver == "gpio" {
		c.pin(c.p.Hook.Pin, "hook.pin")
	}
}

func (c *checker) audio() {
	a := &c.p.Audio
	if a.Driver != "alsa" {
		if a.Driver == "sim" && (len(a.Routes) > 0 || a.PeriodMS != 0 || a.Periods != 0) {
			c.add(0, "audio", "the sim driver takes no routes, period_ms or periods: its sound is the phone config's sim: section; use driver: alsa for ALSA devices")
		}
		return
	}
	if a.PeriodMS != 0 && (a.PeriodMS < 5 || a.PeriodMS > 100) {
		c.add(0, "audio.period_ms", "%d is out of range; use 5 to 100 (ms), or leave it out for 10", a.PeriodMS)
	}
	if a.Periods != 0 && (a.Periods < 2 || a.Periods > 16) {
		c.add(0, "audio.periods", "%d is out of range; use 2 to 16 (the buffer in periods), or leave it out for 4", a.Periods)
	}
	if _, ok := a.Routes["handset"]; !ok {
		c.add(0, "audio.routes", "has no handset route; give its ALSA capture and playback devices")
	}
	for _, name := range slices.Sorted(maps.Keys(a.Routes)) {
		r := a.Routes[name]
		if !slices.Contains(Routes, name) {
			c.add(0, "audio.routes."+name, "unknown route; use %s", strings.Join(Routes, ", "))
		}
		if strings.TrimSpace(r.Capture) == "" || strings.TrimSpace(r.Playback) == "" {
			c.add(0, "audio.routes."+name, "needs both capture and playback (ALSA device names, e.g. plughw:CARD=Device,DEV=0)")
		}
		if r.Rate != 0 && (r.Rate < 8000 || r.Rate > 192000) {
			c.add(0, "audio.routes."+name+".rate", "%d is out of range; use 8000 to 192000 (Hz), or leave it out for the codec's rate", r.Rate)
		}
		if r.Channels < 0 || r.Channels > 8 {
			c.add(0, "audio.routes."+name+".channels", "%d is out of range; use 1 to 8, or leave it out for mono", r.Channels)
		}
	}
}
