package phone

import (
	"errors"
	"fmt"
)

// Error codes of the contact center's SDK (tccc-agent.md §5) that the phone
// reports. SIP final responses are reported with their own code.
const (
	ErrHTTPRequestFailure  = -10001 // network: the registrar cannot be reached
	ErrHadLoggedOut        = -10005 // not logged in (any more)
	ErrUnregistFailure     = 20001  // login / deregistration failed
	ErrAnswerFailure       = 20002
	ErrSIPURIWrongFormat   = 20003
	ErrSIPBadRequest       = 400 // e.g. a call before login
	ErrSIPUnauthorized     = 401
	ErrSIPForbidden        = 403
	ErrSIPAuthRequired     = 407 // proxy authentication refused
	ErrSIPRequestTimeout   = 408
	ErrSIPRequestTerminate = 487
	ErrSIPServiceUnavail   = 503
	ErrMicStartFail        = -1302
	ErrSpeakerStartFail    = -1321
	ErrRTCEnterRoomFailed  = -3301 // SDP negotiation found no common codec
)

// Error is a failed SDK function: a code of §5 and a message for a person.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

func newError(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// deviceCode is the SDK code a sound driver gave its error (the ALSA
// driver's -1319 busy, -1306 rate, ...: a method SDKCode), else def.
func deviceCode(err error, def int) int {
	if c, ok := errors.AsType[interface {
		error
		SDKCode() int
	}](err); ok {
		return c.SDKCode()
	}
	return def
}

// CodeOf returns the SDK code of err (0 for nil, -1 when err carries none).
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// Errors for session lookups.
var (
	errNoSession = &Error{Code: ErrSIPBadRequest, Message: "no such session: check the sessionId (GET /v1/state lists them)"}
)
