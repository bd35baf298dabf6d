package sipua

import (
	"deskphone/phone/signal"

	"github.com/emiago/sipgo/sip"
)

// The stack's errors are the signalling contract's, so phone can test
// against them without importing sipgo.
var (
	ErrBadURI     = signal.ErrBadURI
	ErrTimeout    = signal.ErrTimeout
	ErrCanceled   = signal.ErrCanceled
	ErrNoAck      = signal.ErrNoAck
	ErrDialogGone = signal.ErrDialogGone
)

// StatusError is a final non-2xx SIP response.
type StatusError = signal.StatusError

func statusError(res *sip.Response) *StatusError {
	return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
}
