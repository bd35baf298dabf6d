package keypad

import (
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"deskphone/hal"
)

// buttonPin is a gpiotest pin whose level is what the test sets: the
// gpiotest pin also takes the level of each edge it reports, and an edge
// reported late would undo a later release.
type buttonPin struct {
	gpiotest.Pin
	down bool
}

func (p *buttonPin) Read() gpio.Level {
	p.Lock()
	defer p.Unlock()
	return gpio.Level(!p.down)
}

// button presses (low, with a falling edge) or releases a button.
func button(p *buttonPin, down bool) {
	p.Lock()
	p.down = down
	p.Unlock()
	if down {
		p.EdgesChan <- gpio.Low
	}
}

func TestButtons(t *testing.T) {
	pins := map[hal.Key]*buttonPin{}
	in := map[hal.Key]gpio.PinIn{}
	for i, k := range []hal.Key{hal.KeyHold, hal.KeyTransfer, hal.KeyVolUp, hal.KeyFree} {
		p := &buttonPin{Pin: gpiotest.Pin{N: "GPIO", Num: 20 + i, EdgesChan: make(chan gpio.Level, 16)}}
		pins[k], in[k] = p, p
	}
	r := newRig(t, func(o *Opts) (*Keypad, error) { return NewButtons(in, o) })
	if p := pins[hal.KeyHold].Pull(); p != gpio.PullUp {
		t.Fatalf("button pull = %v, want up", p)
	}

	// Bounces, then held: one Down, then Long.
	for range 3 {
		button(pins[hal.KeyHold], true)
		r.advance(1)
		r.sync()
		button(pins[hal.KeyHold], false)
		r.toIdle(func() { r.advance(1) })
	}
	button(pins[hal.KeyHold], true)
	r.advance(4)
	r.expect(Event{hal.KeyHold, Down})
	r.advance(159)
	r.quiet()
	r.advance(1)
	r.expect(Event{hal.KeyHold, Long})

	// A second button while the first is held.
	button(pins[hal.KeyVolUp], true)
	r.advance(5)
	r.expect(Event{hal.KeyVolUp, Down})
	button(pins[hal.KeyVolUp], false)
	button(pins[hal.KeyHold], false)
	r.toIdle(func() { r.advance(5) })
	r.expect(Event{hal.KeyHold, Up}, Event{hal.KeyVolUp, Up}) // one scan: in key order
	r.wantPresses(hal.KeyHold, hal.KeyVolUp)
}

func TestButtonsErrors(t *testing.T) {
	if _, err := NewButtons(nil, nil); err == nil || !strings.Contains(err.Error(), "no buttons") {
		t.Errorf("NewButtons(nil) = %v, want an error saying no buttons", err)
	}
	_, err := NewButtons(map[hal.Key]gpio.PinIn{hal.KeyMute: nil}, nil)
	if err == nil || !strings.Contains(err.Error(), `"mute" has no pin`) {
		t.Errorf("NewButtons(mute: nil) = %v, want an error naming the key", err)
	}
}
