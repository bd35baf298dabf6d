// Package conn is the phone's connection supervision: one small state
// machine that owns "am I connected to the contact center" and turns
// registration changes into the SDK's connection events, in order:
// onConnectionLost, then one onTryToReconnect per attempt, then
// onConnectionRecovery (tccc-agent.md §3).
//
//	down ──registered──▶ up ──failed (refresh, keepalive)──▶ lost
//	 ▲                    ▲                                   │ registering: TryToReconnect
//	 └── unregistered ────┴────────── registered: Recovery ◀──┘
//
// A phone that never connected (a wrong password at start-up) is down, not
// lost: it reports the error, not a lost connection.
package conn

import "sync"

// State is where the connection stands.
type State string

// The connection states.
const (
	Down State = "down" // never connected since login, or logged out
	Up   State = "up"   // registered
	Lost State = "lost" // was registered, is trying to get back
)

// Event is what the SDK hears.
type Event struct {
	Name    string // "onConnectionLost", "onTryToReconnect", "onConnectionRecovery"
	Reason  string // why the connection was lost (Lost only)
	Attempt int    // 1, 2, … (TryToReconnect only)
}

// Supervisor is the state machine. The registration goroutine feeds it;
// anyone may read its State.
type Supervisor struct {
	mu       sync.Mutex
	state    State
	attempts int
	lastErr  int // code of the last error reported while down, to say it once
}

// New returns a supervisor in state Down.
func New() *Supervisor { return &Supervisor{state: Down} }

// State is the current state.
func (s *Supervisor) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Observe takes one registration change (state: registering, registered,
// failed or unregistered; code: its SIP code, 0 for none) and returns the
// events to publish and whether its error should be reported (once per
// loss, or once per distinct error while down).
func (s *Supervisor) Observe(state string, code int, reason string) (events []Event, reportError bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case "registered":
		if s.state == Lost {
			events = append(events, Event{Name: "onConnectionRecovery"})
		}
		s.state, s.attempts, s.lastErr = Up, 0, 0
	case "failed":
		switch s.state {
		case Up:
			s.state = Lost
			events = append(events, Event{Name: "onConnectionLost", Reason: reason})
			reportError = true
		case Down:
			reportError = code != s.lastErr || code == 0 && s.lastErr == 0 && s.attempts == 0
			s.lastErr = code
			s.attempts++
		default: // Lost: the loss was reported when it happened
		}
	case "registering":
		if s.state == Lost {
			s.attempts++
			events = append(events, Event{Name: "onTryToReconnect", Attempt: s.attempts})
		}
	case "unregistered":
		s.state, s.attempts, s.lastErr = Down, 0, 0
	}
	return events, reportError
}
