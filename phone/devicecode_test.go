package phone

import (
	"errors"
	"fmt"
	"testing"
)

type busyMic struct{}

func (busyMic) Error() string { return "capture device \"hw:1\": Device or resource busy" }
func (busyMic) SDKCode() int  { return -1319 }

// A sound driver's own SDK code (ALSA: -1319 busy, -1306 rate) is the one
// reported; an error without one gets the default.
func TestDeviceCode(t *testing.T) {
	if c := deviceCode(fmt.Errorf("open: %w", busyMic{}), ErrMicStartFail); c != -1319 {
		t.Errorf("wrapped driver error: code %d, want -1319", c)
	}
	if c := deviceCode(errors.New("no microphone"), ErrMicStartFail); c != ErrMicStartFail {
		t.Errorf("plain error: code %d, want %d", c, ErrMicStartFail)
	}
}
