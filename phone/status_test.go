package phone

import (
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone/agent"
	"deskphone/phone/event"
	"deskphone/phone/signal/sigtest"
)

// statuses is the statusChanged events heard so far, as "status/reason".
func (r *recorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		if e.Name == event.StatusChanged {
			d := e.Data.(StatusInfo)
			s := d.Status
			if d.Reason != "" {
				s += "/" + d.Reason
			}
			if d.Pending != nil {
				s += ">" + d.Pending.Status
			}
			out = append(out, s)
		}
	}
	return out
}

func (h *harness) waitStatuses(want ...string) {
	h.t.Helper()
	eventually(h.t, "statusChanged "+join(want), func() bool { return join(h.rec.statuses()) == join(want) })
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestBusyThenWrapUpThenBack(t *testing.T) {
	h := newHarness(t, nil, func(c *config.Config) { c.Agent.WrapUp = 300 * time.Millisecond })
	sid, _, _ := h.connect(nil)
	if st := h.p.AgentStatus(); st.Status != "busy" {
		t.Fatalf("status during a call %q, want busy", st.Status)
	}
	if err := h.p.Terminate(sid); err != nil {
		t.Fatal(err)
	}
	h.rec.ended(t, sid)
	eventually(t, "arrange after the call", func() bool { return h.p.AgentStatus().Status == "arrange" })
	if left := h.p.AgentStatus().WrapUpLeft; left != 1 {
		t.Errorf("wrapUpLeft %d s, want 1 (300 ms rounded up)", left)
	}
	h.waitStatuses("busy", "arrange", "free")
	// onEnded comes before the wrap-up it starts.
	h.rec.mu.Lock()
	endedAt, arrangeAt := -1, -1
	for i, e := range h.rec.evs {
		if e.Name == event.Ended && endedAt < 0 {
			endedAt = i
		}
		if e.Name == event.StatusChanged && e.Data.(StatusInfo).Status == "arrange" {
			arrangeAt = i
		}
	}
	h.rec.mu.Unlock()
	if endedAt > arrangeAt {
		t.Errorf("onEnded (#%d) after statusChanged arrange (#%d)", endedAt, arrangeAt)
	}
}

func TestRestAskedDuringACall(t *testing.T) {
	h := newHarness(t, nil, func(c *config.Config) { c.Agent.WrapUp = time.Hour })
	sid, _, _ := h.connect(nil)
	st, err := h.p.SetAgentStatus("rest", "Meal")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "busy" || st.Pending == nil || st.Pending.Status != "rest" {
		t.Fatalf("status %+v: want busy with rest pending", st.StatusInfo)
	}
	if _, err := h.p.SetAgentStatus("rest", "Nap"); CodeOf(err) != ErrSIPBadRequest {
		t.Errorf("an unknown rest reason: %v, want a 400 error", err)
	}
	_ = h.p.Terminate(sid)
	h.waitStatuses("busy", "busy>rest", "rest/Meal") // no wrap-up: the agent chose rest
}

func TestInboundRefusedWhileNotReady(t *testing.T) {
	h := newHarness(t, nil, nil)
	if _, err := h.p.SetAgentStatus("notReady", ""); err != nil {
		t.Fatal(err)
	}
	in := sigtest.NewIncoming("5550001", "1001", "", nil)
	sid := h.ring(in)
	if code := in.WaitReject(t, wait); code != 480 {
		t.Fatalf("a call while not ready got %d, want 480", code)
	}
	wantEnded(t, h.rec, sid, EndLocalBye, 480)
	if in.Rings() != 0 {
		t.Error("a refused call rang")
	}
	// notReady agents may still call out.
	out, _, _ := h.connect(nil)
	_ = h.p.Terminate(out)
	h.rec.ended(t, out)
	eventually(t, "back to notReady after the call", func() bool { return h.p.AgentStatus().Status == "notReady" })

	if _, err := h.p.SetAgentStatus("stopNotReady", ""); err != nil {
		t.Fatal(err)
	}
	in2 := sigtest.NewIncoming("5550002", "1001", "", nil)
	sid2 := h.ring(in2)
	h.waitState(sid2, StateRinging)
}

func TestInboundNotRefusedWhenConfigured(t *testing.T) {
	h := newHarness(t, nil, func(c *config.Config) { c.Agent.RefuseUnavailable = false })
	if _, err := h.p.SetAgentStatus("rest", "Meal"); err != nil {
		t.Fatal(err)
	}
	sid := h.ring(sigtest.NewIncoming("5550001", "1001", "", nil))
	h.waitState(sid, StateRinging)
}

func TestKickedOut(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.p.kickOut("ForceMemberOffline by admin")
	e := h.rec.waitFor(t, "kickedOut", func(e event.Event) bool { return e.Name == event.KickedOut })
	if e.Data.(KickedInfo).Reason != "ForceMemberOffline by admin" {
		t.Errorf("kickedOut %+v", e.Data)
	}
	eventually(t, "offline", func() bool { return h.p.AgentStatus().Status == string(agent.Offline) })
	if err := h.p.CheckLogin(); CodeOf(err) != ErrSIPForbidden {
		t.Errorf("checkLogin after kickedOut: %v, want 403", err)
	}
	if !h.p.AgentStatus().Kicked {
		t.Error("the agent state does not say kicked")
	}
}
