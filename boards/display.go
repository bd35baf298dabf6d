package boards

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"deskphone/hal"
)

// absentDisplay stands in for a display that did not answer at boot: it
// keeps the size the profile gives, so screens are laid out as on the real
// one, and logs each new screen at debug level instead of showing it.
type absentDisplay struct {
	rows, cols int
	log        *slog.Logger

	mu   sync.Mutex
	last []string
}

func (d *absentDisplay) Size() (rows, cols int) { return d.rows, d.cols }

func (d *absentDisplay) Show(lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if slices.Equal(lines, d.last) {
		return nil
	}
	d.last = slices.Clone(lines)
	d.log.Debug("display (absent): "+strings.Join(lines, " | "), "part", "display")
	return nil
}

// absentAudio stands in for sound devices whose driver is not in this
// build: opening them fails with the reason, which the phone reports as
// the SDK's microphone/speaker errors while the call goes on.
type absentAudio struct{ why error }

func (a *absentAudio) OpenCapture(int, int) (hal.Capture, error) {
	return nil, fmt.Errorf("no microphone: %w", a.why)
}

func (a *absentAudio) OpenPlayback(int, int) (hal.Playback, error) {
	return nil, fmt.Errorf("no speaker: %w", a.why)
}

func (a *absentAudio) Close() error { return nil }
