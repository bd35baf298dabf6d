package phone

// The call state machine. Each Session is owned by one mutex that is never
// held across network or device I/O: SDK functions check and change the
// state under it, start what must reach the network in a goroutine (or ask
// the signalling layer, whose calls return at once), and return in
// microseconds. The outcome arrives as events. The UI, the control API and
// /v1/state read the session's state; none of them keeps a copy.
//
//	                 ┌──────────── onEnded (any state) ─────────────┐
//	CallOut: dialing ─180/183→ alerting ─200→ connected              │
//	CallIn:  ringing ─answer→ answering ─200 sent→ connected          ▼
//	connected ─hold→ holding ─200→ held ─unhold→ resuming ─200→ connected
//	connected ⇄ remote-held   (the far end's re-INVITE/UPDATE: sendonly/inactive ⇄ sendrecv)
//	connected|held ─transfer→ transferring ─NOTIFY 200→ ended (LocalBye)
//	                          transferring ─failure→ connected|held (call stays up)
//	every state ─terminate / BYE / CANCEL / timeout / error→ ended

import (
	"fmt"
	"slices"
)

// CallState is where a session stands.
type CallState string

// Session states.
const (
	StateDialing      CallState = "dialing"      // outbound: INVITE sent
	StateAlerting     CallState = "alerting"     // outbound: the far end rings (180/183)
	StateRinging      CallState = "ringing"      // inbound: our phone rings
	StateAnswering    CallState = "answering"    // inbound: answer taken, 200 OK going out
	StateConnected    CallState = "connected"    // talking
	StateHolding      CallState = "holding"      // our hold re-INVITE is out
	StateHeld         CallState = "held"         // we hold the far end (it hears music)
	StateResuming     CallState = "resuming"     // our resume re-INVITE is out
	StateRemoteHeld   CallState = "remote-held"  // the far end holds us
	StateTransferring CallState = "transferring" // our REFER is out; NOTIFYs report progress
	StateEnded        CallState = "ended"
)

// transitions is the whole state machine: a change not listed is refused.
var transitions = map[CallState][]CallState{
	StateDialing:      {StateAlerting, StateConnected, StateEnded},
	StateAlerting:     {StateConnected, StateEnded},
	StateRinging:      {StateAnswering, StateEnded},
	StateAnswering:    {StateConnected, StateEnded},
	StateConnected:    {StateHolding, StateRemoteHeld, StateTransferring, StateEnded},
	StateHolding:      {StateHeld, StateConnected, StateRemoteHeld, StateEnded},
	StateHeld:         {StateResuming, StateTransferring, StateEnded},
	StateResuming:     {StateConnected, StateHeld, StateRemoteHeld, StateEnded},
	StateRemoteHeld:   {StateConnected, StateHolding, StateTransferring, StateEnded},
	StateTransferring: {StateConnected, StateHeld, StateRemoteHeld, StateEnded},
	StateEnded:        nil,
}

// CanMove reports whether the machine allows from → to.
func CanMove(from, to CallState) bool { return slices.Contains(transitions[from], to) }

// live reports whether a call is up (media may flow).
func (st CallState) live() bool {
	switch st {
	case StateConnected, StateHolding, StateHeld, StateResuming, StateRemoteHeld, StateTransferring:
		return true
	default:
		return false
	}
}

// active reports whether the agent is talking on it (not held by us), so a
// second call must hold it first.
func (st CallState) active() bool {
	switch st {
	case StateConnected, StateRemoteHeld, StateResuming, StateDialing, StateAlerting, StateAnswering:
		return true
	default:
		return false
	}
}

// moveLocked changes the state; s.mu must be held. A refused move is a
// programming error made visible, not a panic.
func (s *Session) moveLocked(to CallState) error {
	if !CanMove(s.state, to) {
		return fmt.Errorf("session %s cannot go from %s to %s", s.ID, s.state, to)
	}
	s.state = to
	return nil
}
