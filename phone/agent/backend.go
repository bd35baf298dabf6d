package agent

import (
	"context"
	"fmt"
	"time"
)

// Change is one agent status as one side saw it change: this phone (a key,
// the control API) or the contact center (the workbench, an admin).
type Change struct {
	Status Status    `json:"status"`
	Reason string    `json:"reason,omitempty"` // the rest reason; with Kicked, why
	Since  time.Time `json:"since"`            // when the status began
	// Kicked is set on a change that comes from elsewhere and takes this
	// device offline: another device took over, or an admin forced the
	// agent offline (ForceMemberOffline). The phone emits kickedOut.
	Kicked bool `json:"kicked,omitempty"`
}

// Backend carries the agent status between the phone and the contact
// center. There are two: relay (the integrator's HTTP backend, which calls
// the cloud API) and sip (PUBLISH/SUBSCRIBE presence).
type Backend interface {
	// Name is how logs and the display name the backend ("relay", "sip").
	Name() string
	// Report tells the contact center of a change made on the phone. A
	// *RefusedError means the contact center answered and said no; the
	// phone goes back to the status it had. Any other error means it could
	// not be told (network, server down): the phone keeps its status, shows
	// it is out of sync and reports again later.
	Report(ctx context.Context, c Change) error
	// Watch delivers changes made elsewhere, in order, until ctx ends or
	// the stream breaks; then it returns (nil when ctx ended) and the
	// caller watches again after a back-off. It may deliver the current
	// status first; a change equal to the phone's own is ignored.
	Watch(ctx context.Context, got func(Change)) error
}

// RefusedError is the contact center's "no" to a status change: the status
// is not allowed now (for example rest with an unknown reason).
type RefusedError struct {
	Code    int    // the backend's code: an HTTP status, or a SIP status
	Message string // the contact center's words, shown to the agent
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the contact center refused the status (%d): %s", e.Code, e.Message)
}
