package conn

import (
	"reflect"
	"testing"
)

type step struct {
	state  string
	code   int
	events []string
	report bool
	after  State
}

func run(t *testing.T, steps []step) {
	t.Helper()
	s := New()
	for i, st := range steps {
		evs, report := s.Observe(st.state, st.code, "why")
		var names []string
		for _, e := range evs {
			names = append(names, e.Name)
		}
		if !reflect.DeepEqual(names, st.events) || report != st.report || s.State() != st.after {
			t.Fatalf("step %d (%s %d): events %v report %v state %s; want %v %v %s", i, st.state, st.code, names, report, s.State(), st.events, st.report, st.after)
		}
	}
}

// Lost → TryToReconnect per attempt → Recovery, and the error once.
func TestLossAndRecovery(t *testing.T) {
	run(t, []step{
		{"registering", 0, nil, false, Down},
		{"registered", 200, nil, false, Up},
		{"registered", 200, nil, false, Up}, // a refresh
		{"failed", 0, []string{"onConnectionLost"}, true, Lost},
		{"registering", 0, []string{"onTryToReconnect"}, false, Lost},
		{"failed", 0, nil, false, Lost},
		{"registering", 0, []string{"onTryToReconnect"}, false, Lost},
		{"failed", 503, nil, false, Lost},
		{"registering", 0, []string{"onTryToReconnect"}, false, Lost},
		{"registered", 200, []string{"onConnectionRecovery"}, false, Up},
		{"failed", 408, []string{"onConnectionLost"}, true, Lost}, // a second outage
		{"registering", 0, []string{"onTryToReconnect"}, false, Lost},
		{"registered", 200, []string{"onConnectionRecovery"}, false, Up},
	})
}

// Failing from the start is an error, not a lost connection: no
// TryToReconnect without a Lost, and the same error is reported once.
func TestNeverConnected(t *testing.T) {
	run(t, []step{
		{"registering", 0, nil, false, Down},
		{"failed", 401, nil, true, Down},
		{"registering", 0, nil, false, Down},
		{"failed", 401, nil, false, Down},
		{"registering", 0, nil, false, Down},
		{"failed", 403, nil, true, Down}, // a different error is news
		{"registering", 0, nil, false, Down},
		{"registered", 200, nil, false, Up},
	})
}

// Logging out resets everything.
func TestLogout(t *testing.T) {
	run(t, []step{
		{"registered", 200, nil, false, Up},
		{"failed", 0, []string{"onConnectionLost"}, true, Lost},
		{"unregistered", 0, nil, false, Down},
		{"registering", 0, nil, false, Down},
		{"failed", 0, nil, true, Down},
	})
}

func TestAttemptsCount(t *testing.T) {
	s := New()
	s.Observe("registered", 200, "")
	s.Observe("failed", 0, "gone")
	for want := 1; want <= 3; want++ {
		evs, _ := s.Observe("registering", 0, "")
		if len(evs) != 1 || evs[0].Attempt != want {
			t.Fatalf("attempt %d: %+v", want, evs)
		}
		s.Observe("failed", 0, "")
	}
}
