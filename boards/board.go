package boards

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"deskphone/hal"
)

// Panel is a board's front panel as the control API sees it: press a key,
// read back what a person would see (display, LEDs, hook). The sim board
// has one; a real board may, from a read-back of its display and LEDs.
type Panel interface {
	Press(key string) error
	Snapshot() any
}

// ErrAbsent marks a display whose device does not answer on its bus (see
// Absent). Open then keeps the board working without the display.
var ErrAbsent = errors.New("device absent")

// Absent marks err, a display driver's failure to reach its device, as
// ErrAbsent; its text stays err's.
func Absent(err error) error { return absentError{err} }

type absentError struct{ err error }

func (e absentError) Error() string        { return e.err.Error() }
func (e absentError) Unwrap() error        { return e.err }
func (e absentError) Is(target error) bool { return target == ErrAbsent }

// Board is a hal.Board assembled from parts. It always implements
// hal.ColorLEDs: on LEDs without colours, SetLEDColor sets the state alone.
type Board struct {
	name    string
	keypad  hal.Keypad
	leds    hal.LEDs
	display hal.Display
	hook    hal.Hook
	audio   hal.Audio
	env     *Env
	parts   []any
}

var (
	_ hal.Board     = (*Board)(nil)
	_ hal.ColorLEDs = (*Board)(nil)
)

// Open builds the board env.Profile describes with the registered drivers,
// opening its parts in the order keypad, LEDs, display, hook, audio. A part
// that fails closes what was opened and is returned as an error naming
// it, except a display absent from its bus: that is logged as a warning and
// replaced by one that only logs, so the phone keeps working on its LEDs.
func Open(env *Env) (*Board, error) {
	p := env.Profile
	b := &Board{name: p.Name, env: env}
	fail := func(kind, driver string, err error) (*Board, error) {
		_ = b.Close()
		return nil, fmt.Errorf("board %s: %s (%s): %w", p.Name, kind, driver, err)
	}
	kf, err := lookup(registry.keypad, "keypad", p.Keypad.Driver)
	if err == nil {
		b.keypad, err = kf(env, &p.Keypad)
	}
	if err != nil {
		return fail("keypad", p.Keypad.Driver, err)
	}
	b.parts = append(b.parts, b.keypad)
	lf, err := lookup(registry.leds, "leds", p.LEDs.Driver)
	if err == nil {
		b.leds, err = lf(env, &p.LEDs)
	}
	if err != nil {
		return fail("leds", p.LEDs.Driver, err)
	}
	b.parts = append(b.parts, b.leds)
	df, err := lookup(registry.display, "display", p.Display.Driver)
	if err == nil {
		b.display, err = df(env, &p.Display)
	}
	if errors.Is(err, ErrAbsent) {
		env.log().Warn(fmt.Sprintf("display absent at I2C %s %s: %v; the phone works on without it (LEDs and logs)", p.Display.Bus, p.Display.Address, err),
			"board", p.Name, "driver", p.Display.Driver)
		b.display, err = &absentDisplay{rows: p.Display.Rows, cols: p.Display.Cols, log: env.log()}, nil
	}
	if err != nil {
		return fail("display", p.Display.Driver, err)
	}
	b.parts = append(b.parts, b.display)
	hf, err := lookup(registry.hook, "hook", p.Hook.Driver)
	if err == nil {
		b.hook, err = hf(env, &p.Hook)
	}
	if err != nil {
		return fail("hook", p.Hook.Driver, err)
	}
	b.parts = append(b.parts, b.hook)
	af, err := lookup(registry.audio, "audio", p.Audio.Driver)
	switch {
	case err != nil && p.Audio.Driver != "sim":
		// A real board without its sound driver in this build (ALSA comes
		// with the media engine) still has keys, LEDs and a display: calls
		// go on without sound, and each says why (onError -1302/-1321).
		env.log().Warn(fmt.Sprintf("audio: %v; calls will carry silence", err), "board", p.Name)
		b.audio, err = &absentAudio{why: err}, nil
	case err == nil:
		b.audio, err = af(env, &p.Audio)
	}
	if err != nil {
		return fail("audio", p.Audio.Driver, err)
	}
	b.parts = append(b.parts, b.audio)
	return b, nil
}

// SetPanel is called by a driver that can read the board's panel back.
func (e *Env) SetPanel(p Panel) { e.panel = p }

// Panel returns the board's readable front panel, or nil if it has none.
func (b *Board) Panel() Panel { return b.env.panel }

// Name is the profile's name.
func (b *Board) Name() string { return b.name }

// Presses delivers the keypad's key presses.
func (b *Board) Presses() <-chan hal.Key { return b.keypad.Presses() }

// SetLED sets a named LED.
func (b *Board) SetLED(name string, s hal.LEDState) error { return b.leds.SetLED(name, s) }

// SetLEDColor sets an RGB LED's colour and state; an LED part without
// colours gets the state alone.
func (b *Board) SetLEDColor(name string, c hal.Color, s hal.LEDState) error {
	if cl, ok := b.leds.(hal.ColorLEDs); ok {
		return cl.SetLEDColor(name, c, s)
	}
	return b.leds.SetLED(name, s)
}

// Size is the display's rows and columns.
func (b *Board) Size() (rows, cols int) { return b.display.Size() }

// Show replaces the display's text.
func (b *Board) Show(lines []string) error { return b.display.Show(lines) }

// OffHook reports whether the handset is lifted.
func (b *Board) OffHook() bool { return b.hook.OffHook() }

// Changes delivers hook changes.
func (b *Board) Changes() <-chan bool { return b.hook.Changes() }

// OpenCapture opens the microphone.
func (b *Board) OpenCapture(rate, frame int) (hal.Capture, error) {
	return b.audio.OpenCapture(rate, frame)
}

// OpenPlayback opens the speaker.
func (b *Board) OpenPlayback(rate, frame int) (hal.Playback, error) {
	return b.audio.OpenPlayback(rate, frame)
}

// Sound is the board's sound part itself, for the phone: a driver with
// routes (alsa) has AudioRoutes and SetAudioRoute on it, which the Board
// does not forward, so that sound without routes (sim: one device pair)
// is not taken for sound with them.
func (b *Board) Sound() hal.Audio { return b.audio }

// Close closes every part once (a device serving several parts, such as
// the sim board, is closed once), then what the drivers shared (buses,
// host), in reverse order of opening.
func (b *Board) Close() error {
	var errs []error
	done := map[any]bool{}
	closeOnce := func(v any) {
		c, ok := v.(io.Closer)
		if !ok || done[v] {
			return
		}
		done[v] = true
		errs = append(errs, c.Close())
	}
	for _, p := range slices.Backward(b.parts) {
		closeOnce(p)
	}
	b.parts = nil
	for _, v := range slices.Backward(b.env.closables) {
		closeOnce(v)
	}
	b.env.closables = nil
	for _, f := range slices.Backward(b.env.closers) {
		errs = append(errs, f())
	}
	b.env.closers = nil
	return errors.Join(errs...)
}
