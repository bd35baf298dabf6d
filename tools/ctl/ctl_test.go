package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is an httptest server standing in for the phone's control API.
// It records every request; handlers are set per test.
type fakeAPI struct {
	*httptest.Server
	mux  *http.ServeMux
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, query, body, auth, lastEventID string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{mux: http.NewServeMux()}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, string(b), r.Header.Get("Authorization"), r.Header.Get("Last-Event-ID")})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		f.mux.ServeHTTP(w, r)
	}))
	// Like the phone: an unknown route is a JSON 404.
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, map[string]any{"code": 404, "message": "no such endpoint " + r.Method + " " + r.URL.Path + ": see README.md, 'Control API'"})
	})
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// last is the last request to path.
func (f *fakeAPI) last(t *testing.T, path string) recorded {
	t.Helper()
	rs := f.requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].path == path {
			return rs[i]
		}
	}
	t.Fatalf("no request to %s; got %+v", path, rs)
	return recorded{}
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, _ *http.Request) {
	reply(w, 200, map[string]string{"status": "success"})
}

// fixed "now" for the human output: 2026-11-30 10:00:00 local.
var testNow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.Local)

// ctl runs the CLI against the fake with args and returns exit code,
// stdout and stderr.
func ctl(t *testing.T, f *fakeAPI, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return ctlCtx(context.Background(), f, env, args...)
}

func ctlCtx(ctx context.Context, f *fakeAPI, env map[string]string, args ...string) (int, string, string) {
	var out, errb syncBuffer
	if env == nil {
		env = map[string]string{}
	}
	if _, set := env["DESKPHONE_API"]; !set && f != nil {
		env["DESKPHONE_API"] = f.URL
	}
	c := &cli{out: &out, errw: &errb, now: func() time.Time { return testNow }, retry: 10 * time.Millisecond, poll: 10 * time.Millisecond}
	code := c.run(ctx, args, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// syncBuffer is a bytes.Buffer safe to read while the CLI writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const stateJSON = `{"registration":{"state":"registered","expires":3600},"connection":"up","sdkAppId":1400000001,
"userId":"agent1001@example.com","extension":"1001","serverType":"sip",
"sessions":[{"sessionId":"s-out","sessionDirection":"CallOut","state":"connected","remoteHold":false,
"callerPhoneNumber":"1001","calleePhoneNumber":"1002","muted":true,"startTimestamp":%d,"acceptTimestamp":%d,"codec":"PCMU"},
{"sessionId":"s-in","sessionDirection":"CallIn","state":"ringing","remoteHold":false,"callerPhoneNumber":"5550100",
"calleePhoneNumber":"1001","peerName":"Customer","muted":false,"startTimestamp":%d}],
"agent":{"status":"rest","reason":"Meal","since":%d,"source":"phone","restReasons":["Meal","Meeting"],
"sync":{"backend":"relay","inSync":false,"error":"relay unreachable"}}}`

func TestStatusTable(t *testing.T) {
	f := newFakeAPI(t)
	ms := func(d time.Duration) int64 { return testNow.Add(-d).UnixMilli() }
	body := fmt.Sprintf(stateJSON, ms(2*time.Minute), ms(65*time.Second), ms(7*time.Second), ms(time.Hour+2*time.Minute+5*time.Second))
	f.mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })

	code, out, errs := ctl(t, f, nil, "status")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"registration  registered\n",
		"connection    up\n",
		"extension     1001 (agent agent1001@example.com)\n",
		"agent         rest (Meal) since " + testNow.Add(-time.Hour-2*time.Minute-5*time.Second).Format("15:04:05") + ", 1:02:05; sync relay: NOT in sync (relay unreachable)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	rows := regexp.MustCompile(`(?m)^(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s{2,}(\d+:\d\d)\s*(.*)$`).FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("want two call rows, got %q in:\n%s", rows, out)
	}
	if got := rows[0][1:]; !slices.Equal(got, []string{"s-out", "CallOut", "connected", "1002", "1:05", "muted, PCMU"}) {
		t.Errorf("outbound call row %q: want peer 1002, talk time 1:05 since accepted", got)
	}
	if got := rows[1][1:]; !slices.Equal(got, []string{"s-in", "CallIn", "ringing", "5550100 (Customer)", "0:07", ""}) {
		t.Errorf("inbound call row %q: want the caller as peer and the ringing time", got)
	}

	// -json is the API's answer as is.
	code, out, _ = ctl(t, f, nil, "status", "-json")
	if code != 0 || strings.TrimSpace(out) != strings.TrimSpace(body) {
		t.Fatalf("status -json: exit %d, printed %q; want the API's JSON as is", code, out)
	}
}

func TestStatusNoCalls(t *testing.T) {
	f := newFakeAPI(t)
	f.mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"registration":{"state":"failed","code":403,"reason":"Forbidden","retryIn":"30s"},"extension":"1001","userId":"a","sessions":[],"agent":{"status":"free","since":0}}`)
	})
	code, out, _ := ctl(t, f, nil, "status")
	if code != 0 || !strings.Contains(out, "registration  failed (403 Forbidden), retry in 30s") || !strings.Contains(out, "calls         none") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCallPrintsSessionID(t *testing.T) {
	f := newFakeAPI(t)
	f.mux.HandleFunc("POST /v1/call", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 200, map[string]string{"sessionId": "abc-123"})
	})
	// Flags after the number, as people type them.
	code, out, errs := ctl(t, f, nil, "call", "1002", "-remark", "order 17")
	if code != 0 || out != "abc-123\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the session id alone", code, out, errs)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(f.last(t, "/v1/call").body), &body); err != nil || body["to"] != "1002" || body["remark"] != "order 17" {
		t.Fatalf("POST /v1/call body %v (%v)", body, err)
	}
	code, out, _ = ctl(t, f, nil, "-json", "call", "1002")
	if code != 0 || out != `{"sessionId":"abc-123"}`+"\n" {
		t.Fatalf("call -json: exit %d, %q", code, out)
	}
}

func TestSessionCommands(t *testing.T) {
	f := newFakeAPI(t)
	for _, p := range []string{"/v1/answer", "/v1/terminate", "/v1/mute", "/v1/unmute", "/v1/dtmf"} {
		f.mux.HandleFunc("POST "+p, ok)
	}
	cases := []struct {
		args       []string
		path, body string
	}{
		{[]string{"answer"}, "/v1/answer", `{"sessionId":""}`},
		{[]string{"hangup", "-session", "s1"}, "/v1/terminate", `{"sessionId":"s1"}`},
		{[]string{"mute"}, "/v1/mute", `{"sessionId":""}`},
		{[]string{"unmute", "-session=s2"}, "/v1/unmute", `{"sessionId":"s2"}`},
		{[]string{"dtmf", "123#"}, "/v1/dtmf", `{"digits":"123#","sessionId":""}`},
		{[]string{"dtmf", "-session", "s3", "9"}, "/v1/dtmf", `{"digits":"9","sessionId":"s3"}`},
	}
	for _, tc := range cases {
		code, out, errs := ctl(t, f, nil, tc.args...)
		if code != 0 || out != "ok\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errs)
			continue
		}
		if got := f.last(t, tc.path).body; got != tc.body {
			t.Errorf("%v: sent %s to %s, want %s", tc.args, got, tc.path, tc.body)
		}
	}
}

func TestAgentStatus(t *testing.T) {
	f := newFakeAPI(t)
	st := `{"status":"%s","reason":"%s","since":%d,"restReasons":["Meal","Meeting"]}`
	f.mux.HandleFunc("GET /v1/agent/status", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, st, "free", "", testNow.Add(-90*time.Second).UnixMilli())
	})
	f.mux.HandleFunc("POST /v1/agent/status", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Status, Reason string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Status == "rest" && req.Reason != "Meal" && req.Reason != "Meeting" {
			reply(w, 400, map[string]any{"code": 400, "message": fmt.Sprintf("rest reason %q is not one of agent.rest_reasons (Meal, Meeting)", req.Reason)})
			return
		}
		fmt.Fprintf(w, st, req.Status, req.Reason, testNow.UnixMilli())
	})

	code, out, _ := ctl(t, f, nil, "agent-status")
	if code != 0 || !strings.HasPrefix(out, "free since "+testNow.Add(-90*time.Second).Format("15:04:05")+", 1:30\n") || !strings.Contains(out, "rest reasons: Meal, Meeting") {
		t.Fatalf("agent-status: exit %d:\n%s", code, out)
	}
	code, out, _ = ctl(t, f, nil, "agent-status", "rest", "Meal")
	if code != 0 || !strings.HasPrefix(out, "rest (Meal) since") {
		t.Fatalf("agent-status rest Meal: exit %d:\n%s", code, out)
	}
	if got := f.last(t, "/v1/agent/status").body; got != `{"reason":"Meal","status":"rest"}` {
		t.Fatalf("sent %s", got)
	}
	// Any case of a status name is accepted.
	if code, _, _ := ctl(t, f, nil, "agent-status", "NOTREADY"); code != 0 || f.last(t, "/v1/agent/status").body != `{"status":"notReady"}` {
		t.Fatalf("agent-status NOTREADY: exit %d, sent %s", code, f.last(t, "/v1/agent/status").body)
	}
	// The phone's refusal is printed as it says, with a failing exit code.
	code, _, errs := ctl(t, f, nil, "agent-status", "rest", "Nap")
	if code != 1 || !strings.Contains(errs, `rest reason "Nap" is not one of agent.rest_reasons (Meal, Meeting) (code 400, HTTP 400)`) {
		t.Fatalf("refused status: exit %d, stderr %q", code, errs)
	}
	// An unknown status never reaches the phone.
	n := len(f.requests())
	code, _, errs = ctl(t, f, nil, "agent-status", "lunch")
	if code != 2 || !strings.Contains(errs, `"lunch" is not a status: use one of free, notReady, stopNotReady, rest, arrange`) || len(f.requests()) != n {
		t.Fatalf("agent-status lunch: exit %d, stderr %q", code, errs)
	}
}

func TestAPIErrorIsPrinted(t *testing.T) {
	f := newFakeAPI(t)
	f.mux.HandleFunc("POST /v1/call", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 400, map[string]any{"code": -10005, "message": "not logged in: call login first"})
	})
	code, out, errs := ctl(t, f, nil, "call", "1002")
	if code != 1 || out != "" || errs != "deskphone ctl: not logged in: call login first (code -10005, HTTP 400)\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestTokenFromEnvAndFile(t *testing.T) {
	f := newFakeAPI(t)
	const token = "s3cret-token-0123456789"
	f.mux.HandleFunc("POST /v1/mute", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			reply(w, 401, map[string]any{"code": -10401, "message": "control API: missing or wrong bearer token"})
			return
		}
		ok(w, r)
	})
	if code, _, errs := ctl(t, f, nil, "mute"); code != 1 || !strings.Contains(errs, "code -10401, HTTP 401") {
		t.Fatalf("no token: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := ctl(t, f, map[string]string{"DESKPHONE_TOKEN": token}, "mute"); code != 0 {
		t.Fatalf("$DESKPHONE_TOKEN: exit %d, stderr %q", code, errs)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := ctl(t, f, nil, "mute", "-token-file", file); code != 0 {
		t.Fatalf("-token-file: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := ctl(t, f, nil, "-token", token, "mute"); code != 0 {
		t.Fatalf("-token: exit %d, stderr %q", code, errs)
	}
	code, _, errs := ctl(t, f, nil, "mute", "-token-file", filepath.Join(t.TempDir(), "none"))
	if code != 2 || !strings.Contains(errs, "-token-file") {
		t.Fatalf("missing token file: exit %d, stderr %q", code, errs)
	}
}

func TestConnectionRefusedNamesTheAddress(t *testing.T) {
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, _, errs := ctl(t, nil, map[string]string{"DESKPHONE_API": addr}, "status")
	if code != 1 || !strings.Contains(errs, "http://"+addr) || !strings.Contains(errs, "connection refused") ||
		!strings.Contains(errs, "-api URL or $DESKPHONE_API") {
		t.Fatalf("exit %d, stderr %q; want the address tried and how to change it", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	f := newFakeAPI(t)
	for _, args := range [][]string{{}, {"dial"}, {"call"}, {"call", "1", "2"}, {"status", "-bogus"}, {"-api", "ftp://x", "status"}, {"events", "-from", "x"}, {"logs", "-n", "0"}} {
		code, _, errs := ctl(t, f, nil, args...)
		if code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("usage errors reached the API %d times", n)
	}
}

// sseServer serves GET /v1/events: each connection gets the next batch of
// events from batches and is then closed.
func sseServer(f *fakeAPI, batches [][]string) {
	var mu sync.Mutex
	conn := 0
	f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := conn
		conn++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": deskphone events\n\n")
		if i >= len(batches) {
			w.(http.Flusher).Flush()
			<-r.Context().Done() // hold the last stream open
			return
		}
		for _, e := range batches[i] {
			io.WriteString(w, e)
		}
	})
}

func TestEventsReconnectWithLastEventID(t *testing.T) {
	f := newFakeAPI(t)
	sseServer(f, [][]string{
		{"id: 1\nevent: onRegistration\ndata: {\"state\":\"registered\",\"timestamp\":1764496800000}\n\n",
			": keep-alive\n\n",
			"id: 2\nevent: onNewSession\ndata: {\"sessionId\":\"s1\",\"timestamp\":1764496801000}\n\n"},
		{"id: 3\nevent: onEnded\ndata: {\"sessionId\":\"s1\",\"reason\":\"RemoteBye\",\"timestamp\":1764496802000}\n\n"},
	})
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := ctlCtx(ctx, f, nil, "events", "-json")
		done <- result{code, out, errs}
	}()
	// The third connection (held open) comes after event 3.
	waitFor(t, 5*time.Second, func() bool {
		rs := f.requests()
		return len(rs) >= 3
	}, func() string { return fmt.Sprintf("requests: %+v", f.requests()) })
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("events did not end on cancel (Ctrl-C)")
	}
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.err)
	}
	rs := f.requests()
	if rs[0].lastEventID != "" || rs[1].lastEventID != "2" || rs[2].lastEventID != "3" {
		t.Fatalf("Last-Event-ID per connection: %q %q %q; want none, 2, 3", rs[0].lastEventID, rs[1].lastEventID, rs[2].lastEventID)
	}
	lines := strings.Split(strings.TrimSpace(res.out), "\n")
	want := []string{
		`{"id":1,"event":"onRegistration","data":{"state":"registered","timestamp":1764496800000}}`,
		`{"id":2,"event":"onNewSession","data":{"sessionId":"s1","timestamp":1764496801000}}`,
		`{"id":3,"event":"onEnded","data":{"sessionId":"s1","reason":"RemoteBye","timestamp":1764496802000}}`,
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("events -json printed\n%s\nwant\n%s", res.out, strings.Join(want, "\n"))
	}
	if !strings.Contains(res.err, "reconnecting") || !strings.Contains(res.err, "(from event 2)") {
		t.Errorf("stderr does not tell of the reconnection: %q", res.err)
	}
}

func TestEventsHuman(t *testing.T) {
	f := newFakeAPI(t)
	ts := testNow.Add(1500 * time.Millisecond).UnixMilli()
	sseServer(f, [][]string{{fmt.Sprintf("id: 7\nevent: onAccepted\ndata: {\"sessionId\":\"s1\",\"timestamp\":%d}\n\n", ts)}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	c := &cli{out: &out, errw: io.Discard, now: time.Now, retry: 10 * time.Millisecond}
	go func() {
		done <- c.run(ctx, []string{"events"}, func(k string) string { return map[string]string{"DESKPHONE_API": f.URL}[k] })
	}()
	want := fmt.Sprintf(`10:00:01.500  #7  onAccepted           {"sessionId":"s1","timestamp":%d}`, ts)
	waitFor(t, 5*time.Second, func() bool { return strings.Contains(out.String(), want) }, func() string { return "printed " + out.String() })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestEventsFirstConnectionFails(t *testing.T) {
	f := newFakeAPI(t)
	f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 401, map[string]any{"code": -10401, "message": "control API: missing or wrong bearer token"})
	})
	code, _, errs := ctl(t, f, nil, "events")
	if code != 1 || !strings.Contains(errs, "missing or wrong bearer token (code -10401, HTTP 401)") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestLogs(t *testing.T) {
	f := newFakeAPI(t)
	var mu sync.Mutex
	ring := []string{"l1", "l2", "l3"}
	f.mux.HandleFunc("GET /v1/logs", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(r.URL.Query().Get("n"), &n) // none: 0
		mu.Lock()
		defer mu.Unlock()
		reply(w, 200, map[string]any{"lines": ring[max(len(ring)-n, 0):]})
	})
	code, out, _ := ctl(t, f, nil, "logs", "-n", "2")
	if code != 0 || out != "l2\nl3\n" || f.last(t, "/v1/logs").query != "n=2" {
		t.Fatalf("logs -n 2: exit %d, %q, query %q", code, out, f.last(t, "/v1/logs").query)
	}
	code, out, _ = ctl(t, f, nil, "logs", "-json")
	if code != 0 || out != "\"l1\"\n\"l2\"\n\"l3\"\n" || f.last(t, "/v1/logs").query != "n=100" {
		t.Fatalf("logs -json: exit %d, %q", code, out)
	}

	// -f prints what comes after, once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf syncBuffer
	done := make(chan int, 1)
	c := &cli{out: &buf, errw: io.Discard, now: time.Now, poll: 10 * time.Millisecond}
	go func() {
		done <- c.run(ctx, []string{"logs", "-f", "-n", "1"}, func(k string) string { return map[string]string{"DESKPHONE_API": f.URL}[k] })
	}()
	waitFor(t, 5*time.Second, func() bool { return buf.String() == "l3\n" }, buf.String)
	mu.Lock()
	ring = append(ring, "l4", "l5")
	mu.Unlock()
	waitFor(t, 5*time.Second, func() bool { return buf.String() == "l3\nl4\nl5\n" }, buf.String)
	mu.Lock()
	ring = append(ring, "l6")
	mu.Unlock()
	waitFor(t, 5*time.Second, func() bool { return buf.String() == "l3\nl4\nl5\nl6\n" }, buf.String)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("logs -f exit %d", code)
	}
}

func TestLogsOnOldFirmware(t *testing.T) {
	f := newFakeAPI(t) // answers 404 for /v1/logs, as a phone without it does
	code, _, errs := ctl(t, f, nil, "logs")
	if code != 1 || !strings.Contains(errs, "this phone's firmware has no GET /v1/logs") || !strings.Contains(errs, "no such endpoint GET /v1/logs") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestLogsNotKept(t *testing.T) {
	f := newFakeAPI(t)
	f.mux.HandleFunc("GET /v1/logs", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 404, map[string]any{"code": 404, "message": "this phone keeps no log tail"})
	})
	code, _, errs := ctl(t, f, nil, "logs")
	if code != 1 || errs != "deskphone ctl: this phone keeps no log tail (code 404, HTTP 404)\n" {
		t.Fatalf("exit %d, stderr %q; want the phone's own reason", code, errs)
	}
}

func TestNewLines(t *testing.T) {
	cases := []struct {
		prev, next, fresh []string
		gap               bool
	}{
		{nil, []string{"a"}, []string{"a"}, false},
		{[]string{"a", "b"}, []string{"a", "b"}, []string{}, false},
		{[]string{"a", "b"}, []string{"b", "c", "d"}, []string{"c", "d"}, false},
		{[]string{"a", "b"}, []string{"a", "b", "c"}, []string{"c"}, false},
		{[]string{"a", "b"}, []string{"x", "y"}, []string{"x", "y"}, true},
	}
	for _, tc := range cases {
		fresh, gap := newLines(tc.prev, tc.next)
		if !slices.Equal(fresh, tc.fresh) || gap != tc.gap {
			t.Errorf("newLines(%q, %q) = %q, %v; want %q, %v", tc.prev, tc.next, fresh, gap, tc.fresh, tc.gap)
		}
	}
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
