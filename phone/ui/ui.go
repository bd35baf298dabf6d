// Package ui is what the agent sees and touches: it turns key presses and
// the hook switch into the phone's functions, and the phone's events into
// display lines and LEDs. It drives hal's interfaces, never a driver.
//
// Its parts: keys.go turns keys and the hook into the phone's functions;
// model.go gathers what the screen shows (the phone's state and the UI's
// own notes) into a Model; render.go draws a Model for a display's size,
// a pure function with golden-file tests (testdata/screens); this file runs
// the loop and sets the LEDs.
package ui

import (
	"context"
	"sync"
	"time"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/event"
)

// Front is the part of a board the UI uses.
type Front interface {
	hal.Keypad
	hal.LEDs
	hal.Display
	hal.Hook
}

// UI runs one phone's front panel. What it shows of a call is read from
// the phone's state on every render; it keeps only what is its own: the
// digits being typed, the digits of this call, and the last notice.
type UI struct {
	// OnKey, when set before Run, is told of every key press (the metrics
	// count them by key); it must not block.
	OnKey func(hal.Key)

	p     *phone.Phone
	front Front
	now   func() time.Time

	mu        sync.Mutex
	dial      string            // digits typed while idle
	digits    map[string]string // DTMF typed or received, per session
	notice    Notice            // last end reason or error, shown while idle
	restMenu  bool              // the Rest key was pressed: a digit picks the reason
	menuSince time.Time         // when it was pressed
}

// New builds the UI; Run starts it.
func New(p *phone.Phone, front Front) *UI {
	return &UI{p: p, front: front, now: time.Now, digits: map[string]string{}}
}

// Run handles keys and events until ctx ends.
func (u *UI) Run(ctx context.Context) {
	events, stop := u.p.Bus().Subscribe(256)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hook := u.front.Changes()
	u.render()
	for {
		select {
		case <-ctx.Done():
			return
		case k, ok := <-u.front.Presses():
			if !ok {
				return
			}
			if u.OnKey != nil {
				u.OnKey(k)
			}
			u.key(k)
		case off, ok := <-hook:
			if !ok {
				hook = nil // the board closed it: no more hook changes
				continue
			}
			u.hook(off)
		case e, ok := <-events:
			if !ok {
				return
			}
			if e.Name == event.AudioVolume || e.Name == event.NetworkQuality {
				continue // several a second in a call, none shown: a render each was most of a call's garbage
			}
			u.apply(e)
		case <-tick.C: // the call timer and the status's age change by themselves
		}
		u.render()
	}
}

// apply keeps the UI's own notes from one event.
func (u *UI) apply(e event.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch d := e.Data.(type) {
	case phone.SessionInfo:
		u.notice = Notice{}
	case phone.DTMFInfo:
		u.digits[d.SessionID] += d.Digit
	case phone.Ended:
		delete(u.digits, d.SessionID)
		u.notice = endText(d)
	case phone.TransferInfo:
		if d.Status == "failed" {
			u.notice = transferFailed(d.Code)
		}
	case phone.ErrorInfo:
		if e.Name == event.Error {
			u.notice = errorText(d)
		}
	}
}

// statusLED is how the status LED shows each agent status: a colour on an
// RGB LED, a pattern on a single-colour one.
var statusLED = map[string]struct {
	c  hal.Color
	rg hal.LEDState // on an RGB LED
	mn hal.LEDState // on a single-colour LED
}{
	"free":     {hal.Green, hal.LEDOn, hal.LEDOn},
	"busy":     {hal.Red, hal.LEDOn, hal.LEDOff},
	"arrange":  {hal.Amber, hal.LEDBlink, hal.LEDFastBlink},
	"notReady": {hal.Amber, hal.LEDOn, hal.LEDBlink},
	"rest":     {hal.Blue, hal.LEDOn, hal.LEDBlink},
}

func (u *UI) setStatusLED(status string) {
	look := statusLED[status] // offline: none, so off
	if c, ok := u.front.(hal.ColorLEDs); ok {
		_ = c.SetLEDColor(hal.LEDStatus, look.c, look.rg)
		return
	}
	_ = u.front.SetLED(hal.LEDStatus, look.mn)
}

// render sets the LEDs, then the display: a test that sees the display
// change can read the LEDs already set.
func (u *UI) render() {
	ps := u.p.State()
	f, _ := focus(ps.Sessions)
	line := hal.LEDOff
	switch {
	case f == nil:
	case f.State == phone.StateRinging:
		line = hal.LEDFastBlink
	case f.State == phone.StateConnected || f.State == phone.StateRemoteHeld || f.State == phone.StateTransferring:
		line = hal.LEDOn
	default: // dialing, alerting, held
		line = hal.LEDBlink
	}
	mute := hal.LEDOff
	if f != nil && f.Muted {
		mute = hal.LEDOn
	}
	reg := hal.LEDOff
	if ps.Registration.State == "registered" {
		reg = hal.LEDOn
	}
	u.setStatusLED(ps.Agent.Status)
	_ = u.front.SetLED(hal.LEDReg, reg)
	_ = u.front.SetLED(hal.LEDLine, line)
	_ = u.front.SetLED(hal.LEDMute, mute)
	_ = u.front.Show(u.screen(ps)) // the same State: each one costs a dozen allocations
}

// Screen is what the display shows now, laid out for its size.
func (u *UI) Screen() []string { return u.screen(u.p.State()) }

// screen lays out the display for the phone's state ps.
func (u *UI) screen(ps phone.State) []string {
	rows, cols := u.front.Size()
	return Render(u.model(ps), rows, cols, u.now())
}
