package boards

import (
	"slices"
	"strings"
	"testing"
)

func TestEveryProfileLoadsComplete(t *testing.T) {
	names := Names()
	for _, want := range []string{"sim", "rpi3", "rpi4", "rpi5", "rpizero2w"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, want it to include %s", names, want)
		}
	}
	for _, name := range names {
		p, err := Load(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		keys := p.Keys()
		for _, k := range append(RequiredKeys(), "free", "notready", "rest", "acw") {
			if !slices.Contains(keys, string(k)) {
				t.Errorf("%s: no key %q", name, k)
			}
		}
		for _, l := range append(RequiredLEDs(), "status") {
			if !slices.Contains(p.LEDNames(), l) {
				t.Errorf("%s: no LED %q", name, l)
			}
		}
		if p.LEDs.Driver != "sim" && !p.LEDs.LEDs["status"].RGB() { // every sim LED shows colours
			t.Errorf("%s: the status LED is not RGB", name)
		}
	}
}

func TestSim(t *testing.T) {
	p, err := Load("sim")
	if err != nil {
		t.Fatal(err)
	}
	if p.Display.Rows != 4 || p.Display.Cols != 20 {
		t.Errorf("sim display %dx%d, want 4x20", p.Display.Rows, p.Display.Cols)
	}
	if len(p.Keys()) != 19 {
		t.Errorf("sim has %d keys %v, want the 15 every board has and the 4 status keys", len(p.Keys()), p.Keys())
	}
	if p.Pins != "" {
		t.Errorf("sim has a pin header %q", p.Pins)
	}
}

// The Pi profiles as the issue asks: the display on I2C bus "1", at 0x27
// (HD44780 behind a PCF8574) or 0x3c (SSD1306), and a handset route.
func TestPiProfiles(t *testing.T) {
	for name, want := range map[string]struct {
		display    string
		addr       int
		rows, cols int
	}{
		"rpi3":      {"hd44780-pcf8574", 0x27, 4, 20},
		"rpi4":      {"hd44780-pcf8574", 0x27, 4, 20},
		"rpi5":      {"ssd1306", 0x3c, 8, 21},
		"rpizero2w": {"hd44780-pcf8574", 0x27, 2, 16},
	} {
		p, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Display
		if d.Driver != want.display || d.Bus != "1" || d.Address.Value != want.addr || d.Rows != want.rows || d.Cols != want.cols {
			t.Errorf("%s: display %s on bus %q at %s, %dx%d; want %s at 0x%02x, %dx%d", name, d.Driver, d.Bus, d.Address, d.Rows, d.Cols, want.display, want.addr, want.rows, want.cols)
		}
		if p.Pins != "rpi" || p.Hook.Pin.Name == "" || p.Audio.Routes["handset"].Capture == "" {
			t.Errorf("%s: pins %q, hook %q, handset %+v", name, p.Pins, p.Hook.Pin, p.Audio.Routes["handset"])
		}
	}
}

func TestUnknownBoard(t *testing.T) {
	for _, name := range []string{"nokia", "", "../boards/sim", "sim.yaml"} {
		_, err := Load(name)
		if err == nil {
			t.Errorf("Load(%q) succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), "rpi4") || !strings.Contains(err.Error(), "known boards") {
			t.Errorf("Load(%q) error %q does not list the known boards", name, err)
		}
	}
}

func TestUnknownField(t *testing.T) {
	_, err := Parse("x", []byte("name: x\ndisplay:\n  rows: 2\n  colums: 16\n"))
	if err == nil || !strings.Contains(err.Error(), "colums") || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("misspelt field: err = %v, want one naming colums and x.yaml", err)
	}
}
