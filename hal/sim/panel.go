package sim

import (
	"slices"

	"deskphone/hal"
)

// Panel is a snapshot of what a person would see on the phone.
type Panel struct {
	Display []string          `json:"display"`          // Rows lines, each at most Cols characters
	LEDs    map[string]string `json:"leds"`             // name → "off", "on", "blink", "fast-blink"
	Colors  map[string]string `json:"colors,omitempty"` // RGB LEDs: name → "green", "red", "amber", "blue"
	OffHook bool              `json:"offHook"`
}

// Panel returns the current display, LEDs and hook state. The result is a
// copy the caller may keep.
func (b *Board) Panel() Panel {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := Panel{Display: slices.Clone(b.display), LEDs: make(map[string]string, len(b.leds)), Colors: map[string]string{}, OffHook: b.offHook}
	for name, s := range b.leds {
		p.LEDs[name] = s.String()
	}
	for name, c := range b.colors {
		p.Colors[name] = string(c)
	}
	return p
}

// Watch returns a channel that receives a value after any change to the
// display, LEDs or hook. Changes that happen before the receiver wakes are
// coalesced into one notification: read Panel after each. stop ends the
// watch and closes the channel; Close closes it too.
func (b *Board) Watch() (changed <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	b.watchers[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.watchers[ch]; ok {
			delete(b.watchers, ch)
			close(ch)
		}
	}
}

// notify wakes watchers; b.mu must be held.
func (b *Board) notify() {
	for ch := range b.watchers {
		select {
		case ch <- struct{}{}:
		default: // one is already pending: coalesce
		}
	}
}

// Size is the display's rows and columns.
func (b *Board) Size() (rows, cols int) { return b.opts.Rows, b.opts.Cols }

// Show replaces the screen. Lines are cut to the width (in characters), the
// screen is padded with blank lines, and lines beyond the last row are
// dropped.
func (b *Board) Show(lines []string) error {
	screen := make([]string, b.opts.Rows)
	for i := range min(len(lines), len(screen)) {
		screen[i] = cut(lines[i], b.opts.Cols) //nolint:gosec // G602: i < min(len(lines), len(screen))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hal.ErrClosed
	}
	if slices.Equal(screen, b.display) {
		return nil
	}
	b.display = screen
	b.notify()
	return nil
}

func cut(s string, cols int) string {
	n := 0
	for i := range s {
		if n == cols {
			return s[:i]
		}
		n++
	}
	return s
}

// SetLED sets any named LED; names the board did not have appear in Panel.
func (b *Board) SetLED(name string, state hal.LEDState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hal.ErrClosed
	}
	if old, ok := b.leds[name]; ok && old == state {
		return nil
	}
	b.leds[name] = state
	b.notify()
	return nil
}

// SetLEDColor sets an RGB LED: every LED of the simulated board can show
// a colour.
func (b *Board) SetLEDColor(name string, c hal.Color, state hal.LEDState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hal.ErrClosed
	}
	if old, ok := b.leds[name]; ok && old == state && b.colors[name] == c {
		return nil
	}
	b.leds[name] = state
	b.colors[name] = c
	b.notify()
	return nil
}

// OffHook reports whether the handset is lifted.
func (b *Board) OffHook() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.offHook
}

// Changes delivers the hook state on every change. If nothing reads it the
// oldest changes are dropped, so the last value received is always the
// current state. It is closed by Close.
func (b *Board) Changes() <-chan bool { return b.hook }

// SetHook lifts (true) or replaces (false) the handset. Setting the state
// it already has does nothing; after Close it does nothing.
func (b *Board) SetHook(off bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || off == b.offHook {
		return
	}
	b.offHook = off
	select {
	case b.hook <- off:
	default:
		// Full: drop the oldest. We are the only sender (b.mu), so the
		// second send cannot block.
		select {
		case <-b.hook:
		default:
		}
		b.hook <- off
	}
	b.notify()
}
