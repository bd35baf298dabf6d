// Package signal is the contract between the call state machine (package
// phone) and a SIP stack (package sipua): what a call leg can do and what it
// reports. phone depends on these interfaces only, so its state machine is
// tested with a fake in milliseconds and run with sipgo in the product.
//
// Every method that talks to the network is either asynchronous (Ring,
// Answer, Reject, Cancel: they return at once and report later through a
// handler) or takes a context and is called by phone from a goroutine of its
// own, never under a lock.
package signal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrBadURI means what was dialled is not a number or a SIP URI.
	ErrBadURI = errors.New("malformed SIP URI")
	// ErrTimeout means no final answer in time.
	ErrTimeout = errors.New("timed out")
	// ErrCanceled means the call was cancelled before it was answered.
	ErrCanceled = errors.New("cancelled")
	// ErrNoAck means the caller never acknowledged our 200 OK (RFC 3261 §13.3.1.4).
	ErrNoAck = errors.New("the caller never acknowledged the answer (no ACK)")
	// ErrDialogGone means the far end stopped answering in-dialog requests
	// (session refresh or OPTIONS timed out, or 408/481).
	ErrDialogGone = errors.New("the far end stopped answering")
	// ErrLocalBye means the dialog ended because we sent BYE.
	ErrLocalBye = errors.New("local BYE")
)

// StatusError is a final non-2xx SIP response.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

// Party is one end of a call as the SIP headers name it.
type Party struct {
	User string // user part (the number)
	Name string // display name
	URI  string
}

// Header is one extra SIP header.
type Header struct{ Name, Value string }

// DialRequest describes an outbound call.
type DialRequest struct {
	To       string   // number or sip: URI, checked with Signaling.CheckTarget
	SDP      []byte   // our offer
	Headers  []Header // e.g. User-to-User, Referred-By
	Replaces string   // RFC 3891 Replaces value for an attended transfer's new leg
	Timeout  time.Duration
	Handler  DialogHandler // in-dialog requests once answered
}

// DialEvents receives an outbound call's outcome. Exactly one of OnAnswer
// or OnFail is called, after any number of OnProgress. Calls come from the
// SIP stack's goroutines and must not block.
type DialEvents interface {
	OnProgress(code int, reason string)
	OnAnswer(d Dialog)
	OnFail(err error) // *StatusError, ErrCanceled, ErrTimeout or a network error
}

// Outgoing is an outbound INVITE not yet answered.
type Outgoing interface {
	// Cancel gives up on the call and returns at once. The stack sends
	// CANCEL when it may (after a provisional response), and if a 200 OK
	// crosses the CANCEL it ACKs and BYEs it: no far end stays answered.
	Cancel()
}

// Offer is an SDP offer from the far end inside a dialog (re-INVITE or
// UPDATE): hold, resume, session refresh or a new address.
type Offer struct {
	SDP    []byte
	Method string // "INVITE" or "UPDATE"
}

// DialogHandler receives what the far end does inside an established
// dialog. Methods are called from the SIP stack and must not block on I/O.
type DialogHandler interface {
	// OnOffer returns our SDP answer, or a SIP error code (488) and nil.
	OnOffer(o Offer) (answer []byte, code int)
	// OnDTMF is a digit sent by SIP INFO.
	OnDTMF(digit rune)
	// OnRefer is a transfer request; accept reports whether we take it
	// (202) or refuse it (603). target is a SIP URI; replaces is set for an
	// attended transfer.
	OnRefer(target, replaces string) (accept bool)
	// OnNotify reports the progress of a REFER we sent (sipfrag status line).
	OnNotify(code int, reason string)
	// OnEnd: the dialog is over (BYE from the far end, no ACK, timeout).
	// cause is nil for the far end's BYE.
	OnEnd(cause error)
}

// Dialog is an established call leg.
type Dialog interface {
	// RemoteSDP is the far end's latest session description.
	RemoteSDP() []byte
	// Reoffer sends a re-INVITE with sdp and returns the far end's answer.
	Reoffer(ctx context.Context, sdp []byte) ([]byte, error)
	// Info sends one INFO request.
	Info(ctx context.Context, contentType string, body []byte) error
	// Refer asks the far end to call target (blind transfer), or to
	// replace another dialog (attended: replaces from that Dialog's
	// ReplacesParam). It returns once the REFER is accepted (202).
	Refer(ctx context.Context, target string, replaces string) error
	// Notify reports the progress of a REFER we accepted (sipfrag).
	Notify(ctx context.Context, code int, reason string, final bool) error
	// Ping sends OPTIONS inside the dialog: liveness of the far end.
	Ping(ctx context.Context) error
	// Bye ends the dialog.
	Bye(ctx context.Context) error
	// ReplacesParam is this dialog's id as an RFC 3891 Replaces value.
	ReplacesParam() string
	// Target is the far end's URI (Contact) for a REFER elsewhere.
	Target() string
	// Done is closed when the dialog is over, whoever ended it.
	Done() <-chan struct{}
}

// Incoming is an inbound INVITE waiting for the phone's decision.
type Incoming interface {
	Caller() Party
	Callee() Party // the To header: the number the customer dialled
	Header(name string) string
	SDP() []byte
	// Replaces is the RFC 3891 Replaces header ("" when absent).
	Replaces() string
	// Ring sends 180 Ringing (asynchronously).
	Ring()
	// Answer sends 200 OK with sdp and returns at once; the dialog's
	// handler gets OnEnd(ErrNoAck) if the ACK never comes.
	Answer(sdp []byte, h DialogHandler) (Dialog, error)
	// Reject sends a final error response and returns at once.
	Reject(code int, reason string)
	// Canceled is closed when the caller gives up (CANCEL) or the INVITE
	// transaction dies before we answer.
	Canceled() <-chan struct{}
}

// Calls is what the call state machine needs of a SIP stack.
type Calls interface {
	// Host is the address the far end reaches us at (for SDP).
	Host() string
	// CheckTarget validates what the user dialled.
	CheckTarget(to string) error
	// Dial sends an INVITE and returns at once.
	Dial(r DialRequest, ev DialEvents) (Outgoing, error)
	// OnIncoming sets the handler for new inbound calls; it must not block.
	OnIncoming(func(Incoming))
}
