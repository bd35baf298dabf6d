package control_test

// Unit tests of the HTTP control API against a phone on the fake signalling
// stack (phone/signal/sigtest). Requests go straight to the handler
// (httptest.NewRecorder) except where a connection matters (the event
// stream, the connection cap, timeouts), which use a server; both stay on
// 127.0.0.1, as do the RTP sockets. Waits poll with deadlines.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/control"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
	"deskphone/phone/signal/sigtest"
)

const (
	wait = 2 * time.Second // longest wait for something that must happen
	fast = time.Second     // an SDK call through the API that waited for the network would take longer: not a speed target
)

// ---------------------------------------------------------------- harness

type harness struct {
	t     *testing.T
	p     *phone.Phone
	calls *sigtest.Calls
	srv   *control.Server
	token string
}

func newHarness(t *testing.T, token string, panel control.Panel, tweak func(*config.Config)) *harness {
	t.Helper()
	cfg := sigtest.Config("43000-43999", tweak)
	calls := &sigtest.Calls{}
	p, err := phone.NewWithCalls(cfg, nil, event.NewBus(), slog.New(slog.DiscardHandler), calls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, p: p, calls: calls, srv: control.New(p, panel, token), token: token}
}

// reply is one answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// do sends one request to the handler, with the harness's token if any.
func (h *harness) do(method, path, body string) reply {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	return h.serve(req)
}

func (h *harness) serve(req *http.Request) reply {
	w := httptest.NewRecorder()
	start := time.Now()
	h.srv.ServeHTTP(w, req)
	took := time.Since(start)
	res := w.Result()
	return reply{status: res.StatusCode, header: res.Header, body: w.Body.Bytes(), took: took}
}

// ok sends a request that must succeed and decodes its answer into out
// (nil: it must be {"status":"success"}).
func (h *harness) ok(method, path, body string, out any) reply {
	h.t.Helper()
	r := h.do(method, path, body)
	if r.status != http.StatusOK {
		h.t.Fatalf("%s %s %s: %v", method, path, body, r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out == nil {
		var st map[string]string
		if err := json.Unmarshal(r.body, &st); err != nil || len(st) != 1 || st["status"] != "success" {
			h.t.Errorf("%s %s: body %s, want {\"status\":\"success\"}", method, path, r.body)
		}
		return r
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		h.t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
	}
	return r
}

// apiError is the error shape: exactly {"code","message"}.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// fails sends a request that must fail with status and code, and checks
// the error's shape.
func (h *harness) fails(method, path, body string, status, code int) apiError {
	h.t.Helper()
	r := h.do(method, path, body)
	return checkError(h.t, fmt.Sprintf("%s %s %s", method, path, body), r, status, code)
}

func checkError(t *testing.T, what string, r reply, status, code int) apiError {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: HTTP %v, want %d", what, r, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Errorf("%s: error body %s is not {code,message}: %v", what, r.body, err)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.body, &raw)
	if _, ok := raw["code"]; !ok || len(raw) != 2 {
		t.Errorf("%s: error body %s, want exactly code and message", what, r.body)
	}
	if e.Code != code || e.Code == -1 || e.Message == "" {
		t.Errorf("%s: error %+v, want code %d and a message", what, e, code)
	}
	if r.status == http.StatusInternalServerError {
		t.Errorf("%s: HTTP 500", what)
	}
	return e
}

// stateJSON is GET /v1/state as JSON field names say it.
type stateJSON struct {
	Registration struct {
		State string `json:"state"`
	} `json:"registration"`
	Extension  string `json:"extension"`
	ServerType string `json:"serverType"`
	Sessions   []struct {
		SessionID        string `json:"sessionId"`
		SessionDirection string `json:"sessionDirection"`
		State            string `json:"state"`
		RemoteHold       bool   `json:"remoteHold"`
		Caller           string `json:"callerPhoneNumber"`
		Callee           string `json:"calleePhoneNumber"`
		Remark           string `json:"remark"`
		UUI              string `json:"uui"`
		Muted            bool   `json:"muted"`
		Note             string `json:"note"`
		Codec            string `json:"codec"`
		AcceptTimestamp  int64  `json:"acceptTimestamp"`
	} `json:"sessions"`
}

func (h *harness) state() stateJSON {
	h.t.Helper()
	var st stateJSON
	h.ok("GET", "/v1/state", "", &st)
	return st
}

// stateOf is session sid's state through GET /v1/state ("ended" once gone).
func (h *harness) stateOf(sid string) string {
	for _, s := range h.state().Sessions {
		if s.SessionID == sid {
			return s.State
		}
	}
	return string(phone.StateEnded)
}

func (h *harness) waitState(sid string, want phone.CallState) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for h.stateOf(sid) != string(want) {
		if time.Now().After(deadline) {
			h.t.Fatalf("session %s is %s, want %s", sid, h.stateOf(sid), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// call places a call through the API and returns its session and INVITE.
func (h *harness) call(body string) (string, *sigtest.Outgoing) {
	h.t.Helper()
	var res struct {
		SessionID string `json:"sessionId"`
	}
	h.ok("POST", "/v1/call", body, &res)
	if res.SessionID == "" {
		h.t.Fatal("POST /v1/call: no sessionId")
	}
	return res.SessionID, h.calls.WaitDial(h.t, wait)
}

// connect places a call to `to` and has the far end answer it.
func (h *harness) connect(to string) (string, *sigtest.Dialog) {
	h.t.Helper()
	sid, o := h.call(`{"to":"` + to + `"}`)
	o.Progress(180)
	d := o.Answer(nil) // OnAnswer runs here: connected, media up
	h.waitState(sid, phone.StateConnected)
	return sid, d
}

// ring delivers an inbound call and returns its session id.
func (h *harness) ring(in *sigtest.Incoming) string {
	h.t.Helper()
	h.calls.Ring(in) // onIncoming runs here
	for _, s := range h.state().Sessions {
		if s.SessionDirection == phone.CallIn && s.Caller == in.Caller().User && s.State == string(phone.StateRinging) {
			return s.SessionID
		}
	}
	h.t.Fatalf("no ringing session from %s", in.Caller().User)
	return ""
}

func sess(sid string) string { return `{"sessionId":"` + sid + `"}` }

// ---------------------------------------------------------------- tests

// GET /v1/state and POST /v1/call: the session through its states.
func TestStateAndCall(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	st := h.state()
	if st.Extension != "1001" || st.ServerType != phone.ServerType || st.Registration.State != "unregistered" || st.Sessions == nil || len(st.Sessions) != 0 {
		t.Errorf("idle state %+v", st)
	}
	r := h.do("GET", "/v1/state", "")
	if !bytes.Contains(r.body, []byte(`"sessions":[]`)) {
		t.Errorf("idle state lists sessions as %s, want []", r.body)
	}

	sid, o := h.call(`{"to":"2000","remark":"order 42","uui":"ticket=7"}`)
	if o.Req.To != "2000" {
		t.Errorf("INVITE to %q", o.Req.To)
	}
	wantUUI := hex.EncodeToString([]byte("ticket=7")) + ";encoding=hex"
	if !slices.ContainsFunc(o.Req.Headers, func(hd signal.Header) bool { return hd.Name == "User-to-User" && hd.Value == wantUUI }) {
		t.Errorf("INVITE headers %+v, want User-to-User %s", o.Req.Headers, wantUUI)
	}
	s := h.state().Sessions
	if len(s) != 1 || s[0].SessionID != sid || s[0].State != "dialing" || s[0].SessionDirection != phone.CallOut ||
		s[0].Caller != "1001" || s[0].Callee != "2000" || s[0].Remark != "order 42" || s[0].UUI != "ticket=7" {
		t.Errorf("dialing: sessions %+v", s)
	}
	o.Progress(180)
	h.waitState(sid, phone.StateAlerting)
	o.Answer(nil)
	h.waitState(sid, phone.StateConnected)
	s = h.state().Sessions
	if len(s) != 1 || s[0].Codec != "PCMU" || s[0].AcceptTimestamp == 0 {
		t.Errorf("connected: sessions %+v", s)
	}
}

// POST answer, reject, mute, unmute, dtmf, hold, unhold, terminate.
func TestSessionRoutes(t *testing.T) {
	h := newHarness(t, "", nil, func(c *config.Config) { c.Audio.DTMFMode = "both" })

	// Inbound: answer by id, and reject.
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	sid := h.ring(in)
	h.ok("POST", "/v1/answer", sess(sid), nil)
	d := in.WaitAnswer(t, wait)
	h.waitState(sid, phone.StateConnected)
	in2 := sigtest.NewIncoming("3001", "1001", "", nil)
	sid2 := h.ring(in2)
	h.ok("POST", "/v1/reject", sess(sid2), nil)
	if code := in2.WaitReject(t, wait); code != 603 {
		t.Errorf("reject sent %d, want 603", code)
	}
	h.waitState(sid2, phone.StateEnded)

	h.ok("POST", "/v1/mute", sess(sid), nil)
	if s := h.state().Sessions; len(s) != 1 || !s[0].Muted {
		t.Errorf("after mute: %+v", s)
	}
	h.ok("POST", "/v1/unmute", "", nil) // "" = the current call
	if s := h.state().Sessions; len(s) != 1 || s[0].Muted {
		t.Errorf("after unmute: %+v", s)
	}

	h.ok("POST", "/v1/dtmf", `{"sessionId":"`+sid+`","digits":"12#"}`, nil)
	if r := d.WaitReq(t, "INFO", 3, wait); string(r.Body) != "Signal=#\r\nDuration=160\r\n" {
		t.Errorf("third INFO %q", r.Body)
	}

	h.ok("POST", "/v1/hold", sess(sid), nil)
	h.waitState(sid, phone.StateHeld)
	if dir := sigtest.Direction(d.WaitReq(t, "INVITE", 1, wait).SDP); dir != media.SendOnly {
		t.Errorf("hold offer %q", dir)
	}
	h.ok("POST", "/v1/unhold", sess(sid), nil)
	h.waitState(sid, phone.StateConnected)
	if dir := sigtest.Direction(d.WaitReq(t, "INVITE", 2, wait).SDP); dir != media.SendRecv {
		t.Errorf("resume offer %q", dir)
	}

	// The far end holds us: the state says so.
	if _, code := d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendOnly)); code != 200 {
		t.Fatalf("far hold: %d", code)
	}
	if s := h.state().Sessions; len(s) != 1 || s[0].State != "remote-held" || !s[0].RemoteHold {
		t.Errorf("remote hold: %+v", s)
	}

	h.ok("POST", "/v1/terminate", sess(sid), nil)
	d.WaitReq(t, "BYE", 1, wait)
	if st := h.state(); len(st.Sessions) != 0 {
		t.Errorf("after terminate: %+v", st.Sessions)
	}
}

// POST /v1/transfer: blind, attended, and what it refuses.
func TestTransfer(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	sid, d := h.connect("2000")

	// Neither, both, a bad target.
	e := h.fails("POST", "/v1/transfer", sess(sid), 400, phone.ErrSIPBadRequest)
	if !strings.Contains(e.Message, "consultSessionId") {
		t.Errorf("neither: %q", e.Message)
	}
	e = h.fails("POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"4000","consultSessionId":"x"}`, 400, phone.ErrSIPBadRequest)
	if !strings.Contains(e.Message, "not both") {
		t.Errorf("both: %q", e.Message)
	}
	h.fails("POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"4000\r\nX-Evil: 1"}`, 400, phone.ErrSIPURIWrongFormat)
	h.fails("POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"40\n00"}`, 400, phone.ErrSIPURIWrongFormat)
	h.fails("POST", "/v1/transfer", `{"sessionId":"nope","to":"4000"}`, 400, phone.ErrSIPBadRequest)
	h.fails("POST", "/v1/transfer", `{"sessionId":"`+sid+`","consultSessionId":"`+sid+`"}`, 400, phone.ErrSIPBadRequest)
	h.fails("POST", "/v1/transfer", `{"sessionId":"`+sid+`","consultSessionId":"nope"}`, 400, phone.ErrSIPBadRequest)
	if d.Count("REFER") != 0 || h.stateOf(sid) != "connected" {
		t.Fatalf("a refused transfer sent REFER or moved the call (%s)", h.stateOf(sid))
	}

	// Blind.
	h.ok("POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"4000"}`, nil)
	if r := d.WaitReq(t, "REFER", 1, wait); r.Target != "4000" || r.Replaces != "" {
		t.Errorf("blind REFER %+v", r)
	}
	if s := h.state().Sessions; len(s) != 1 || s[0].State != "transferring" || s[0].Note != "Transferring..." {
		t.Errorf("transferring: %+v", s)
	}
	d.FarNotify(200, "OK")
	d.WaitReq(t, "BYE", 1, wait)
	h.waitState(sid, phone.StateEnded)

	// Attended: the customer (held) to the consulted party.
	sid, d = h.connect("2001")
	cid, cd := h.connect("3000") // holds the customer
	h.waitState(sid, phone.StateHeld)
	h.ok("POST", "/v1/transfer", `{"sessionId":"`+sid+`","consultSessionId":"`+cid+`"}`, nil)
	r := d.WaitReq(t, "REFER", 1, wait)
	if r.Target != "3000" || r.Replaces != cd.ReplacesParam() {
		t.Errorf("attended REFER %+v, want target 3000 replaces %s", r, cd.ReplacesParam())
	}
	d.FarNotify(200, "OK")
	d.WaitReq(t, "BYE", 1, wait)
	cd.WaitReq(t, "BYE", 1, wait)
	h.waitState(sid, phone.StateEnded)
	h.waitState(cid, phone.StateEnded)
}

// Every SDK failure is HTTP 400 with {code,message}, never 500, never -1.
func TestErrors(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	long := strings.Repeat("u", 4097)
	for _, c := range []struct {
		method, path, body string
		status, code       int
	}{
		// Not logged in (the fake stack has no registration).
		{"GET", "/v1/login", "", 400, phone.ErrHadLoggedOut},
		{"POST", "/v1/logout", "", 400, phone.ErrHadLoggedOut},
		// No call.
		{"POST", "/v1/answer", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/reject", "{}", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/terminate", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/mute", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/unmute", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/hold", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/unhold", "", 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/dtmf", `{"digits":"1"}`, 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/transfer", `{"to":"4000"}`, 400, phone.ErrSIPBadRequest},
		// No such session.
		{"POST", "/v1/answer", sess("nope"), 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/terminate", sess("nope"), 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/hold", sess("nope"), 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/unhold", sess("nope"), 400, phone.ErrSIPBadRequest},
		// Bad calls.
		{"POST", "/v1/call", "", 400, phone.ErrSIPURIWrongFormat},
		{"POST", "/v1/call", `{"to":"20\r\n00"}`, 400, phone.ErrSIPURIWrongFormat},
		{"POST", "/v1/call", `{"to":"2000\nVia: x"}`, 400, phone.ErrSIPURIWrongFormat},
		{"POST", "/v1/call", `{"to":"2000","remark":"a\nb"}`, 400, phone.ErrSIPBadRequest},
		{"POST", "/v1/call", `{"to":"2000","uui":"` + long + `"}`, 400, phone.ErrSIPBadRequest},
		// Bodies that are not the expected JSON.
		{"POST", "/v1/call", `{"to":"2000","cc":"3000"}`, 400, 400},
		{"POST", "/v1/terminate", `{"sessionID":"x"}`, 400, 400},
		{"POST", "/v1/transfer", `{"sessionId":"x","target":"4000"}`, 400, 400},
		{"POST", "/v1/dtmf", `{"digits":"1","duration":100}`, 400, 400},
		{"POST", "/v1/hold", `{"sessionId":`, 400, 400},
		{"POST", "/v1/call", `["2000"]`, 400, 400},
		{"POST", "/v1/call", `{"to":2000}`, 400, 400},
		// No such endpoint, no panel on this board.
		{"GET", "/v1/nope", "", 404, 404},
		{"GET", "/v1/call", "", 404, 404},
		{"GET", "/v1/panel", "", 404, 404},
		{"POST", "/v1/panel/press", `{"key":"1"}`, 404, 404},
	} {
		h.fails(c.method, c.path, c.body, c.status, c.code)
	}
	if n := len(h.calls.Dials()); n != 0 {
		t.Errorf("%d calls placed by refused requests", n)
	}

	// A connected call: DTMF it cannot send, hold and transfer it cannot do.
	sid, _ := h.connect("2000")
	h.fails("POST", "/v1/dtmf", `{"sessionId":"`+sid+`","digits":"12x"}`, 400, phone.ErrSIPBadRequest)
	h.fails("POST", "/v1/answer", sess(sid), 400, phone.ErrAnswerFailure)
	h.fails("POST", "/v1/reject", sess(sid), 400, phone.ErrAnswerFailure)
	h.ok("POST", "/v1/unhold", sess(sid), nil) // resuming a talking call is a no-op
	h.ok("POST", "/v1/mute", sess(sid), nil)
	h.ok("POST", "/v1/mute", sess(sid), nil) // so is a second mute
}

// POST /v1/login that cannot even open the SIP stack: 400 with 20001.
func TestLoginFails(t *testing.T) {
	h := newHarness(t, "", nil, func(c *config.Config) { c.Account.Transport = "sctp" })
	e := h.fails("POST", "/v1/login", "", 400, phone.ErrUnregistFailure)
	if !strings.Contains(e.Message, "sctp") {
		t.Errorf("message %q", e.Message)
	}
}

// A token-protected API: 401 with ErrAPIToken without the right bearer.
func TestToken(t *testing.T) {
	h := newHarness(t, "s3cret", nil, nil)
	for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret2", "Bearer ", "Bearers3cret", "Bearer s3cret x", "Bear s3cret", "Basic czNjcmV0", "s3cret"} {
		for _, route := range []struct{ method, path, body string }{
			{"GET", "/v1/state", ""}, {"POST", "/v1/call", `{"to":"2000"}`}, {"GET", "/v1/events", ""}, {"GET", "/v1/nope", ""},
		} {
			req := httptest.NewRequest(route.method, route.path, strings.NewReader(route.body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			r := h.serve(req)
			checkError(t, fmt.Sprintf("%s %s with %q", route.method, route.path, auth), r, 401, control.ErrAPIToken)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
			}
		}
	}
	if n := len(h.calls.Dials()); n != 0 {
		t.Fatalf("%d calls placed without the token", n)
	}
	h.state() // with the token (h.do sends it)
	h.connect("2000")
	if n := len(h.calls.Dials()); n != 1 {
		t.Errorf("%d calls placed with the token, want 1", n)
	}
}

// panel is a fake simulated front panel.
type panel struct {
	mu      sync.Mutex
	pressed []string
}

func (p *panel) Press(key string) error {
	if key == "bogus" {
		return errors.New("no key bogus on this board")
	}
	p.mu.Lock()
	p.pressed = append(p.pressed, key)
	p.mu.Unlock()
	return nil
}

func (p *panel) Snapshot() any { return map[string]any{"display": []string{"1001 Ready", ""}} }

// GET /v1/panel and POST /v1/panel/press on a board that has a panel.
func TestPanel(t *testing.T) {
	pn := &panel{}
	h := newHarness(t, "", pn, nil)
	var snap struct {
		Display []string `json:"display"`
	}
	h.ok("GET", "/v1/panel", "", &snap)
	if len(snap.Display) != 2 || snap.Display[0] != "1001 Ready" {
		t.Errorf("panel %+v", snap)
	}
	h.ok("POST", "/v1/panel/press", `{"key":"5"}`, nil)
	h.ok("POST", "/v1/panel/press", `{"key":"call"}`, nil)
	h.fails("POST", "/v1/panel/press", `{"key":"bogus"}`, 400, 400)
	h.fails("POST", "/v1/panel/press", `{"key":"5","long":true}`, 400, 400)
	pn.mu.Lock()
	defer pn.mu.Unlock()
	if !slices.Equal(pn.pressed, []string{"5", "call"}) {
		t.Errorf("pressed %q", pn.pressed)
	}
}

// Every SDK call through the API answers at once, even when the far end
// never answers anything.
func TestFastWithSilentFarEnd(t *testing.T) {
	h := newHarness(t, "", nil, func(c *config.Config) { c.Audio.DTMFMode = "both" })
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) }) // before Close waits for the BYEs

	var slowest time.Duration
	var figures []string
	timed := func(name, method, path, body string, status int) {
		t.Helper()
		r := h.do(method, path, body)
		if r.status != status {
			t.Errorf("%s: %v, want %d", name, r, status)
		}
		if r.took >= fast {
			t.Errorf("%s took %v; the API must answer in well under %v", name, r.took, fast)
		}
		slowest = max(slowest, r.took)
		figures = append(figures, fmt.Sprintf("%s %v", name, r.took.Round(time.Microsecond)))
	}

	// An INVITE nobody answers.
	timed("call", "POST", "/v1/call", `{"to":"2000"}`, 200)
	o := h.calls.WaitDial(t, wait)
	timed("state", "GET", "/v1/state", "", 200)
	timed("terminate (dialing)", "POST", "/v1/terminate", "", 200)
	select {
	case <-o.Canceled():
	case <-time.After(wait):
		t.Fatal("no CANCEL")
	}

	// A call whose far end then stops answering anything.
	sid, d := h.connect("2000")
	d.SetHang(hang)
	s := sess(sid)
	timed("mute", "POST", "/v1/mute", s, 200)
	timed("unmute", "POST", "/v1/unmute", s, 200)
	timed("dtmf", "POST", "/v1/dtmf", `{"sessionId":"`+sid+`","digits":"123#"}`, 200)
	timed("hold", "POST", "/v1/hold", s, 200)
	timed("hold again", "POST", "/v1/hold", s, 200)
	timed("unhold (holding)", "POST", "/v1/unhold", s, 400)
	timed("transfer (holding)", "POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"4000"}`, 400)
	timed("state", "GET", "/v1/state", "", 200)
	timed("terminate (holding)", "POST", "/v1/terminate", s, 200)
	d.WaitReq(t, "BYE", 1, wait)

	// A transfer the far end never accepts.
	sid, d = h.connect("2001")
	d.SetHang(hang)
	timed("transfer", "POST", "/v1/transfer", `{"sessionId":"`+sid+`","to":"4000"}`, 200)
	timed("terminate (transferring)", "POST", "/v1/terminate", sess(sid), 200)

	// Inbound.
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	sid = h.ring(in)
	timed("answer", "POST", "/v1/answer", sess(sid), 200)
	in.Dialog().SetHang(hang)
	in2 := sigtest.NewIncoming("3001", "1001", "", nil)
	sid2 := h.ring(in2)
	timed("reject", "POST", "/v1/reject", sess(sid2), 200)
	timed("terminate (inbound)", "POST", "/v1/terminate", sess(sid), 200)
	h.waitState(sid, phone.StateEnded)
	// Not logout: it waits (bounded) for the BYEs of the calls it ends.
	t.Logf("slowest %v: %s", slowest, strings.Join(figures, ", "))
}

// ---------------------------------------------------------------- SSE

type sseEvent struct {
	id   uint64
	name string
	data map[string]any
}

type sseStream struct {
	t     *testing.T
	lines chan string
}

// openSSE opens GET /v1/events on srv (lastID "" for none; header or
// query as byQuery says) and waits until the stream is subscribed.
func openSSE(t *testing.T, srv *httptest.Server, lastID string, byQuery bool) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	url := srv.URL + "/v1/events"
	if lastID != "" && byQuery {
		url += "?lastEventId=" + lastID
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" && !byQuery {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); res.Body.Close(); <-done })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /v1/events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseStream{t: t, lines: make(chan string, 1024)}
	go func() {
		defer close(done)
		defer close(s.lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	// The greeting comes once the stream is subscribed to the bus.
	if l := s.line(); l != ": deskphone events" {
		t.Fatalf("first line %q", l)
	}
	return s
}

// line is the next line, failing the test after `wait`.
func (s *sseStream) line() string {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			s.t.Fatal("the event stream ended")
		}
		return l
	case <-time.After(wait):
		s.t.Fatal("no line on the event stream in time")
	}
	return ""
}

// next is the next event (comments skipped).
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	var e sseEvent
	for {
		l := s.line()
		switch {
		case l == "" && e.name != "":
			return e
		case strings.HasPrefix(l, ":"), l == "":
		case strings.HasPrefix(l, "id: "):
			id, err := strconv.ParseUint(strings.TrimPrefix(l, "id: "), 10, 64)
			if err != nil {
				s.t.Fatalf("bad id line %q", l)
			}
			e.id = id
		case strings.HasPrefix(l, "event: "):
			e.name = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &e.data); err != nil {
				s.t.Fatalf("data line %q: %v", l, err)
			}
		default:
			s.t.Fatalf("unexpected line %q", l)
		}
	}
}

// GET /v1/events streams id: lines, and replays after Last-Event-ID.
func TestEvents(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	srv := httptest.NewServer(h.srv)
	t.Cleanup(srv.Close)

	s := openSSE(t, srv, "", false)
	sid, o := h.call(`{"to":"2000"}`)
	var got []sseEvent
	for len(got) < 2 {
		got = append(got, s.next())
	}
	if got[0].name != event.NewSession || got[0].data["sessionId"] != sid || got[0].data["calleePhoneNumber"] != "2000" {
		t.Errorf("first event %+v", got[0])
	}
	if _, ok := got[0].data["timestamp"].(float64); !ok {
		t.Errorf("no timestamp in %+v", got[0].data)
	}
	if got[1].name != event.WebCallOuted || got[1].id != got[0].id+1 {
		t.Errorf("second event %+v", got[1])
	}
	o.Progress(180)
	o.Answer(nil)
	h.ok("POST", "/v1/terminate", sess(sid), nil)
	want := []string{event.StatusChanged, event.Ringing, event.Accepted, event.WebCalloutAccepted, event.Ended, event.WebSessionEnded, event.StatusChanged}
	for range want {
		got = append(got, s.next())
	}
	var names []string
	for i, e := range got {
		names = append(names, e.name)
		if e.id != got[0].id+uint64(i) {
			t.Errorf("event %d has id %d, want %d", i, e.id, got[0].id+uint64(i))
		}
	}
	if !slices.Equal(names[2:], want) {
		t.Errorf("events %q, want %q after the first two", names, want)
	}

	// Reconnect after the third event: the rest is replayed, in order.
	after := got[2].id
	for _, byQuery := range []bool{false, true} {
		r := openSSE(t, srv, strconv.FormatUint(after, 10), byQuery)
		for _, w := range got[3:] {
			e := r.next()
			if e.id != w.id || e.name != w.name {
				t.Errorf("replay (query %v): %d %s, want %d %s", byQuery, e.id, e.name, w.id, w.name)
			}
		}
		// Then live events, without a gap.
		h.p.Bus().Publish("test", map[string]string{"byQuery": strconv.FormatBool(byQuery)})
		e := r.next()
		if e.name != "test" || e.id != got[len(got)-1].id+1 {
			t.Errorf("live after replay: %+v, want test with id %d", e, got[len(got)-1].id+1)
		}
		got = append(got, e)
	}
	for _, w := range got[len(got)-2:] {
		if e := s.next(); e.id != w.id || e.name != w.name {
			t.Errorf("first stream: %d %s, want %d %s", e.id, e.name, w.id, w.name)
		}
	}
}

// Trailing data after the JSON object is refused, not ignored.
func TestTrailingJSONRefused(t *testing.T) {
	srv := control.New(nil, nil, "")
	req := httptest.NewRequest("POST", "/v1/call", strings.NewReader(`{"to":"2000"} {"to":"3000"}`))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "more after its JSON") {
		t.Fatalf("trailing JSON: %d %s", rec.Code, rec.Body)
	}
}

// ---------------------------------------------------------------- hardening

// The auth scheme is case-insensitive (RFC 7235); the token is not.
func TestBearerAnyCase(t *testing.T) {
	h := newHarness(t, "s3cret-t0ken-0f-16", nil, nil)
	for _, auth := range []string{"Bearer s3cret-t0ken-0f-16", "bearer s3cret-t0ken-0f-16", "BEARER s3cret-t0ken-0f-16", "bEaReR  s3cret-t0ken-0f-16"} {
		req := httptest.NewRequest("GET", "/v1/state", nil)
		req.Header.Set("Authorization", auth)
		if r := h.serve(req); r.status != http.StatusOK {
			t.Errorf("%q: %v, want 200", auth, r)
		}
	}
	for _, auth := range []string{"bearer S3CRET-T0KEN-0F-16", "bearer s3cret-t0ken-0f-1"} {
		req := httptest.NewRequest("GET", "/v1/state", nil)
		req.Header.Set("Authorization", auth)
		checkError(t, auth, h.serve(req), 401, control.ErrAPIToken)
	}
}

// A body over 64 KiB gets 413 with {code,message}, whether its length is
// announced or not; one of exactly 64 KiB is read.
func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	big := `{"to":"2000","remark":"` + strings.Repeat("x", 1<<20) + `"}`
	for _, path := range []string{"/v1/call", "/v1/mute", "/v1/login", "/v1/panel/press"} {
		// Content-Length: refused before the handler.
		r := h.serve(httptest.NewRequest("POST", path, strings.NewReader(big)))
		checkError(t, "1 MB body to "+path, r, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge)
		// Chunked (no length): refused as it is read.
		req := httptest.NewRequest("POST", path, io.MultiReader(strings.NewReader(big)))
		if req.ContentLength != -1 {
			t.Fatalf("ContentLength %d, want unknown", req.ContentLength)
		}
		if path == "/v1/login" || path == "/v1/panel/press" {
			continue // they do not read a body (login) or refuse first (no panel)
		}
		r = h.serve(req)
		e := checkError(t, "1 MB chunked body to "+path, r, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge)
		if !strings.Contains(e.Message, "64 KiB") {
			t.Errorf("413 message %q does not give the limit", e.Message)
		}
	}
	if n := len(h.calls.Dials()); n != 0 {
		t.Errorf("%d calls placed by refused requests", n)
	}
	// Exactly the limit: read, and refused for what it says (no call).
	atLimit := `{}` + strings.Repeat(" ", control.MaxBody-2)
	h.fails("POST", "/v1/mute", atLimit, 400, phone.ErrSIPBadRequest)
	req := httptest.NewRequest("POST", "/v1/mute", io.MultiReader(strings.NewReader(atLimit)))
	checkError(t, "chunked body at the limit", h.serve(req), 400, phone.ErrSIPBadRequest)

	// Over a real connection, chunked.
	srv := httptest.NewServer(h.srv)
	t.Cleanup(srv.Close)
	res, err := srv.Client().Post(srv.URL+"/v1/call", "application/json", io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkError(t, "1 MB body over HTTP", reply{status: res.StatusCode, header: res.Header, body: body}, 413, 413)
}

// loopbackHarness is a harness whose API says it listens on 127.0.0.1.
func loopbackHarness(t *testing.T, token string) *harness {
	h := newHarness(t, token, nil, nil)
	h.srv = control.NewServer(h.p, control.Options{Token: token, Listen: "127.0.0.1:8080"})
	return h
}

// On loopback, a POST from another site's page is refused: 403, -10403.
func TestLoopbackOrigin(t *testing.T) {
	h := loopbackHarness(t, "")
	post := func(origin string) reply {
		req := httptest.NewRequest("POST", "/v1/call", strings.NewReader(`{"to":"2000"}`))
		req.Host = "127.0.0.1:8080"
		if origin != "-" {
			req.Header.Set("Origin", origin)
		}
		return h.serve(req)
	}
	for _, origin := range []string{
		"https://crm.example.com", "http://evil.example:8080", "null", "",
		"http://127.0.0.1.evil.example", "http://localhost.evil.example:8080", "http://[::2]:80",
		"file://", "http://user@127.0.0.1:8080", "ws://127.0.0.1:8080", "http://10.0.0.1:8080",
	} {
		e := checkError(t, "POST from "+origin, post(origin), http.StatusForbidden, control.ErrAPIForbidden)
		if !strings.Contains(e.Message, "Origin") {
			t.Errorf("message %q does not say why", e.Message)
		}
	}
	if n := len(h.calls.Dials()); n != 0 {
		t.Fatalf("%d calls placed from foreign origins", n)
	}
	// Two Origin headers: refused too.
	req := httptest.NewRequest("POST", "/v1/mute", nil)
	req.Host = "127.0.0.1:8080"
	req.Header.Add("Origin", "http://127.0.0.1:3000")
	req.Header.Add("Origin", "https://evil.example")
	checkError(t, "two Origins", h.serve(req), http.StatusForbidden, control.ErrAPIForbidden)

	// GET from a foreign page: allowed (the browser does not let it read
	// the answer); the Host is what counts.
	req = httptest.NewRequest("GET", "/v1/state", nil)
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Origin", "https://evil.example")
	if r := h.serve(req); r.status != 200 {
		t.Errorf("GET with a foreign Origin: %v", r)
	}

	// Loopback pages and no Origin at all (curl, the CRM's backend) pass:
	// the call is placed, then the handler answers (no call to mute).
	if r := post("-"); r.status != 200 || len(h.calls.Dials()) != 1 {
		t.Errorf("POST without Origin: %v, %d calls placed", r, len(h.calls.Dials()))
	}
	if r := post("http://localhost:8080"); r.status != 200 || len(h.calls.Dials()) != 2 {
		t.Errorf("POST from http://localhost:8080: %v, %d calls placed", r, len(h.calls.Dials()))
	}
	for _, origin := range []string{"-", "http://127.0.0.1:3000", "http://localhost:8080", "http://[::1]:5173", "http://localhost", "HTTP://LOCALHOST:1", "https://127.0.0.1:8443"} {
		req := httptest.NewRequest("POST", "/v1/mute", strings.NewReader(sess("nope")))
		req.Host = "localhost:8080"
		if origin != "-" {
			req.Header.Set("Origin", origin)
		}
		checkError(t, "POST /v1/mute from "+origin, h.serve(req), 400, phone.ErrSIPBadRequest)
	}
}

// On loopback, a Host that is not this machine (DNS rebinding) is refused,
// with or without a token; elsewhere Host is not checked.
func TestLoopbackHost(t *testing.T) {
	const token = "0123456789abcdef"
	for _, tok := range []string{"", token} {
		h := loopbackHarness(t, tok)
		get := func(host, path string) reply {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = host
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return h.serve(req)
		}
		for _, host := range []string{"evil.example", "evil.example:8080", "127.0.0.1.nip.io:8080", "localhost.evil.example", "192.168.1.10:8080", "", "[::1", "::1"} {
			for _, path := range []string{"/v1/state", "/v1/events", "/v1/nope"} {
				e := checkError(t, fmt.Sprintf("token %v: Host %q %s", tok != "", host, path), get(host, path), http.StatusForbidden, control.ErrAPIForbidden)
				if !strings.Contains(e.Message, "Host") {
					t.Errorf("message %q does not say why", e.Message)
				}
			}
		}
		for _, host := range []string{"127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LocalHost", "[::1]:8080", "[::1]"} {
			if r := get(host, "/v1/state"); r.status != 200 {
				t.Errorf("token %v: Host %q: %v", tok != "", host, r)
			}
		}
	}

	// Not on loopback (or unknown): no Host or Origin checks.
	h := newHarness(t, token, nil, nil)
	for _, listen := range []string{"0.0.0.0:8080", "192.168.1.10:8080", ""} {
		h.srv = control.NewServer(h.p, control.Options{Token: token, Listen: listen})
		req := httptest.NewRequest("POST", "/v1/mute", nil) // Host example.com
		req.Header.Set("Origin", "https://crm.example.com")
		req.Header.Set("Authorization", "Bearer "+token)
		checkError(t, "listen "+listen, h.serve(req), 400, phone.ErrSIPBadRequest)
	}

	// Over a real loopback connection, as the firmware builds it.
	h = newHarness(t, "", nil, nil)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = control.NewServer(h.p, control.Options{Listen: srv.Listener.Addr().String()})
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := srv.Client().Get(srv.URL + "/v1/state")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET %s: %d", srv.URL, res.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/state", nil)
	req.Host = "rebound.evil.example"
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("GET with Host %s: %d, want 403", req.Host, res.StatusCode)
	}
}

// rawConn is one raw TCP connection to the API.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// get sends GET /v1/state, keeping the connection open.
func (c *rawConn) send(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
}

// answer reads a response within d.
func (c *rawConn) answer(d time.Duration) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, err
}

// With a cap of n, connection n+1 is not served until one of the n closes.
func TestConnectionCap(t *testing.T) {
	const n = 3
	h := newHarness(t, "", nil, nil)
	srv := httptest.NewUnstartedServer(h.srv)
	srv.Listener = control.LimitListener(srv.Listener, n)
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	var conns []*rawConn
	for i := range n {
		c := dialRaw(t, addr)
		c.send(t)
		if st, err := c.answer(wait); err != nil || st != 200 {
			t.Fatalf("connection %d of %d: %d %v", i+1, n, st, err)
		}
		conns = append(conns, c)
	}
	extra := dialRaw(t, addr) // the kernel completes it; the server does not accept it
	extra.send(t)
	if st, err := extra.answer(300 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("connection %d over the cap of %d was served: %d %v", n+1, n, st, err)
	}
	// The ones in use still work.
	conns[1].send(t)
	if st, err := conns[1].answer(wait); err != nil || st != 200 {
		t.Fatalf("open connection while at the cap: %d %v", st, err)
	}
	// One closes: the waiting one is served (its request was buffered).
	conns[0].Close()
	if st, err := extra.answer(wait); err != nil || st != 200 {
		t.Fatalf("waiting connection after one closed: %d %v", st, err)
	}
	// All close: every slot comes back (a cap of n again, not fewer).
	extra.Close()
	for _, c := range conns[1:] {
		c.Close()
	}
	for i := range n {
		c := dialRaw(t, addr)
		c.send(t)
		if st, err := c.answer(wait); err != nil || st != 200 {
			t.Fatalf("after closing all, connection %d of %d: %d %v", i+1, n, st, err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// LimitListener alone: a connection closed twice frees one slot, and Close
// ends an Accept that waits for a slot.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := control.LimitListener(inner, 1)
	t.Cleanup(func() { ln.Close() })
	accept := func() chan net.Conn {
		ch := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				close(ch)
				return
			}
			ch <- c
		}()
		return ch
	}
	for range 3 {
		dialRaw(t, inner.Addr().String())
	}
	c1 := <-accept()
	if c1 == nil {
		t.Fatal("first Accept failed")
	}
	c1.Close()
	c1.Close() // frees its slot once
	c2 := <-accept()
	if c2 == nil {
		t.Fatal("second Accept failed")
	}
	third := accept()
	select {
	case c := <-third:
		t.Fatalf("Accept over the cap returned %v", c)
	case <-time.After(200 * time.Millisecond):
	}
	ln.Close()
	select {
	case c, ok := <-third:
		if ok {
			t.Fatalf("Accept after Close returned %v", c)
		}
	case <-time.After(wait):
		t.Fatal("Close did not end a waiting Accept")
	}
	c2.Close()
}

// The event stream outlives the server's write (and read) timeout; other
// requests keep it.
func TestEventsOutliveWriteTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	h := newHarness(t, "", nil, nil)
	srv := httptest.NewUnstartedServer(h.srv)
	srv.Config.WriteTimeout = timeout
	srv.Config.ReadTimeout = timeout
	srv.Start()
	t.Cleanup(srv.Close)

	s := openSSE(t, srv, "", false)
	start := time.Now()
	tick := time.NewTicker(timeout / 4)
	defer tick.Stop()
	for i := 0; time.Since(start) < 4*timeout; i++ {
		<-tick.C
		h.p.Bus().Publish("test", map[string]int{"i": i})
		if e := s.next(); e.name != "test" || e.data["i"] != float64(i) {
			t.Fatalf("event %d after %v: %+v", i, time.Since(start), e)
		}
	}
	// An ordinary request on the same server still works.
	res, err := srv.Client().Get(srv.URL + "/v1/state")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /v1/state: %d", res.StatusCode)
	}
}

// GET/POST /v1/agent/status: the SDK's setStatus with its status names.
func TestAgentStatus(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	var st phone.AgentState
	h.ok("GET", "/v1/agent/status", "", &st)
	if st.Status != "free" || !slices.Equal(st.RestReasons, []string{"Meal", "Meeting", "Training"}) {
		t.Errorf("initial %+v", st)
	}
	h.ok("POST", "/v1/agent/status", `{"status":"rest","reason":"Meal"}`, &st)
	if st.Status != "rest" || st.Reason != "Meal" || st.Since == 0 {
		t.Errorf("after rest: %+v", st)
	}
	h.ok("POST", "/v1/agent/status", `{"status":"notReady","restReason":""}`, &st)
	h.ok("POST", "/v1/agent/status", `{"status":"stopNotReady"}`, &st)
	if st.Status != "free" {
		t.Errorf("after stopNotReady: %+v", st)
	}
	for _, bad := range []string{`{"status":"busy"}`, `{"status":"lunch"}`, `{"status":"rest","reason":"Nap"}`, `{"status":"stopNotReady"}`, `{"state":"free"}`} {
		h.fails("POST", "/v1/agent/status", bad, http.StatusBadRequest, 400)
	}
	h.ok("POST", "/v1/agent/offline", "", &st)
	if st.Status != "offline" {
		t.Errorf("after offline: %+v", st)
	}
	h.fails("POST", "/v1/agent/status", `{"status":"free"}`, http.StatusBadRequest, 400)
	h.ok("POST", "/v1/agent/online", "", &st)
	var ps phone.State
	h.ok("GET", "/v1/state", "", &ps)
	if ps.Agent.Status != "free" {
		t.Errorf("state's agent %+v", ps.Agent)
	}
}
