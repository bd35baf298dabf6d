package boards

import (
	"strings"
	"testing"
)

// Each mistake in a profile is an error naming the file, line, part and
// pin or address. The cases edit rpi4.yaml's text, so lines are real.
func TestCheckMistakes(t *testing.T) {
	good, err := files.ReadFile("rpi4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim, _ := files.ReadFile("sim.yaml")
	cases := []struct {
		name      string
		base      []byte
		old, repl string
		want      string
	}{
		{"pin used twice", good, "pin: GPIO4", "pin: GPIO17",
			"rpi4.yaml:34: hook.pin: pin GPIO17 is used twice: by keypad.buttons.transfer (line 18) and by hook.pin; give each its own pin"},
		{"pin used by the I2C bus", good, "pin: GPIO4", "pin: GPIO2",
			"rpi4.yaml:34: hook.pin: pin GPIO2 is used twice: by I2C bus 1 (SDA) (line 29) and by hook.pin"},
		{"unknown pin", good, "[GPIO5, GPIO6,", "[GPIO5, GPIO30,",
			"rpi4.yaml:11: keypad.rows[1]: unknown pin GPIO30; the rpi header has GPIO0-GPIO27 (BCM numbering)"},
		{"pin by header number", good, "pin: GPIO4", "pin: 7",
			"rpi4.yaml:34: hook.pin: unknown pin 7; the rpi header has GPIO0-GPIO27"},
		{"address out of range", good, "address: 0x27", "address: 0x78",
			"rpi4.yaml:29: display.address: 0x78 is out of range: 7-bit I2C addresses are 0x08-0x77"},
		{"address not the device's", good, "address: 0x27", "address: 0x50",
			"rpi4.yaml:29: display.address: 0x50 is not an address this device can have; a PCF8574 answers at 0x20-0x27"},
		{"address missing", good, "  address: 0x27\n", "",
			"rpi4.yaml: display.address: is missing; give the device's I2C address"},
		{"address not a number", good, "address: 0x27", "address: lcd",
			`rpi4.yaml: line 29: address "lcd" is not a number; write it like 0x27`},
		{"unknown bus", good, `bus: "1"`, `bus: "7"`,
			`rpi4.yaml:29: display.bus: no I2C bus "7" on the rpi header; use "0", "1"`},
		{"missing part", good, "hook:\n  driver: gpio\n  pin: GPIO4\n", "",
			"rpi4.yaml: hook: missing part: every board needs keypad, leds, display, hook, audio; give it a driver (sim, gpio)"},
		{"unknown driver", good, "driver: hd44780-pcf8574", "driver: hd4478",
			`rpi4.yaml: display.driver: unknown driver "hd4478"; use sim, hd44780, hd44780-pcf8574, ssd1306`},
		{"unknown header", good, "pins: rpi", "pins: bbb",
			`rpi4.yaml: pins: "bbb" is not a known pin header; use rpi`},
		{"pins without a header", good, "pins: rpi\n", "",
			"rpi4.yaml: pins: is missing, but parts are wired to pins (keypad.rows[0] GPIO5, line 10); set pins: rpi"},
		{"layout too short", good, `    - ["*", "0", "#", hold, acw]` + "\n", "",
			"rpi4.yaml: keypad.layout: has 3 rows for 4 row lines"},
		{"layout row too long", good, `["*", "0", "#", hold, acw]`, `["*", "0", "#", hold, acw, x]`,
			"rpi4.yaml: keypad.layout[3]: has 6 keys for 5 columns"},
		{"required key missing", good, `"#", hold`, `"-", hold`,
			`rpi4.yaml: keypad: has no key "#"; every board needs 0-9 * # call end mute`},
		{"key twice", good, "transfer: GPIO17", "free: GPIO17",
			`rpi4.yaml: keypad: key "free" is there twice`},
		{"required LED missing", good, "    mute: {pin: GPIO8}\n", "",
			`rpi4.yaml: leds: has no LED "mute"; every board needs line, mute, registered`},
		{"misspelt field", good, "blue: GPIO11", "blu: GPIO11",
			"field blu not found"},
		{"RGB LED missing a colour", good, ", blue: GPIO11", "",
			"rpi4.yaml: leds.status.blue: no pin given; name one, e.g. GPIO17"},
		{"LED with pin and colours", good, "{red: GPIO9,", "{pin: GPIO18, red: GPIO9,",
			"rpi4.yaml:25: leds.status: has both pin and red/green/blue"},
		{"display too big", good, "cols: 20", "cols: 80",
			"rpi4.yaml: display: is 4x80; give rows 1-4 and cols 1-40"},
		{"no handset route", good, "    handset:", "    handst:",
			"rpi4.yaml: audio.routes: has no handset route"},
		{"route without playback", good, `playback: "plughw:CARD=Headset,DEV=0"`, `playback: ""`,
			"rpi4.yaml: audio.routes.headset: needs both capture and playback"},
		{"period too short", good, "period_ms: 10", "period_ms: 2",
			"rpi4.yaml: audio.period_ms: 2 is out of range; use 5 to 100 (ms)"},
		{"buffer of one period", good, "  periods: 4\n", "  periods: 1\n",
			"rpi4.yaml: audio.periods: 1 is out of range; use 2 to 16"},
		{"route rate out of range", good, `playback: "plughw:CARD=Headset,DEV=0"}`, `playback: "plughw:CARD=Headset,DEV=0", rate: 1000}`,
			"rpi4.yaml: audio.routes.headset.rate: 1000 is out of range; use 8000 to 192000 (Hz)"},
		{"route channels out of range", good, `playback: "plughw:CARD=Headset,DEV=0"}`, `playback: "plughw:CARD=Headset,DEV=0", channels: 9}`,
			"rpi4.yaml: audio.routes.headset.channels: 9 is out of range; use 1 to 8"},
		{"name not the file's", good, "name: rpi4", "name: rpi",
			`rpi4.yaml: name: is "rpi", want "rpi4" (the file name)`},
		{"sim audio with routes", sim, "audio:\n  driver: sim", "audio:\n  driver: sim\n  routes: {handset: {capture: default, playback: default}}",
			"sim.yaml: audio: the sim driver takes no routes, period_ms or periods"},
		{"sim keypad without keys", sim, `  keys: ["1"`, `  keys: []
  xkeys: ["1"`, "field xkeys not found"},
		{"sim with a pin", sim, "hook:\n  driver: sim", "hook:\n  driver: gpio\n  pin: GPIO4",
			"sim.yaml: pins: is missing, but parts are wired to pins (hook.pin GPIO4, line 18); set pins: rpi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := string(c.base)
			if !strings.Contains(text, c.old) {
				t.Fatalf("the profile has no %q to replace", c.old)
			}
			name := "rpi4"
			if strings.HasPrefix(c.want, "sim.yaml") {
				name = "sim"
			}
			_, err := Parse(name, []byte(strings.Replace(text, c.old, c.repl, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant an error containing %q", err, c.want)
			}
		})
	}
}

// Expander keypads: bits in range and once, devices apart on the bus.
func TestCheckExpander(t *testing.T) {
	base, err := files.ReadFile("rpizero2w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ old, repl, want string }{
		{"address: 0x20", "address: 0x27",
			"rpizero2w.yaml:39: display.address: I2C bus 1 address 0x27 is used twice: by keypad and by display"},
		{"col_bits: [4, 5, 6, 7]", "col_bits: [4, 5, 6, 8]",
			"rpizero2w.yaml: keypad.col_bits[3]: bit 8 is out of range: a pcf8574 has bits 0-7"},
		{"col_bits: [4, 5, 6, 7]", "col_bits: [4, 5, 6, 3]",
			"rpizero2w.yaml: keypad.col_bits[3]: bit 3 is used twice: by keypad.row_bits[3] and by keypad.col_bits[3]"},
		{"address: 0x20", "address: 0x40",
			"rpizero2w.yaml:11: keypad.address: 0x40 is not an address this device can have; a PCF8574 answers at 0x20-0x27 (PCF8574A: 0x38-0x3f)"},
		{"free: GPIO17", "free: GPIO3",
			"rpizero2w.yaml:20: keypad.buttons.free: pin GPIO3 is used twice: by I2C bus 1 (SCL) (line 11) and by keypad.buttons.free"},
	} {
		_, err := Parse("rpizero2w", []byte(strings.Replace(string(base), c.old, c.repl, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: got %v\nwant an error containing %q", c.old, c.repl, err, c.want)
		}
	}
}
