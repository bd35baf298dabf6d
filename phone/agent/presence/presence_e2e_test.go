package presence

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"deskphone/phone/agent"
	"deskphone/phone/sipua"
	"deskphone/tools/labkit"
)

var users = map[string]string{"1001": "pw-1001", "1002": "pw-1002"}

func newUA(t *testing.T, registrar, user string) *sipua.UA {
	t.Helper()
	u, err := sipua.New(sipua.Config{Registrar: registrar, Domain: labkit.Domain, User: user, AuthUser: user,
		Password: users[user], Transport: "udp", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// The agent's status through Kamailio's presence server: this device
// PUBLISHes it, an independent watcher sees the PIDF, and what a second
// device of the same agent publishes comes back to Watch as a Change —
// while this device's own publications never do.
func TestAgentStatusThroughKamailioPresence(t *testing.T) {
	labkit.Require(t)
	k, err := labkit.StartKamailio(labkit.KamailioOptions{Dir: t.TempDir(), Users: users, Presence: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log())
		}
		_ = k.Stop()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// An independent watcher (user 1002) of 1001's presence.
	observer := newUA(t, k.Addr(), "1002")
	seen := make(chan sipua.Notify, 32)
	target, _ := observer.RequestURI("1001")
	sub, err := observer.Subscribe(ctx, sipua.SubscribeOptions{Target: target, Event: "presence",
		Accept: []string{ContentType}, OnNotify: func(n sipua.Notify) { seen <- n }})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())

	devA := New(newUA(t, k.Addr(), "1001"), Options{})
	devB := New(newUA(t, k.Addr(), "1001"), Options{})
	defer devA.Close(context.Background())
	defer devB.Close(context.Background())
	changes := make(chan agent.Change, 16)
	wctx, stopWatch := context.WithCancel(ctx)
	watchErr := make(chan error, 1)
	go func() { watchErr <- devA.Watch(wctx, func(c agent.Change) { changes <- c }) }()

	since := time.Now().UTC().Truncate(time.Millisecond)
	if err := devA.Report(ctx, agent.Change{Status: agent.Rest, Reason: "Meal", Since: since}); err != nil {
		t.Fatal(err)
	}
	waitTuple(t, seen, devA.TupleID(), func(c agent.Change) bool {
		return c.Status == agent.Rest && c.Reason == "Meal" && c.Since.Equal(since)
	})

	// Another device of the same agent goes busy: device A hears it.
	busy := agent.Change{Status: agent.Busy, Since: since.Add(time.Second)}
	if err := devB.Report(ctx, busy); err != nil {
		t.Fatal(err)
	}
	waitChange(t, changes, busy)

	// A's own newer status is not delivered back to A; B's next one is.
	if err := devA.Report(ctx, agent.Change{Status: agent.Free, Since: since.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitTuple(t, seen, devA.TupleID(), func(c agent.Change) bool { return c.Status == agent.Free })
	notReady := agent.Change{Status: agent.NotReady, Since: since.Add(3 * time.Second)}
	if err := devB.Report(ctx, notReady); err != nil {
		t.Fatal(err)
	}
	waitChange(t, changes, notReady)

	stopWatch()
	select {
	case err := <-watchErr:
		if err != nil {
			t.Fatalf("Watch after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}

	// A presentity the server does not know: its final 404 is a refusal.
	stranger := New(newUA(t, k.Addr(), "9999"), Options{})
	err = stranger.Report(ctx, agent.Change{Status: agent.Free, Since: since})
	var refused *agent.RefusedError
	if !errors.As(err, &refused) || refused.Code != 404 {
		t.Fatalf("PUBLISH for an unknown user: %v; want a RefusedError 404", err)
	}
}

// No server: a plain error, not a refusal.
func TestReportWithoutServerIsNotARefusal(t *testing.T) {
	labkit.Require(t)
	b := New(newUA(t, "127.0.0.1:9", "1001"), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := b.Report(ctx, agent.Change{Status: agent.Free})
	var refused *agent.RefusedError
	if err == nil || errors.As(err, &refused) {
		t.Fatalf("Report with no server: %v; want a plain error", err)
	}
}

// waitTuple waits for a NOTIFY in which tuple id carries a change ok accepts.
func waitTuple(t *testing.T, ch <-chan sipua.Notify, id string, ok func(agent.Change) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var last string
	for {
		select {
		case n := <-ch:
			last = string(n.Body)
			ts, _ := Decode(n.Body)
			for _, tu := range ts {
				if tu.ID == id && ok(tu.Change) {
					if !strings.Contains(last, NSAgent) {
						t.Fatalf("the extension namespace is missing:\n%s", last)
					}
					return
				}
			}
		case <-deadline:
			t.Fatalf("the watcher never saw the expected status of tuple %s; last NOTIFY body:\n%s", id, last)
		}
	}
}

// waitChange waits for the next change and wants it to be want.
func waitChange(t *testing.T, ch <-chan agent.Change, want agent.Change) {
	t.Helper()
	select {
	case c := <-ch:
		if !same(c, want) {
			t.Fatalf("Watch delivered %+v, want %+v", c, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Watch never delivered %+v", want)
	}
}
