package boards

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"deskphone/hal"
)

// Part constructors, one per part kind. Each gets the Env of the board being
// opened (its profile, settings, shared devices) and returns the part.
type (
	// KeypadFunc makes a keypad.
	KeypadFunc func(env *Env, p *KeypadPart) (hal.Keypad, error)
	// LEDsFunc makes the LEDs.
	LEDsFunc func(env *Env, p *LEDsPart) (hal.LEDs, error)
	// DisplayFunc makes a display.
	DisplayFunc func(env *Env, p *DisplayPart) (hal.Display, error)
	// HookFunc makes a hook switch.
	HookFunc func(env *Env, p *HookPart) (hal.Hook, error)
	// AudioFunc makes the sound devices.
	AudioFunc func(env *Env, p *AudioPart) (hal.Audio, error)
)

var registry = struct {
	sync.Mutex
	keypad  map[string]KeypadFunc
	leds    map[string]LEDsFunc
	display map[string]DisplayFunc
	hook    map[string]HookFunc
	audio   map[string]AudioFunc
}{
	keypad:  map[string]KeypadFunc{},
	leds:    map[string]LEDsFunc{},
	display: map[string]DisplayFunc{},
	hook:    map[string]HookFunc{},
	audio:   map[string]AudioFunc{},
}

// RegisterKeypad makes a keypad driver available to profiles under name.
// Registering a name twice panics: two drivers would silently compete.
func RegisterKeypad(name string, f KeypadFunc) { register(registry.keypad, "keypad", name, f) }

// RegisterLEDs makes an LEDs driver available under name.
func RegisterLEDs(name string, f LEDsFunc) { register(registry.leds, "leds", name, f) }

// RegisterDisplay makes a display driver available under name.
func RegisterDisplay(name string, f DisplayFunc) { register(registry.display, "display", name, f) }

// RegisterHook makes a hook driver available under name.
func RegisterHook(name string, f HookFunc) { register(registry.hook, "hook", name, f) }

// RegisterAudio makes an audio driver available under name.
func RegisterAudio(name string, f AudioFunc) { register(registry.audio, "audio", name, f) }

func register[F any](m map[string]F, kind, name string, f F) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := m[name]; dup {
		panic(fmt.Sprintf("boards: %s driver %q registered twice", kind, name))
	}
	m[name] = f
}

func lookup[F any](m map[string]F, kind, name string) (F, error) {
	registry.Lock()
	defer registry.Unlock()
	f, ok := m[name]
	if !ok {
		have := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		return f, fmt.Errorf("%s driver %q is not in this build (it has: %s); the firmware's drivers.go registers the drivers it ships",
			kind, name, orNone(have))
	}
	return f, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Env is what part constructors share while one board is opened.
type Env struct {
	Profile *Profile
	Log     *slog.Logger
	// Settings are per-driver settings from the phone's config, by driver
	// name (e.g. "sim": the simulated sound devices); a driver type-asserts
	// its own.
	Settings map[string]any

	shared    map[string]any
	closables []any          // shared values with a Close method
	closers   []func() error // OnClose
	panel     Panel
}

// Shared returns the value stored under key, opening it on first use: a
// host's GPIO, an I2C bus, or one device that serves several parts (the
// sim board). A value with a Close method is closed with the board.
func (e *Env) Shared(key string, open func() (any, error)) (any, error) {
	if v, ok := e.shared[key]; ok {
		return v, nil
	}
	v, err := open()
	if err != nil {
		return nil, err
	}
	e.Provide(key, v)
	e.closables = append(e.closables, v)
	return v, nil
}

// Provide stores v under key, so Shared returns it without opening
// anything: tests hand in a fake host this way. Close does not close it.
func (e *Env) Provide(key string, v any) {
	if e.shared == nil {
		e.shared = map[string]any{}
	}
	e.shared[key] = v
}

// OnClose runs f when the board closes, after its parts and shared
// values, in reverse order.
func (e *Env) OnClose(f func() error) { e.closers = append(e.closers, f) }

func (e *Env) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}
