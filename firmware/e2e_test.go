package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// Wrong password: onError 401, the display says so, the phone keeps running;
// the right password registers.
func TestRegisterWrongPasswordThenRight(t *testing.T) {
	kam := kamailio(t)
	bad := startPhone(t, phoneConfig(t, kam.Addr(), "not-the-password"))
	e := bad.waitEvent(event.Error, 10*time.Second, nil)
	if code := field(e.Data, "errCode"); code != float64(phone.ErrSIPUnauthorized) {
		t.Fatalf("onError code = %v, want 401 (%v)", code, e.Data)
	}
	if msg := field(e.Data, "errMsg").(string); !strings.Contains(msg, "password") {
		t.Errorf("onError message does not tell what to check: %q", msg)
	}
	bad.waitDisplay("Wrong password (401)", 5*time.Second)
	bad.waitDisplay("Not reg. (401)", 5*time.Second)
	if code, out := bad.do("GET", "/v1/login", nil); code != http.StatusBadRequest || out["code"] != float64(401) {
		t.Errorf("checkLogin with a wrong password = %d %v, want 400 with code 401", code, out)
	}
	if b, _ := kam.Bindings("1001"); len(b) != 0 {
		t.Errorf("a refused phone has bindings: %v", b)
	}
	_ = bad.d.close()

	good := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	good.registered()
	good.must("GET", "/v1/login", nil)
	good.waitDisplay("1001 Registered", 5*time.Second)
	good.waitLED("registered", "on", 3*time.Second)
	st := good.must("GET", "/v1/state", nil)
	if reg := st["registration"].(map[string]any); reg["state"] != "registered" {
		t.Errorf("state.registration = %v", reg)
	}
	if st["userId"] != "agent1001@example.com" || st["sdkAppId"] != float64(1400000001) {
		t.Errorf("state does not carry the agent identity: %v", st)
	}
}

// A registrar that grants only 4 s: the phone refreshes before that expiry,
// so the binding outlives several grants; logout removes it.
func TestRegistrationRefreshAndUnregister(t *testing.T) {
	labkit.Require(t)
	kam, err := labkit.StartKamailio(labkit.KamailioOptions{Dir: t.TempDir(), Users: labUsers, MaxExpires: 4, MinExpires: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kam.Stop() })
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	e := u.waitEvent(event.Registration, 10*time.Second, func(d any) bool { return field(d, "state") == "registered" })
	if exp := field(e.Data, "expires"); exp != float64(4) {
		t.Fatalf("granted expiry = %v, want the registrar's 4 s (asked for 300)", exp)
	}
	// 10 s is 2.5 grants: without refreshes the binding would be gone.
	for i := 0; i < 10; i++ {
		time.Sleep(time.Second)
		b, err := kam.Bindings("1001")
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1 {
			t.Fatalf("after %d s the phone has %d bindings, want 1 (refresh missed?)", i+1, len(b))
		}
	}
	u.must("POST", "/v1/logout", nil)
	b, err := kam.Bindings("1001")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0 {
		t.Fatalf("after logout the location table still holds %v", b)
	}
	if code, out := u.do("GET", "/v1/login", nil); code != http.StatusBadRequest || out["code"] != float64(phone.ErrHadLoggedOut) {
		t.Errorf("checkLogin after logout = %d %v, want code -10005", code, out)
	}
}

// The phone calls baresip: events, tones both ways, DTMF both ways, and
// baresip hangs up.
func TestCallFarEndAudioDTMFRemoteBye(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()

	out := u.must("POST", "/v1/call", map[string]string{"to": "1002", "remark": "Customer Li", "uui": "order=42"})
	id, _ := out["sessionId"].(string)
	if id == "" {
		t.Fatalf("call answered %v, want a sessionId", out)
	}
	ns := u.waitEvent(event.NewSession, 5*time.Second, sessionIs(id))
	if field(ns.Data, "sessionDirection") != "CallOut" || field(ns.Data, "calleePhoneNumber") != "1002" {
		t.Errorf("onNewSession = %v", ns.Data)
	}
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	u.waitDisplay("Talking Customer Li", 3*time.Second) // the remark stands in for the number

	time.Sleep(1500 * time.Millisecond) // let audio flow both ways
	u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "1234#"})
	if err := far.SendDTMF("59*"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5", "9", "*"} {
		e := u.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id))
		if got := field(e.Data, "digit"); got != want {
			t.Fatalf("DTMF from baresip: got %v, want %s", got, want)
		}
	}
	waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == "1234#" },
		func() string { return "baresip received DTMF " + far.ReceivedDTMF() + ", want 1234#" })

	if err := far.Hangup(); err != nil {
		t.Fatal(err)
	}
	u.wantEnded(id, phone.EndRemoteBye)
	u.waitDisplay("Far end hung up", 3*time.Second)

	// What the phone heard: baresip's 440 Hz, not our own 1 kHz.
	lv := toneIn(t, u.cfg.Sim.Output, 440, 1000)
	t.Logf("phone heard: 440 Hz level %.3f, 1000 Hz level %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("the phone's recording does not carry baresip's 440 Hz tone (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
	// What baresip heard: the phone's 1 kHz.
	recs, err := far.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recordings: %v %v", recs, err)
	}
	lv = toneIn(t, recs[len(recs)-1], 1000, 440)
	t.Logf("baresip heard: 1000 Hz level %.3f, 440 Hz level %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("baresip's recording does not carry the phone's 1 kHz tone (1000: %.3f, 440: %.3f)", lv[0], lv[1])
	}
}

// The agent hangs up with the red key: LocalBye, and baresip sees the call close.
func TestCallLocalBye(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	for _, k := range []string{"1", "0", "0", "2"} {
		u.must("POST", "/v1/panel/press", map[string]string{"key": k})
	}
	u.waitDisplay("Dial: | 1002", 3*time.Second)
	u.must("POST", "/v1/panel/press", map[string]string{"key": "call"})
	ns := u.waitEvent(event.NewSession, 5*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	u.waitLED("line", "on", 3*time.Second)
	time.Sleep(500 * time.Millisecond)
	u.must("POST", "/v1/panel/press", map[string]string{"key": "end"})
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip did not see the BYE: %v", err)
	}
}

// baresip calls the phone: it rings (display, LED), a key press answers.
func TestInboundAnswerByKey(t *testing.T) {
	u, far, ns := inboundCall(t, nil)
	if field(ns.Data, "sessionDirection") != "CallIn" || field(ns.Data, "callerPhoneNumber") != "1003" {
		t.Fatalf("onNewSession = %v", ns.Data)
	}
	id := field(ns.Data, "sessionId").(string)
	u.waitDisplay("Incoming call | From 1003", 3*time.Second)
	u.waitLED("line", "fast-blink", 3*time.Second)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_RINGING"); err != nil {
		t.Errorf("baresip never heard ringing: %v", err)
	}
	u.must("POST", "/v1/panel/press", map[string]string{"key": "call"})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never saw the answer: %v", err)
	}
	u.waitDisplay("Talking 1003", 3*time.Second)
	time.Sleep(1500 * time.Millisecond)
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	lv := toneIn(t, u.cfg.Sim.Output, 440, 1000)
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("answered inbound call: the phone did not hear baresip's 440 Hz (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
}

// The caller gives up while the phone rings: RemoteCancel.
func TestInboundRemoteCancel(t *testing.T) {
	u, far, ns := inboundCall(t, nil)
	id := field(ns.Data, "sessionId").(string)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_RINGING"); err != nil {
		t.Fatalf("baresip never heard ringing: %v", err)
	}
	if err := far.Hangup(); err != nil {
		t.Fatal(err)
	}
	u.wantEnded(id, phone.EndRemoteCancel)
	u.waitDisplay("Missed call", 3*time.Second)
}

// The agent rejects a ringing call with the red key: LocalBye (Rejected is
// the far end refusing); baresip is told.
func TestInboundReject(t *testing.T) {
	u, far, ns := inboundCall(t, nil)
	id := field(ns.Data, "sessionId").(string)
	u.must("POST", "/v1/panel/press", map[string]string{"key": "end"})
	u.wantEnded(id, phone.EndLocalBye)
	ev, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED")
	if err != nil {
		t.Fatalf("baresip did not see the rejection: %v", err)
	}
	t.Logf("baresip closed with %q", ev.Param)
}

// Nobody answers within calls.ring_timeout: Timeout.
func TestInboundUnansweredTimeout(t *testing.T) {
	u, far, ns := inboundCall(t, func(c *config.Config) { c.Calls.RingTimeout = 2 * time.Second })
	id := field(ns.Data, "sessionId").(string)
	u.wantEnded(id, phone.EndTimeout)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip was not told: %v", err)
	}
}

// A number nobody has: onEnded Error with 404 and onError 404; the phone
// keeps working.
func TestCallUnknownNumber(t *testing.T) {
	kam := kamailio(t)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	out := u.must("POST", "/v1/call", map[string]string{"to": "9999"})
	id := out["sessionId"].(string)
	e := u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	if field(e.Data, "reason") != phone.EndError || field(e.Data, "sipCode") != float64(404) {
		t.Fatalf("onEnded = %v, want Error with sipCode 404", e.Data)
	}
	if msg := field(e.Data, "reasonMessage").(string); !strings.Contains(msg, "does not exist") {
		t.Errorf("reasonMessage %q does not say the number does not exist", msg)
	}
	er := u.waitEvent(event.Error, 5*time.Second, nil)
	if field(er.Data, "errCode") != float64(404) {
		t.Errorf("onError = %v, want 404", er.Data)
	}
	u.waitDisplay("No such number (404)", 3*time.Second)
	u.must("GET", "/v1/login", nil) // still registered, still serving
	// Bad input through the API gets the guide's code.
	if code, out := u.do("POST", "/v1/call", map[string]string{"to": "sip:<bad>"}); code != 400 || out["code"] != float64(phone.ErrSIPURIWrongFormat) {
		t.Errorf("malformed 'to' → %d %v, want 400 with code 20003", code, out)
	}
}

// No registrar at the configured address: onError 408, the phone keeps
// running and retries.
func TestUnreachableRegistrar(t *testing.T) {
	labkit.Require(t)
	port := labkit.FreePort("udp")
	sip := net.JoinHostPort("127.0.0.1", itoa(port))
	u := startPhone(t, phoneConfig(t, sip, "x"))
	e := u.waitEvent(event.Error, 40*time.Second, nil)
	if field(e.Data, "errCode") != float64(phone.ErrSIPRequestTimeout) {
		t.Fatalf("onError = %v, want 408", e.Data)
	}
	u.waitEvent(event.Registration, 5*time.Second, func(d any) bool { return field(d, "state") == "failed" })
	st := u.must("GET", "/v1/state", nil)
	if st["registration"].(map[string]any)["state"] == "registered" {
		t.Fatal("registered to nothing?")
	}
	u.waitDisplay("Not reg", 3*time.Second)
}

// Garbage datagrams on the SIP port are dropped; the phone stays
// registered and still places calls.
func TestGarbageOnSIPPort(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	c, err := net.Dial("udp", u.d.phone.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"\x00\x01\x02garbage", "INVITE nonsense\r\n\r\n", strings.Repeat("A", 1400), "SIP/2.0 200 OK\r\nVia: broken\r\n\r\n"} {
		if _, err := c.Write([]byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(300 * time.Millisecond)
	u.must("GET", "/v1/login", nil)
	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	_ = far
}

// The SSE stream carries the SDK's callback names with the guide's fields.
func TestEventStream(t *testing.T) {
	kam := kamailio(t)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	res, err := http.Get(u.api + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	u.must("POST", "/v1/call", map[string]string{"to": "9999", "remark": "VIP"})
	sc := bufio.NewScanner(res.Body)
	var names []string
	var lastID, firstID string
	deadline := time.Now().Add(10 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			lastID = v
			if firstID == "" {
				firstID = v
			}
		}
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, name)
		}
		if strings.HasPrefix(line, "data: ") && !strings.Contains(line, `"timestamp":`) {
			t.Errorf("SSE data without a timestamp: %s", line)
		}
		if strings.HasPrefix(line, "event: sessionEnded") {
			break
		}
	}
	res.Body.Close()
	got := strings.Join(names, ",")
	for _, want := range []string{"onNewSession", "callOuted", "onEnded", "sessionEnded"} {
		if !strings.Contains(got, want) {
			t.Fatalf("SSE events %q lack %s", got, want)
		}
	}
	if firstID == "" || firstID == lastID {
		t.Fatalf("SSE ids: first %q, last %q", firstID, lastID)
	}

	// A client that reconnects with Last-Event-ID gets what came after it.
	req, _ := http.NewRequest("GET", u.api+"/v1/events", nil)
	req.Header.Set("Last-Event-ID", firstID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res2, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	sc = bufio.NewScanner(res2.Body)
	var replayed []string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			replayed = append(replayed, v)
			if v == lastID {
				break
			}
		}
	}
	if len(replayed) == 0 || replayed[len(replayed)-1] != lastID {
		t.Fatalf("after Last-Event-ID %s the stream replayed ids %v, want up to %s", firstID, replayed, lastID)
	}
	if replayed[0] == firstID {
		t.Errorf("the replay repeated the event %s the client already had", firstID)
	}
}

// Phone to phone through Kamailio: the caller's uui travels in a SIP
// header and reaches the callee's onNewSession; remark stays local.
func TestPhoneToPhoneCarriesUUI(t *testing.T) {
	kam := kamailio(t)
	caller := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	callee := startPhone(t, phoneConfigFor(t, "1004", kam.Addr(), labUsers["1004"]))
	caller.registered()
	callee.registered()
	uui := "ticket=8812;queue=gold ü"
	out := caller.must("POST", "/v1/call", map[string]string{"to": "1004", "remark": "Gold customer", "uui": uui})
	id := out["sessionId"].(string)
	ns := callee.waitEvent(event.NewSession, 10*time.Second, nil)
	if field(ns.Data, "uui") != uui {
		t.Fatalf("callee's onNewSession uui = %q, want %q", field(ns.Data, "uui"), uui)
	}
	if field(ns.Data, "callerPhoneNumber") != "1001" || field(ns.Data, "peerName") != "Agent 1001" {
		t.Errorf("callee's onNewSession = %v", ns.Data)
	}
	caller.waitEvent(event.Ringing, 5*time.Second, sessionIs(id))
	caller.waitDisplay("Ringing...", 3*time.Second)
	inID := field(ns.Data, "sessionId").(string)
	callee.must("POST", "/v1/answer", map[string]string{"sessionId": inID})
	caller.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	callee.waitEvent(event.Accepted, 10*time.Second, sessionIs(inID))
	callee.must("POST", "/v1/mute", map[string]string{"sessionId": inID})
	callee.waitDisplay("MUTED", 3*time.Second)
	caller.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	if e := callee.waitEvent(event.Ended, 10*time.Second, sessionIs(inID)); field(e.Data, "reason") != phone.EndRemoteBye {
		t.Errorf("callee onEnded = %v, want RemoteBye", e.Data)
	}
	if e := caller.waitEvent(event.Ended, 10*time.Second, sessionIs(id)); field(e.Data, "reason") != phone.EndLocalBye {
		t.Errorf("caller onEnded = %v, want LocalBye", e.Data)
	}
}

// inboundCall has a manual-answer baresip (1003) call the phone (1001) and
// returns once the phone reports the new session. edit may adjust the config.
func inboundCall(t *testing.T, edit func(*config.Config)) (*dut, *labkit.Baresip, event.Event) {
	t.Helper()
	kam := kamailio(t)
	far := farEnd(t, kam, "1003", "manual", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	if edit != nil {
		edit(cfg)
	}
	u := startPhone(t, cfg)
	u.registered()
	if err := far.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	ev := u.waitEvent(event.NewSession, 10*time.Second, nil)
	return u, far, ev
}
