// Package boards holds the phone models the firmware can run on, as data:
// one YAML profile per board (display size, keys, LEDs, audio devices),
// embedded in the binary. The config's "board:" names one of them.
package boards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"deskphone/hal"
)

//go:embed *.yaml
var files embed.FS

// Profile describes one board.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Display     struct {
		Rows int `yaml:"rows"`
		Cols int `yaml:"cols"`
	} `yaml:"display"`
	Keys  []string `yaml:"keys"`
	LEDs  []string `yaml:"leds"`
	Audio struct {
		Capture  string `yaml:"capture"`
		Playback string `yaml:"playback"`
	} `yaml:"audio"`
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

// Load returns the named board's profile, checked for completeness.
func Load(name string) (*Profile, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("boards: unknown board %q; known boards: %s", name, strings.Join(Names(), ", "))
	}
	return parse(name, b)
}

// parse decodes a profile strictly: a misspelt field is an error, not a
// silently missing value.
func parse(name string, b []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("boards: %s.yaml: %w", name, err)
	}
	if err := p.check(name); err != nil {
		return nil, fmt.Errorf("boards: %s.yaml: %w", name, err)
	}
	return &p, nil
}

// check enforces what every board must have: the keys and LEDs the phone
// logic relies on, a display, and named audio devices.
func (p *Profile) check(file string) error {
	var errs []error
	if p.Name != file {
		errs = append(errs, fmt.Errorf("name is %q, want %q (the file name)", p.Name, file))
	}
	if p.Description == "" {
		errs = append(errs, errors.New("description is missing"))
	}
	if p.Display.Rows < 1 || p.Display.Cols < 1 {
		errs = append(errs, fmt.Errorf("display is %dx%d; rows and cols must be positive", p.Display.Rows, p.Display.Cols))
	}
	for _, k := range RequiredKeys() {
		if !slices.Contains(p.Keys, string(k)) {
			errs = append(errs, fmt.Errorf("keys lack %q (every board needs 0-9 * # call end mute)", k))
		}
	}
	if d := dup(p.Keys); d != "" {
		errs = append(errs, fmt.Errorf("key %q is listed twice", d))
	}
	for _, l := range RequiredLEDs() {
		if !slices.Contains(p.LEDs, l) {
			errs = append(errs, fmt.Errorf("leds lack %q (every board needs line, mute, registered)", l))
		}
	}
	if d := dup(p.LEDs); d != "" {
		errs = append(errs, fmt.Errorf("LED %q is listed twice", d))
	}
	if p.Audio.Capture == "" || p.Audio.Playback == "" {
		errs = append(errs, errors.New("audio needs both capture and playback"))
	}
	return errors.Join(errs...)
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

func dup(s []string) string {
	seen := make(map[string]bool, len(s))
	for _, v := range s {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return ""
}
