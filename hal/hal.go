// Package hal defines the phone's hardware as interfaces: keypad, LEDs, text
// display, hook switch and audio. Drivers (periph.io, ALSA, the simulated
// board) live in sub-packages; nothing above hal imports them directly.
package hal

import "errors"

// Key names a key on the phone. Digits are "0".."9", "*" and "#".
type Key string

// Keys every board has. Boards may add more.
const (
	KeyCall Key = "call" // green key: dial what was typed / answer
	KeyEnd  Key = "end"  // red key: hang up / reject / clear
	KeyMute Key = "mute"
)

// Agent-status keys, on boards that have them.
const (
	KeyFree     Key = "free"     // free; also ends a wrap-up or not-ready
	KeyNotReady Key = "notready" // not ready; pressed again: stop not ready
	KeyRest     Key = "rest"     // rest: then a digit picks the reason
	KeyACW      Key = "acw"      // after-call work; during a wrap-up: end it
)

// Function keys, on boards that have them.
const (
	KeyHold     Key = "hold"
	KeyTransfer Key = "transfer"
	KeySpeaker  Key = "speaker" // hands-free on/off
	KeyHeadset  Key = "headset" // audio route to the headset
	KeyVolUp    Key = "volup"
	KeyVolDown  Key = "voldown"
)

// IsDigit reports whether k is a dialling key (0-9, *, #).
func (k Key) IsDigit() bool {
	return len(k) == 1 && (k[0] >= '0' && k[0] <= '9' || k[0] == '*' || k[0] == '#')
}

// Keypad delivers key presses. The channel is closed when the board closes.
type Keypad interface {
	Presses() <-chan Key
}

// LEDState is what an LED shows.
type LEDState int

// The LED states: off, on, and two blink rates.
const (
	LEDOff LEDState = iota
	LEDOn
	LEDBlink     // slow blink: e.g. call on hold, message waiting
	LEDFastBlink // fast blink: ringing
)

func (s LEDState) String() string {
	switch s {
	case LEDOn:
		return "on"
	case LEDBlink:
		return "blink"
	case LEDFastBlink:
		return "fast-blink"
	default:
		return "off"
	}
}

// LED names every board has.
const (
	LEDLine = "line" // call state: ringing, in call
	LEDMute = "mute"
	LEDReg  = "registered"
)

// LEDStatus shows the agent status, on boards that have it.
const LEDStatus = "status"

// LEDs sets named LEDs. Setting an LED the board does not have is not an error.
type LEDs interface {
	SetLED(name string, state LEDState) error
}

// Color is what an RGB LED shows while lit.
type Color string

// The colours every RGB LED can show.
const (
	Green Color = "green"
	Red   Color = "red"
	Amber Color = "amber"
	Blue  Color = "blue"
)

// ColorLEDs are LEDs that can show a colour (RGB). A board with any
// implements it; SetLED on such an LED keeps its last colour.
type ColorLEDs interface {
	SetLEDColor(name string, c Color, state LEDState) error
}

// Display is a small text display (2–4 lines).
type Display interface {
	// Size is the number of rows and columns.
	Size() (rows, cols int)
	// Show replaces the whole screen; missing lines are blank and long
	// lines are cut to the width.
	Show(lines []string) error
}

// Hook is the handset's hook switch.
type Hook interface {
	OffHook() bool
	// Changes delivers the new state (true = off hook) on every change.
	Changes() <-chan bool
}

// Capture is an open microphone. Read fills frame with the next samples
// (mono, 16-bit) and blocks until they exist: the device's clock paces the
// caller.
type Capture interface {
	Read(frame []int16) error
	Close() error
}

// Playback is an open speaker. Write blocks while the device's buffer is
// full, so it too is paced by the device's clock.
type Playback interface {
	Write(frame []int16) error
	Close() error
}

// Audio opens the board's sound devices at a sample rate (mono, 16-bit).
type Audio interface {
	OpenCapture(sampleRate, frameSamples int) (Capture, error)
	OpenPlayback(sampleRate, frameSamples int) (Playback, error)
}

// Board is one phone's hardware.
type Board interface {
	Name() string
	Keypad
	LEDs
	Display
	Hook
	Audio
	Close() error
}

// ErrClosed is returned by devices used after Close.
var ErrClosed = errors.New("hal: device closed")
