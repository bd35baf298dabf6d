package media

import "errors"

// Sentinel errors; wrapped errors carry the detail, test with errors.Is.
var (
	// ErrUnknownCodec: a codec name that is not registered.
	ErrUnknownCodec = errors.New("media: unknown codec")
	// ErrShortBuffer: a caller-owned buffer is too small for the result.
	ErrShortBuffer = errors.New("media: buffer too short")

	// ErrInvalidDigit: a DTMF digit outside 0-9 * # A-D.
	ErrInvalidDigit = errors.New("media: invalid DTMF digit")
	// ErrNoDigits: an empty DTMF string.
	ErrNoDigits = errors.New("media: no DTMF digits given")
	// ErrNoDTMF: the call did not negotiate telephone-event.
	ErrNoDTMF = errors.New("media: the far end did not negotiate telephone-event (RFC 4733), so DTMF cannot be sent")
	// ErrDTMFQueueFull: too many digits are waiting to be sent.
	ErrDTMFQueueFull = errors.New("media: DTMF queue full")
	// ErrStreamClosed: the stream was closed.
	ErrStreamClosed = errors.New("media: stream closed")

	// ErrNoCommonCodec: offer and answer share no audio codec.
	ErrNoCommonCodec = errors.New("media: no common audio codec")
	// ErrNoAudio: the SDP has no audio m-line.
	ErrNoAudio = errors.New("media: SDP has no audio stream (m=audio)")
	// ErrNoConnection: neither the audio m-line nor the session has c=.
	ErrNoConnection = errors.New("media: SDP has no connection address (c=)")
	// ErrStreamRejected: the audio m-line has port 0.
	ErrStreamRejected = errors.New("media: audio stream rejected (port 0)")
)
