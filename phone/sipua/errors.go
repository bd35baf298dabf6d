package sipua

import (
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

var (
	// ErrBadURI: what was dialled is not a number or a SIP URI.
	ErrBadURI = errors.New("malformed SIP URI")
	// ErrTimeout: no final answer in time.
	ErrTimeout = errors.New("timed out")
	// ErrCanceled: the call was cancelled before it was answered.
	ErrCanceled = errors.New("cancelled")
)

// StatusError is a final non-2xx SIP response.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

func statusError(res *sip.Response) *StatusError {
	return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
}
