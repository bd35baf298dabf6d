package main

// End-to-end tests against scripted SIPp peers: session refreshes, a
// caller that never ACKs, DTMF by SIP INFO.

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// sippPhone is a phone for SIPp's strict scripts: no in-dialog OPTIONS
// keepalive, which a script does not expect.
func sippPhone(t *testing.T, user string) *dut {
	t.Helper()
	cfg := phoneConfigFor(t, user, kamailio(t).Addr(), labUsers[user])
	cfg.Calls.Keepalive = 0
	cfg.Calls.FirstMediaTimeout = 0 // SIPp sends no RTP: no -3307 warning
	u := startPhone(t, cfg)
	u.registered()
	return u
}

// sipp starts a SIPp scenario calling the phone directly; stopped at cleanup.
func sipp(t *testing.T, u *dut, scenario string, vars map[string]string) *labkit.SIPp {
	t.Helper()
	return startSIPp(t, labkit.SIPpOptions{Scenario: scenario, Remote: u.d.phone.SIPAddr(), Service: u.cfg.Account.User, Vars: vars})
}

// startSIPp starts SIPp in a test directory; its trace is logged if the
// test fails.
func startSIPp(t *testing.T, opts labkit.SIPpOptions) *labkit.SIPp {
	t.Helper()
	opts.Dir = filepath.Join(t.TempDir(), "sipp")
	s, err := labkit.StartSIPp(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("SIPp's messages:\n%s\nerrors:\n%s", s.Log(), s.Errors())
		}
	})
	return s
}

// blocking is how long an SDK function may take before it has certainly
// waited for the network (whose timers run for seconds: 32 s for a missing
// ACK). It is not a speed target: those are measured and logged, and kept
// in the issue notes, never asserted, since a loaded CI machine stalls.
const blocking = 2 * time.Second

// timed runs f, logs how long it took, and fails if it blocked (limit).
func timed(t *testing.T, what string, limit time.Duration, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	f()
	d := time.Since(start)
	if d > limit {
		t.Errorf("%s took %v, want under %v", what, d, limit)
	}
	t.Logf("%s took %v", what, d)
	return d
}

// A session-refresh re-INVITE every 5 s during a 30 s call: each gets 200
// with the same answer, the call stays up, nothing is reported.
func TestSessionRefreshReinvites(t *testing.T) {
	u := sippPhone(t, "1001")
	s := sipp(t, u, labkit.ScenarioRefresh, map[string]string{"refreshes": "6", "interval_ms": "5000"})
	ns := u.waitEvent(event.NewSession, 10*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	u.waitEvent(event.Accepted, 5*time.Second, sessionIs(id))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("the refresh scenario failed: %v", err)
	}
	u.wantEnded(id, phone.EndRemoteBye)
	if n := len(s.Received("INVITE")); n != 0 {
		t.Logf("SIPp received %d INVITEs", n)
	}
	u.noEvent(event.Warning)
	u.noEvent(event.Error)
	u.noEvent(event.Hold)
}

// A caller that never ACKs: answer and terminate return at once; the
// answered-only call ends by itself once the 200 OK's retransmissions give
// up (64*T1), with a BYE to the caller; the terminated one ends at once
// and its BYE follows the same way.
func TestCallerNeverAcks(t *testing.T) {
	a := sippPhone(t, "1001")
	b := sippPhone(t, "1004")
	sa := sipp(t, a, labkit.ScenarioNoAck, map[string]string{"wait_ms": "45000"})
	sb := sipp(t, b, labkit.ScenarioNoAck, map[string]string{"wait_ms": "45000"})

	ida := field(a.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
	idb := field(b.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
	timed(t, "answer (no ACK coming)", blocking, func() { a.must("POST", "/v1/answer", map[string]string{"sessionId": ida}) })
	timed(t, "answer (no ACK coming), second phone", blocking, func() { b.must("POST", "/v1/answer", map[string]string{"sessionId": idb}) })
	timed(t, "a second answer of the same call", blocking, func() { b.do("POST", "/v1/answer", map[string]string{"sessionId": idb}) })
	timed(t, "terminate while the ACK is awaited", blocking, func() { b.must("POST", "/v1/terminate", map[string]string{"sessionId": idb}) })
	timed(t, "a second terminate", blocking, func() { b.do("POST", "/v1/terminate", map[string]string{"sessionId": idb}) })
	b.wantEnded(idb, phone.EndLocalBye)

	e := a.waitEvent(event.Ended, 45*time.Second, sessionIs(ida))
	if field(e.Data, "reason") != phone.EndError || !strings.Contains(field(e.Data, "reasonMessage").(string), "ACK") {
		t.Errorf("the unacknowledged call ended with %v, want Error about the missing ACK", e.Data)
	}
	for name, s := range map[string]*labkit.SIPp{"answered": sa, "terminated": sb} {
		waitFor(t, 15*time.Second, func() bool { return len(s.Received("BYE")) == 1 },
			func() string { return "the " + name + " caller never got a BYE" })
	}
	if n := len(a.must("GET", "/v1/state", nil)["sessions"].([]any)); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

// DTMF by SIP INFO from the far end: application/dtmf-relay and
// application/dtmf both arrive as onDTMF.
func TestInfoDTMFReceived(t *testing.T) {
	u := sippPhone(t, "1001")
	s := sipp(t, u, labkit.ScenarioInfoDTMF, nil)
	id := field(u.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	for _, want := range []string{"5", "7"} {
		if d := field(u.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id)).Data, "digit"); d != want {
			t.Fatalf("onDTMF digit %v, want %s", d, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	u.wantEnded(id, phone.EndRemoteBye)
}

// DTMF by SIP INFO both ways between two phones through Kamailio: with
// audio.dtmf_mode: info the digits go as INFO application/dtmf-relay (not
// RFC 4733), and arrive as onDTMF.
func TestInfoDTMFPhoneToPhone(t *testing.T) {
	kam := kamailio(t)
	cfgA := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfgA.Audio.DTMFMode = "info"
	cfgB := phoneConfigFor(t, "1004", kam.Addr(), labUsers["1004"])
	cfgB.Audio.DTMFMode = "info"
	a := startPhone(t, cfgA)
	b := startPhone(t, cfgB)
	a.registered()
	b.registered()
	id := a.must("POST", "/v1/call", map[string]string{"to": "1004"})["sessionId"].(string)
	idb := field(b.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
	b.must("POST", "/v1/answer", map[string]string{"sessionId": idb})
	a.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))

	a.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "19#"})
	for _, want := range []string{"1", "9", "#"} {
		if d := field(b.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(idb)).Data, "digit"); d != want {
			t.Fatalf("1004 got digit %v, want %s", d, want)
		}
	}
	b.must("POST", "/v1/dtmf", map[string]string{"sessionId": idb, "digits": "*4"})
	for _, want := range []string{"*", "4"} {
		if d := field(a.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id)).Data, "digit"); d != want {
			t.Fatalf("1001 got digit %v, want %s", d, want)
		}
	}
	a.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	b.wantEnded(idb, phone.EndRemoteBye)
	b.mu.Lock()
	n := 0
	for _, e := range b.events {
		if e.Name == event.DTMFReceived {
			n++
		}
	}
	b.mu.Unlock()
	if n != 3 {
		t.Errorf("1004 got %d digits, want exactly 3 (INFO only, no RFC 4733 copies)", n)
	}
}

// DTMF by SIP INFO to baresip (which receives application/dtmf-relay but,
// in 1.0.0, cannot send INFO itself).
func TestInfoDTMFToBaresip(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Audio.DTMFMode = "info"
	u := startPhone(t, cfg)
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "42#"})
	waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == "42#" },
		func() string { return "baresip received DTMF " + far.ReceivedDTMF() + ", want 42#" })
	if !strings.Contains(far.Log(), "received DTMF") {
		t.Errorf("baresip's log shows no INFO DTMF (only RFC 4733?)")
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
}

// Session timers (RFC 4028): a callee that asks the caller to refresh
// every 10 s gets a re-INVITE from the phone about every 5 s, and the
// call stays up.
func TestSessionTimerPhoneRefreshes(t *testing.T) {
	kam := kamailio(t)
	u := sippPhone(t, "1001")
	uas := startSIPp(t, labkit.SIPpOptions{Scenario: labkit.ScenarioSessionTimerUAS, Vars: map[string]string{"expires": "10"}})
	if err := kam.RegisterContact("1003", labUsers["1003"], uas.Port(), 60); err != nil {
		t.Fatal(err)
	}
	id := u.must("POST", "/v1/call", map[string]string{"to": "1003"})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	// Two refreshes: at about 5 s and 10 s.
	waitFor(t, 15*time.Second, func() bool { return len(uas.Received("INVITE")) >= 3 },
		func() string {
			return fmt.Sprintf("SIPp got %d INVITEs, want the call and 2 refreshes", len(uas.Received("INVITE")))
		})
	if st := u.sessionState(id); st != string(phone.StateConnected) {
		t.Fatalf("after the refreshes the call is %q, want connected", st)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := uas.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	u.noEvent(event.Warning)
}

// OPTIONS outside a dialog (a proxy's or a monitor's ping) gets 200 with
// what the phone supports.
func TestOptionsPing(t *testing.T) {
	u := sippPhone(t, "1001")
	out, err := exec.Command("sipsak", "-v", "-s", "sip:1001@"+u.d.phone.SIPAddr()).CombinedOutput()
	if err != nil {
		t.Fatalf("sipsak OPTIONS: %v\n%s", err, out)
	}
	for _, want := range []string{"200 OK", "Allow: INVITE", "REFER", "UPDATE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the OPTIONS answer lacks %q:\n%s", want, out)
		}
	}
}
