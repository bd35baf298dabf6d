package labkit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// threeUsers starts Kamailio (challenging INVITEs) and baresips 1001, 1002
// and 1003, all answering at once.
func threeUsers(t *testing.T) (k *Kamailio, a, b, c *Baresip) {
	t.Helper()
	k = startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1", "1002": "pw2", "1003": "pw3"}, ProxyAuth: true})
	return k, startBaresip(t, k, "1001", "pw1", 440), startBaresip(t, k, "1002", "pw2", 660), startBaresip(t, k, "1003", "pw3", 880)
}

// establish has from call to and waits until both have the call up; it
// consumes the CALL_REMOTE_SDP each got while setting it up.
func establish(t *testing.T, ctx context.Context, from, to *Baresip) {
	t.Helper()
	if err := from.Dial(from.URI(to.opts.User)); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Baresip{from, to} {
		for _, ev := range []string{EventCallRemoteSDP, EventCallEstablished} {
			if _, err := x.WaitEvent(ctx, ev); err != nil {
				t.Fatalf("%s: %v", x.opts.User, err)
			}
		}
	}
}

func wantCalls(t *testing.T, x *Baresip, want int) {
	t.Helper()
	if n, err := x.ListCalls(); err != nil || n != want {
		t.Errorf("%s ListCalls = %d, %v; want %d", x.opts.User, n, err, want)
	}
}

func TestBaresipThreeUsersCallEachOther(t *testing.T) {
	Require(t)
	_, a, b, c := threeUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range [][2]*Baresip{{a, b}, {b, c}, {c, a}} {
		establish(t, ctx, p[0], p[1])
		wantCalls(t, p[0], 1)
		wantCalls(t, p[1], 1)
		if err := p[0].Hangup(); err != nil {
			t.Fatal(err)
		}
		for _, x := range p {
			if _, err := x.WaitEvent(ctx, EventCallClosed); err != nil {
				t.Fatalf("%s: %v", x.opts.User, err)
			}
		}
	}
}

func TestBaresipHoldResume(t *testing.T) {
	Require(t)
	_, a, b, _ := threeUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	establish(t, ctx, a, b)

	sdp := func(param string) func(Event) bool {
		return func(e Event) bool { return e.Type == EventCallRemoteSDP && e.Param == param }
	}
	for _, step := range []struct {
		do     func() error
		onHold bool
	}{{a.Hold, true}, {a.Resume, false}} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		// The re-INVITE: b gets the offer, a the answer. No other event.
		if _, err := b.WaitEventMatch(ctx, sdp("offer")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.WaitEventMatch(ctx, sdp("answer")); err != nil {
			t.Fatal(err)
		}
		out, err := a.Command("listcalls", "")
		if err != nil || strings.Contains(out, "(on hold)") != step.onHold {
			t.Errorf("after hold=%v, a's listcalls: %q, %v", step.onHold, out, err)
		}
		wantCalls(t, a, 1)
	}
}

// A calls B; B transfers A to C with a REFER (through Kamailio); A calls C
// itself, authenticating to Kamailio, and B's call ends.
func TestBaresipTransfer(t *testing.T) {
	Require(t)
	_, a, b, c := threeUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	establish(t, ctx, a, b)

	if err := b.Transfer(b.URI("1003")); err != nil {
		t.Fatal(err)
	}
	if e, err := a.WaitEvent(ctx, EventTransfer); err != nil || !strings.Contains(e.Param, "1003@") {
		t.Fatalf("a's TRANSFER: %+v, %v; want the Refer-To 1003", e, err)
	}
	if e, err := c.WaitEvent(ctx, EventCallEstablished); err != nil || !strings.Contains(e.PeerURI, "1001@") {
		t.Fatalf("c's call: %+v, %v; want one from 1001", e, err)
	}
	if _, err := a.WaitEventMatch(ctx, func(e Event) bool {
		return e.Type == EventCallEstablished && strings.Contains(e.PeerURI, "1003@")
	}); err != nil {
		t.Fatal(err)
	}
	if e, err := b.WaitEvent(ctx, EventCallClosed); err != nil || e.Param != "Call transfered" {
		t.Fatalf("b's call: %+v, %v; want closed with \"Call transfered\"", e, err)
	}
	if e, err := a.WaitEvent(ctx, EventCallClosed); err != nil || !strings.Contains(e.PeerURI, "1002@") {
		t.Fatalf("a: %+v, %v; want its call with 1002 closed", e, err)
	}
	wantCalls(t, a, 1)
	wantCalls(t, b, 0)
	wantCalls(t, c, 1)
}

// B transfers A to a user Kamailio does not know: A's new call gets 404.
func TestBaresipTransferFails(t *testing.T) {
	Require(t)
	_, a, b, _ := threeUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	establish(t, ctx, a, b)

	if err := b.Transfer(b.URI("9999")); err != nil {
		t.Fatal(err)
	}
	if e, err := b.WaitEvent(ctx, EventTransferFailed); err != nil || e.Param != "404 Not Found" {
		t.Fatalf("b: %+v, %v; want TRANSFER_FAILED 404 Not Found", e, err)
	}
	// a tried 9999, then b hung up on a anyway (b reports no CALL_CLOSED).
	if _, err := a.WaitEvent(ctx, EventTransfer); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ peer, reason string }{{"9999@", "404 Not Found"}, {"1002@", "Connection reset by peer"}} {
		if _, err := a.WaitEventMatch(ctx, func(e Event) bool {
			return e.Type == EventCallClosed && strings.Contains(e.PeerURI, want.peer) && e.Param == want.reason
		}); err != nil {
			t.Fatalf("a's call with %s closed with %q: %v", want.peer, want.reason, err)
		}
	}
	wantCalls(t, a, 0)
	wantCalls(t, b, 0)
}

// A phone (SIPp here) transfers baresip 1002 to 1001 with a REFER straight
// to it: baresip answers 202, calls 1001 through Kamailio, reports the
// progress in NOTIFYs ("100 Trying", then "200 OK" ending the
// subscription) and waits for the transferor's BYE.
func TestBaresipFollowsREFER(t *testing.T) {
	Require(t)
	_, a, b, _ := threeUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	referor, err := RunSIPp(ctx, SIPpOptions{Dir: t.TempDir(), Scenario: testScenario(t, "referor_uac.xml"),
		Remote: b.SIPAddr(), Service: "1002", Vars: map[string]string{"target": b.URI("1001")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range referor.Messages() {
		switch {
		case m.Received && m.Method() == "NOTIFY":
			got = append(got, strings.TrimSpace(m.Body()))
		case m.Received && strings.HasSuffix(m.Header("CSeq"), "REFER"):
			got = append(got, firstLine(m.Text))
		}
	}
	want := "SIP/2.0 202 Accepted|SIP/2.0 100 Trying|SIP/2.0 200 OK"
	if strings.Join(got, "|") != want {
		t.Errorf("referor got %q, want %q", strings.Join(got, "|"), want)
	}
	if e, err := b.WaitEvent(ctx, EventTransfer); err != nil || !strings.Contains(e.Param, "1001@") {
		t.Fatalf("b's TRANSFER: %+v, %v", e, err)
	}
	if e, err := a.WaitEvent(ctx, EventCallEstablished); err != nil || !strings.Contains(e.PeerURI, "1002@") {
		t.Fatalf("a's call: %+v, %v; want one from 1002", e, err)
	}
	wantCalls(t, b, 1) // the referor's BYE ended the first call
}

// firstLine is a message's start line (or a sipfrag body's status line).
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// baresip 1.0.0 takes DTMF in SIP INFO as application/dtmf-relay only: it
// answers 200 and reports the digit; application/dtmf gets 488.
func TestBaresipReceivesInfoDTMF(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1002": "pw2"}})
	b := startBaresip(t, k, "1002", "pw2", 440)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := RunSIPp(ctx, SIPpOptions{Dir: t.TempDir(), Scenario: ScenarioInfoDTMF,
		Remote: b.SIPAddr(), Service: "1002", Vars: map[string]string{"pause_ms": "50"}})
	if err == nil || !strings.Contains(err.Error(), "488") {
		t.Fatalf("ScenarioInfoDTMF against baresip: %v; want it to fail on a 488", err)
	}
	var answers []string
	for _, m := range s.Messages() {
		if m.Received && strings.HasSuffix(m.Header("CSeq"), "INFO") {
			answers = append(answers, firstLine(m.Text))
		}
	}
	if strings.Join(answers, "|") != "SIP/2.0 200 OK|SIP/2.0 488 Not Acceptable Here" {
		t.Errorf("baresip answered the INFOs with %q", answers)
	}
	if e, err := b.WaitEvent(ctx, EventCallDTMFStart); err != nil || e.Param != "5" {
		t.Fatalf("CALL_DTMF_START: %+v, %v; want 5", e, err)
	}
	if got := b.ReceivedDTMF(); got != "5" {
		t.Errorf("ReceivedDTMF = %q, want 5", got)
	}
}
