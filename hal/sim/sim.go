// Package sim is a simulated phone board: a keypad driven by Press, LEDs,
// display and hook switch that only store their state (Panel, Watch), and
// sound devices paced by the real clock like a sound card. Capture plays a
// tone, silence or a WAV file; playback records to a WAV file. It lets the
// whole firmware run, and be tested, on a machine with no phone hardware.
package sim

import (
	"errors"
	"fmt"
	"sync"

	"deskphone/hal"
)

// Options configure a simulated board. The zero value is a 4x20 display,
// silent microphone and discarded speaker.
type Options struct {
	Rows, Cols int // display size; 0 means 4 rows, 20 columns

	// Input is what the microphone hears: "tone:HZ" (a sine at -6 dBFS),
	// "silence" (also the default ""), or the path of a 16-bit PCM WAV file,
	// resampled to the capture rate and looped.
	Input string

	// Output is the WAV file the speaker writes, created anew by every
	// OpenPlayback (one file per call). "" discards the samples.
	Output string

	// ExtraKeys are key names accepted by Press beyond the digits and
	// call/end/mute (e.g. a profile's status keys).
	ExtraKeys []string
}

const (
	defaultRows = 4
	defaultCols = 20
	keyQueue    = 64 // presses that may wait unread before Press fails
	hookQueue   = 8  // hook changes kept for a slow reader
)

// Board is the simulated board. It implements hal.Board; all methods are
// safe for concurrent use.
type Board struct {
	opts  Options
	in    input
	valid map[hal.Key]bool

	keys chan hal.Key
	hook chan bool

	mu       sync.Mutex
	closed   bool
	display  []string
	leds     map[string]hal.LEDState
	colors   map[string]hal.Color
	offHook  bool
	watchers map[chan struct{}]struct{}
	capture  *capture
	playback *playback

	unpaced bool // test hook: devices run as fast as the caller asks
}

var _ hal.Board = (*Board)(nil)

// New checks opts and returns a board with the display blank, all LEDs off
// and the handset on hook. A WAV input is read here, so a bad file is
// reported now rather than when a call starts.
func New(opts Options) (*Board, error) {
	if opts.Rows == 0 {
		opts.Rows = defaultRows
	}
	if opts.Cols == 0 {
		opts.Cols = defaultCols
	}
	if opts.Rows < 0 || opts.Cols < 0 {
		return nil, fmt.Errorf("sim: display %dx%d: rows and columns must be positive (or 0 for the default 4x20)", opts.Rows, opts.Cols)
	}
	in, err := parseInput(opts.Input)
	if err != nil {
		return nil, err
	}
	valid := make(map[hal.Key]bool)
	for _, k := range baseKeys() {
		valid[k] = true
	}
	for _, name := range opts.ExtraKeys {
		if name == "" {
			return nil, errors.New("sim: ExtraKeys contains an empty key name; remove it")
		}
		valid[hal.Key(name)] = true
	}
	b := &Board{
		opts:     opts,
		in:       in,
		valid:    valid,
		keys:     make(chan hal.Key, keyQueue),
		hook:     make(chan bool, hookQueue),
		display:  make([]string, opts.Rows),
		leds:     map[string]hal.LEDState{hal.LEDLine: hal.LEDOff, hal.LEDMute: hal.LEDOff, hal.LEDReg: hal.LEDOff},
		colors:   map[string]hal.Color{},
		watchers: make(map[chan struct{}]struct{}),
	}
	return b, nil
}

// Name is "sim".
func (b *Board) Name() string { return "sim" }

// Close closes open sound devices, then the Presses and Changes channels
// and every Watch channel. Later calls return hal.ErrClosed; closing twice
// is harmless.
func (b *Board) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.keys)
	close(b.hook)
	for ch := range b.watchers {
		close(ch)
	}
	clear(b.watchers)
	c, p := b.capture, b.playback
	b.mu.Unlock()

	var errs []error
	if c != nil {
		errs = append(errs, c.Close())
	}
	if p != nil {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
