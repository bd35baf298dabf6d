package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/tools/ctl"
)

// `deskphone ctl` against the real phone and a baresip far end: status,
// a call and its hang-up, the agent's status, and the event stream.
func TestCtlDrivesThePhone(t *testing.T) {
	kam := kamailio(t)
	farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	env := func(k string) string {
		if k == "DESKPHONE_API" {
			return u.api
		}
		return ""
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := ctl.Run(context.Background(), args, env, &out, &errb); code != 0 {
			t.Fatalf("ctl %s: exit %d, stderr %q", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}

	if out := run("status"); !regexp.MustCompile(`(?m)^registration\s+registered`).MatchString(out) || !strings.Contains(out, "calls         none") {
		t.Fatalf("ctl status before the call:\n%s", out)
	}

	// The event stream, from the phone's replay (so its first line proves
	// the stream is up) and then live.
	ctx, cancel := context.WithCancel(context.Background())
	var events lockedBuffer
	done := make(chan int, 1)
	go func() { done <- ctl.Run(ctx, []string{"events", "-json", "-from", "0"}, env, &events, &events) }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("ctl events ended with %d:\n%s", code, events.String())
			}
		case <-time.After(5 * time.Second):
			t.Error("ctl events did not end when cancelled")
		}
	}()
	waitFor(t, 5*time.Second, func() bool { return strings.Contains(events.String(), `"event":"onRegistration"`) },
		func() string { return "ctl events printed:\n" + events.String() })

	id := strings.TrimSpace(run("call", "1002", "-remark", "ctl e2e"))
	if !regexp.MustCompile(`^\S+$`).MatchString(id) {
		t.Fatalf("ctl call printed %q, want the session id alone", id)
	}
	waitFor(t, 5*time.Second, func() bool {
		return regexp.MustCompile(`(?m)^\{"id":\d+,"event":"onNewSession","data":\{"sessionId":"` + regexp.QuoteMeta(id) + `".*"sessionDirection":"CallOut"`).MatchString(events.String())
	}, func() string { return "ctl events -json printed:\n" + events.String() })
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))

	row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + `\s+CallOut\s+connected\s+1002\s+\d+:\d\d\b`)
	if out := run("status"); !row.MatchString(out) {
		t.Fatalf("ctl status during the call has no row 'ID CallOut connected 1002 m:ss':\n%s", out)
	}
	if out := run("hangup"); out != "ok\n" {
		t.Fatalf("ctl hangup printed %q", out)
	}
	u.wantEnded(id, "LocalBye")

	if out := run("agent-status", "rest", "Meal"); !strings.HasPrefix(out, "rest (Meal) since ") {
		t.Fatalf("ctl agent-status rest Meal printed:\n%s", out)
	}
	if st := u.must("GET", "/v1/agent/status", nil); st["status"] != "rest" || st["reason"] != "Meal" {
		t.Fatalf("the phone's agent status is %v, want rest/Meal", st)
	}
	if out := run("agent-status"); !strings.HasPrefix(out, "rest (Meal) since ") || !strings.Contains(out, "rest reasons: Meal") {
		t.Fatalf("ctl agent-status printed:\n%s", out)
	}
	waitFor(t, 5*time.Second, func() bool {
		return regexp.MustCompile(`"event":"statusChanged","data":\{"status":"rest","reason":"Meal"`).MatchString(events.String())
	}, func() string { return "ctl events -json printed:\n" + events.String() })
}

// lockedBuffer is a buffer the CLI writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
