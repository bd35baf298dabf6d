// Package boards holds the phone models the firmware can run on, as data:
// one YAML profile per board, embedded in the binary, naming for each part
// (keypad, LEDs, display, hook, audio) its driver and the driver's pins,
// bus addresses and devices. Open builds a hal.Board from a profile with
// the drivers registered in this build (registry.go): the firmware imports
// the drivers it ships, so this package imports none of them.
package boards

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"deskphone/hal"
)

//go:embed *.yaml
var files embed.FS

// Profile describes one board: its parts and where they are wired.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Pins names the pin header the parts' pins are on ("rpi": BCM names
	// GPIO0-GPIO27); "" for a board without pins (sim).
	Pins    string      `yaml:"pins"`
	Keypad  KeypadPart  `yaml:"keypad"`
	LEDs    LEDsPart    `yaml:"leds"`
	Display DisplayPart `yaml:"display"`
	Hook    HookPart    `yaml:"hook"`
	Audio   AudioPart   `yaml:"audio"`
}

// KeypadPart is the keys: a matrix (on GPIO or an I2C expander), single
// buttons on GPIO, or both.
type KeypadPart struct {
	Driver string `yaml:"driver"` // sim, gpio, mcp23017, pcf8574
	// Keys lists a sim keypad's keys.
	Keys []string `yaml:"keys"`
	// Rows are driven and Cols read (gpio); on an expander, RowBits and
	// ColBits are its port bits (0-15 on an MCP23017, 0-7 on a PCF8574).
	Rows    []Pin  `yaml:"rows"`
	Cols    []Pin  `yaml:"cols"`
	RowBits []int  `yaml:"row_bits"`
	ColBits []int  `yaml:"col_bits"`
	Bus     string `yaml:"bus"`
	Address Addr   `yaml:"address"`
	// Layout names the key at each row and column of the matrix.
	Layout [][]string `yaml:"layout"`
	// Buttons are keys on a pin of their own (to ground), beside the matrix.
	Buttons map[string]Pin `yaml:"buttons"`
}

// LEDsPart is the LEDs: single ones and RGB ones.
type LEDsPart struct {
	Driver string         `yaml:"driver"` // sim, gpio
	LEDs   map[string]LED `yaml:"leds"`
}

// LED is one LED: Pin for a single colour, Red/Green/Blue for an RGB one.
// A sim LED has none.
type LED struct {
	Pin   Pin `yaml:"pin"`
	Red   Pin `yaml:"red"`
	Green Pin `yaml:"green"`
	Blue  Pin `yaml:"blue"`
	// ActiveLow: lit while the pin is low (wired to 3.3 V; a common-anode
	// RGB LED).
	ActiveLow bool `yaml:"active_low"`
}

// RGB reports whether the LED has colours.
func (l LED) RGB() bool { return l.Red.Name != "" || l.Green.Name != "" || l.Blue.Name != "" }

// DisplayPart is the text display.
type DisplayPart struct {
	Driver  string `yaml:"driver"` // sim, hd44780, hd44780-pcf8574, ssd1306
	Rows    int    `yaml:"rows"`   // text rows and columns (ssd1306: 8x21, fixed)
	Cols    int    `yaml:"cols"`
	Bus     string `yaml:"bus"` // I2C bus name, e.g. "1" for /dev/i2c-1
	Address Addr   `yaml:"address"`
	// Pins wire an HD44780 on GPIO in 4-bit mode.
	Pins struct {
		RS Pin   `yaml:"rs"`
		E  Pin   `yaml:"e"`
		D  []Pin `yaml:"d"`  // D4-D7
		BL Pin   `yaml:"bl"` // backlight, optional
	} `yaml:"pins"`
}

// HookPart is the hook switch.
type HookPart struct {
	Driver string `yaml:"driver"` // sim, gpio
	// Pin reads low (the switch closes it to ground, against the pull-up)
	// while the handset is lifted; Invert for a switch wired the other way.
	Pin    Pin  `yaml:"pin"`
	Invert bool `yaml:"invert"`
}

// AudioPart is the sound devices, one capture and playback pair per route.
type AudioPart struct {
	Driver string           `yaml:"driver"` // sim, alsa
	Routes map[string]Route `yaml:"routes"` // handset (required), speaker, headset
	// PeriodMS is the ALSA period in milliseconds (5-100; 0: 10), the unit
	// the card moves audio in; Periods is the buffer in periods (2-16; 0: 4).
	PeriodMS int `yaml:"period_ms"`
	Periods  int `yaml:"periods"`
}

// Route is the ALSA devices of one audio route.
type Route struct {
	Capture  string `yaml:"capture"`  // ALSA PCM name, e.g. plughw:CARD=Device,DEV=0
	Playback string `yaml:"playback"` // ALSA PCM name
	// Rate imposes the devices' rate (8000-192000), for a device opened
	// as hw: with one rate; 0: the codec's rate if the device has it, else
	// its nearest. The driver resamples between the two.
	Rate int `yaml:"rate"`
	// Channels imposes the devices' channels (1-8), for a stereo-only DAC;
	// 0: mono if the device has it. The driver mixes to and from mono.
	Channels int `yaml:"channels"`
}

// Keys lists every key the board has: a sim keypad's keys, the matrix
// layout's and the buttons', in profile order (buttons sorted).
func (p *Profile) Keys() []string {
	keys := slices.Clone(p.Keypad.Keys)
	for _, row := range p.Keypad.Layout {
		for _, k := range row {
			if k != "" && k != "-" {
				keys = append(keys, k)
			}
		}
	}
	var buttons []string
	for k := range p.Keypad.Buttons {
		buttons = append(buttons, k)
	}
	slices.Sort(buttons)
	return append(keys, buttons...)
}

// LEDNames lists the board's LEDs, sorted.
func (p *Profile) LEDNames() []string {
	var names []string
	for n := range p.LEDs.LEDs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Names lists the known boards, sorted.
func Names() []string {
	ents, _ := files.ReadDir(".") // embedded: cannot fail
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Load returns the named board's profile, checked: a pin used twice, an
// unknown pin, an address out of range or a missing part is an error
// naming it.
func Load(name string) (*Profile, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("boards: unknown board %q; known boards: %s", name, strings.Join(Names(), ", "))
	}
	return Parse(name, b)
}

// Parse decodes and checks a profile; name is its file name without
// ".yaml". Decoding is strict: a misspelt field is an error, not a
// silently missing value.
func Parse(name string, b []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("boards: %s.yaml: %w", name, err)
	}
	if err := p.check(name); err != nil {
		return nil, fmt.Errorf("boards: %w", err) // each line names the file
	}
	return &p, nil
}

// RequiredKeys are the keys every board has (hal's digits and fixed keys).
func RequiredKeys() []hal.Key {
	keys := []hal.Key{"*", "#", hal.KeyCall, hal.KeyEnd, hal.KeyMute}
	for d := '0'; d <= '9'; d++ {
		keys = append(keys, hal.Key(d))
	}
	return keys
}

// RequiredLEDs are the LEDs every board has.
func RequiredLEDs() []string { return []string{hal.LEDLine, hal.LEDMute, hal.LEDReg} }
