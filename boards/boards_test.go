package boards

import (
	"slices"
	"strings"
	"testing"
)

func TestEveryProfileLoadsComplete(t *testing.T) {
	names := Names()
	if !slices.Contains(names, "sim") {
		t.Fatalf("Names() = %v, want it to include sim", names)
	}
	for _, name := range names {
		p, err := Load(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Name != name || p.Description == "" || p.Display.Rows < 1 || p.Display.Cols < 1 ||
			p.Audio.Capture == "" || p.Audio.Playback == "" {
			t.Errorf("%s: incomplete profile %+v", name, p)
		}
		for _, k := range RequiredKeys() {
			if !slices.Contains(p.Keys, string(k)) {
				t.Errorf("%s: no key %q", name, k)
			}
		}
		for _, l := range RequiredLEDs() {
			if !slices.Contains(p.LEDs, l) {
				t.Errorf("%s: no LED %q", name, l)
			}
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
	if len(p.Keys) != 19 {
		t.Errorf("sim has %d keys %v, want the 15 every board has and the 4 status keys", len(p.Keys), p.Keys)
	}
	for _, k := range []string{"free", "notready", "rest", "acw"} {
		if !slices.Contains(p.Keys, k) {
			t.Errorf("sim has no status key %q", k)
		}
	}
	if !slices.Contains(p.LEDs, "status") {
		t.Error("sim has no status LED")
	}
}

func TestUnknownBoard(t *testing.T) {
	for _, name := range []string{"nokia", "", "../boards/sim", "sim.yaml"} {
		_, err := Load(name)
		if err == nil {
			t.Errorf("Load(%q) succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), "sim") || !strings.Contains(err.Error(), "known boards") {
			t.Errorf("Load(%q) error %q does not list the known boards", name, err)
		}
	}
}

func TestCheck(t *testing.T) {
	good, err := Load("sim")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(p *Profile){
		`name is "other"`:        func(p *Profile) { p.Name = "other" },
		"description is missing": func(p *Profile) { p.Description = "" },
		"display is 0x20":        func(p *Profile) { p.Display.Rows = 0 },
		`keys lack "#"`: func(p *Profile) {
			p.Keys = slices.DeleteFunc(slices.Clone(p.Keys), func(k string) bool { return k == "#" })
		},
		`key "5" is listed twice`:      func(p *Profile) { p.Keys = append(slices.Clone(p.Keys), "5") },
		`leds lack "registered"`:       func(p *Profile) { p.LEDs = []string{"line", "mute"} },
		`LED "line" is listed twice`:   func(p *Profile) { p.LEDs = append(slices.Clone(p.LEDs), "line") },
		"needs both capture and playb": func(p *Profile) { p.Audio.Playback = "" },
	}
	for want, spoil := range cases {
		p := *good
		spoil(&p)
		err := p.check("sim")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check after breaking %q = %v", want, err)
		}
	}
}

func TestUnknownField(t *testing.T) {
	_, err := parse("x", []byte("name: x\ndisplay:\n  rows: 2\n  colums: 16\n"))
	if err == nil || !strings.Contains(err.Error(), "colums") || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("misspelt field: err = %v, want one naming colums and x.yaml", err)
	}
}
