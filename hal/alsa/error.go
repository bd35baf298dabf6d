package alsa

import (
	"fmt"
	"syscall"
)

// The contact center SDK's device error codes (tccc-agent.md §5) this
// driver reports; Error.Code holds one.
const (
	CodeMicStartFail         = -1302
	CodeUnsupportedRate      = -1306
	CodeMicNotAuthorized     = -1317
	CodeMicSetParamFail      = -1318
	CodeMicOccupied          = -1319
	CodeMicStopFail          = -1320
	CodeSpeakerStartFail     = -1321
	CodeSpeakerSetParamFail  = -1322
	CodeSpeakerStopFail      = -1323
	streamCapture, streamOut = "capture", "playback"
)

// Error is a sound device that failed: which PCM, on which route, doing
// what, the SDK's code for it and ALSA's reason. errors.Is(err,
// syscall.EBUSY) and the like see ALSA's errno.
type Error struct {
	Device string // the ALSA PCM name, e.g. plughw:CARD=Device,DEV=0
	Route  string // handset, speaker, headset
	Stream string // capture or playback
	Op     string // open, set rate, read, ...
	Code   int    // the SDK's code, e.g. -1302
	Errno  int    // ALSA's error, negative (-ENOENT); 0 when ALSA gave none
	Reason string // ALSA's text for Errno (snd_strerror), or the driver's
}

func (e *Error) Error() string {
	return fmt.Sprintf("alsa: %s device %q (%s route): %s: %s (SDK code %d)", e.Stream, e.Device, e.Route, e.Op, e.Reason, e.Code)
}

// SDKCode is the SDK's code for the failure: the phone reports it in
// onError.
func (e *Error) SDKCode() int { return e.Code }

// Unwrap is ALSA's errno, for errors.Is.
func (e *Error) Unwrap() error {
	if e.Errno >= 0 {
		return nil
	}
	return syscall.Errno(-e.Errno)
}

// The steps of opening a PCM, as pcm.go's C code numbers them (DP_*): a
// failure's SDK code depends on the step.
const (
	stageOpen = iota + 1
	stageAccess
	stageFormat
	stageChannels
	stageRate
	stagePeriod
	stageBuffer
	stageHW
	stageSW
	stagePrepare
	stageStart
)

// openCode is the SDK's code for a failure at one step of opening.
func openCode(capture bool, stage, errno int) int {
	switch {
	case stage == stageRate:
		return CodeUnsupportedRate
	case !capture && stage != stageOpen && stage != stagePrepare && stage != stageStart:
		return CodeSpeakerSetParamFail
	case !capture:
		return CodeSpeakerStartFail
	case stage == stageOpen && errno == -int(syscall.EBUSY):
		return CodeMicOccupied
	case stage == stageOpen && (errno == -int(syscall.EACCES) || errno == -int(syscall.EPERM)):
		return CodeMicNotAuthorized
	case stage != stageOpen && stage != stagePrepare && stage != stageStart:
		return CodeMicSetParamFail
	default:
		return CodeMicStartFail
	}
}

// runCode is the SDK's code for a device that fails while in use: it
// stopped delivering (capture) or taking (playback) audio.
func runCode(capture bool) int {
	if capture {
		return CodeMicStartFail
	}
	return CodeSpeakerStartFail
}

func streamName(capture bool) string {
	if capture {
		return streamCapture
	}
	return streamOut
}
