package relayd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"deskphone/tools/relay/relayd"
	rt "deskphone/tools/relay/relaytest"
)

func client(e *rt.Env) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(must(os.ReadFile(e.CAFile)))
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// do sends a request and decodes the JSON answer.
func do(t *testing.T, e *rt.Env, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client(e).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func TestStatusRoundTrip(t *testing.T) {
	e := rt.Start(t)
	code, m := do(t, e, "GET", "/v1/agent/status", rt.AliceToken, "")
	if code != 200 || m["status"] != "free" || m["since"] == nil {
		t.Fatalf("GET status: %d %v", code, m)
	}
	code, m = do(t, e, "POST", "/v1/agent/status", rt.AliceToken, `{"status":"rest","reason":"Meal","since":"2026-01-02T03:04:05Z"}`)
	if code != 200 || m["status"] != "rest" || m["reason"] != "Meal" {
		t.Fatalf("POST status: %d %v", code, m)
	}
	calls := e.Cloud.Calls("SetStaffStatus")
	want := map[string]any{"SdkAppId": float64(rt.SdkAppID), "StaffStatusList": []any{
		map[string]any{"StaffUserId": rt.Alice, "Status": "rest", "Reason": "Meal"}}}
	if len(calls) != 1 || !reflect.DeepEqual(calls[0].Params, want) {
		t.Fatalf("SetStaffStatus calls %v, want one with %v", calls, want)
	}
	if s, _ := e.Cloud.Staff(rt.Alice); s.Status != "rest" || s.Reason != "Meal" {
		t.Errorf("cloud holds %+v", s)
	}
	wantQ := map[string]any{"SdkAppId": float64(rt.SdkAppID), "StaffList": []any{rt.Alice}}
	if q := e.Cloud.Calls("DescribeStaffStatusMetrics"); len(q) == 0 || !reflect.DeepEqual(q[0].Params, wantQ) {
		t.Errorf("DescribeStaffStatusMetrics calls %v, want %v", q, wantQ)
	}
	// After-call work is spelled the SDK's way.
	e.Cloud.SetStaff(rt.Alice, "afterCallWork", "")
	if _, m = do(t, e, "GET", "/v1/agent/status", rt.AliceToken, ""); m["status"] != "arrange" {
		t.Errorf("afterCallWork read as %v, want arrange", m["status"])
	}
	// An agent the cloud does not list is offline.
	e.Cloud.DeleteStaff(rt.Bob)
	if _, m = do(t, e, "GET", "/v1/agent/status", rt.BobToken, ""); m["status"] != "offline" {
		t.Errorf("unlisted agent: %v, want offline", m)
	}
}

func TestRefusals(t *testing.T) {
	e := rt.Start(t)
	for _, body := range []string{`{"status":"busy"}`, `{"status":"afterCallWork"}`, `{"status":"offline"}`} {
		code, m := do(t, e, "POST", "/v1/agent/status", rt.AliceToken, body)
		if code != 422 || m["code"] != "StatusNotSettable" || m["message"] == "" {
			t.Errorf("%s: %d %v, want 422 StatusNotSettable", body, code, m)
		}
	}
	for _, body := range []string{`{"status":"sleeping"}`, `{"status":"free","extra":1}`, `not json`} {
		if code, m := do(t, e, "POST", "/v1/agent/status", rt.AliceToken, body); code != 400 || m["code"] != "BadRequest" {
			t.Errorf("%s: %d %v, want 400", body, code, m)
		}
	}
	if n := len(e.Cloud.Calls("SetStaffStatus")); n != 0 {
		t.Errorf("%d SetStaffStatus calls for refused requests", n)
	}
	// The cloud's "no", top level and per agent.
	e.Cloud.Fail("SetStaffStatus", "InvalidParameterValue", "rest reason Nap is not configured")
	code, m := do(t, e, "POST", "/v1/agent/status", rt.AliceToken, `{"status":"rest","reason":"Nap"}`)
	if code != 409 || m["code"] != "InvalidParameterValue" || m["message"] != "rest reason Nap is not configured" {
		t.Errorf("cloud refusal: %d %v", code, m)
	}
	e.Cloud.Fail("SetStaffStatus", "", "")
	e.Cloud.DeleteStaff(rt.Bob)
	if code, m = do(t, e, "POST", "/v1/agent/status", rt.BobToken, `{"status":"free"}`); code != 409 || m["code"] != "ResourceNotFound.StaffNotExist" {
		t.Errorf("per-agent refusal: %d %v", code, m)
	}
	// The relay's own key refused: not the agent's fault, retry later.
	e.Cloud.Fail("DescribeStaffStatusMetrics", "AuthFailure.SecretIdNotFound", "no such SecretId")
	if code, m = do(t, e, "GET", "/v1/agent/status", rt.AliceToken, ""); code != 502 || m["code"] != "CloudAuthFailure" {
		t.Errorf("auth failure: %d %v", code, m)
	}
	e.Cloud.Fail("DescribeStaffStatusMetrics", "InternalError", "oops")
	if code, m = do(t, e, "GET", "/v1/agent/status", rt.AliceToken, ""); code != 502 || m["code"] != "CloudUnreachable" {
		t.Errorf("internal error: %d %v", code, m)
	}
}

func TestCloudDown(t *testing.T) {
	e := rt.Start(t)
	e.Cloud.Close()
	for _, r := range [][3]string{{"GET", "/v1/agent/status", ""}, {"POST", "/v1/agent/status", `{"status":"free"}`}, {"GET", "/v1/provision", ""}, {"GET", "/v1/agent/events", ""}} {
		if code, m := do(t, e, r[0], r[1], rt.AliceToken, r[2]); code != 502 || m["code"] != "CloudUnreachable" {
			t.Errorf("%s %s with the cloud down: %d %v, want 502 CloudUnreachable", r[0], r[1], code, m)
		}
	}
}

func TestAuth(t *testing.T) {
	e := rt.Start(t)
	for _, tok := range []string{"", "wrong-token-0123456789", rt.AdminToken} {
		for _, p := range []string{"/v1/agent/status", "/v1/agent/events", "/v1/provision"} {
			if code, m := do(t, e, "GET", p, tok, ""); code != 401 || m["code"] != "Unauthorized" {
				t.Errorf("GET %s with %q: %d %v", p, tok, code, m)
			}
		}
	}
	if code, _ := do(t, e, "POST", "/v1/admin/force-offline", rt.AliceToken, `{"userId":"bob@example.com"}`); code != 401 {
		t.Errorf("device token on the admin route: %d, want 401", code)
	}
	if code, _ := do(t, e, "GET", "/v1/nothing", rt.AliceToken, ""); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
	off := rt.Start(t, func(c *relayd.Config) { c.AdminToken = "" })
	if code, m := do(t, off, "POST", "/v1/admin/force-offline", rt.AdminToken, `{"userId":"bob@example.com"}`); code != 403 || m["code"] != "AdminDisabled" {
		t.Errorf("admin route without a token configured: %d %v", code, m)
	}
}

func TestProvision(t *testing.T) {
	e := rt.Start(t)
	code, m := do(t, e, "GET", "/v1/provision", rt.AliceToken, "")
	want := map[string]any{"extension": rt.AliceExt, "domain": "1400000001.tccc.qcloud.com", "password": "s3cret-sip",
		"outboundProxy": "sip.tccc.qcloud.com:5060", "transport": "udp"}
	if code != 200 || !reflect.DeepEqual(m, want) {
		t.Fatalf("provision: %d %v, want %v", code, m, want)
	}
	wantQ := map[string]any{"SdkAppId": float64(rt.SdkAppID), "ExtensionId": rt.AliceExt}
	if q := e.Cloud.Calls("DescribeExtension"); len(q) != 1 || !reflect.DeepEqual(q[0].Params, wantQ) {
		t.Errorf("DescribeExtension calls %v", q)
	}
	e.Cloud.Fail("DescribeExtension", "ResourceNotFound", "extension 8001 does not exist")
	if code, m = do(t, e, "GET", "/v1/provision", rt.AliceToken, ""); code != 409 || m["code"] != "ResourceNotFound" {
		t.Errorf("unknown extension: %d %v", code, m)
	}
}

// stream reads SSE events (comments as name ":").
type stream struct {
	t    *testing.T
	body io.ReadCloser
	ev   chan [2]string
}

func openStream(t *testing.T, e *rt.Env, token string) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/v1/agent/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client(e).Do(req) //nolint:bodyclose // the stream closes it (stream.body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, body: resp.Body, ev: make(chan [2]string, 64)}
	go func() {
		defer close(s.ev)
		sc := bufio.NewScanner(resp.Body)
		var name, data string
		for sc.Scan() {
			switch l := sc.Text(); {
			case l == "":
				if name != "" {
					s.ev <- [2]string{name, data}
				}
				name, data = "", ""
			case strings.HasPrefix(l, ":"):
				name = ":"
			case strings.HasPrefix(l, "event: "):
				name = l[7:]
			case strings.HasPrefix(l, "data: "):
				data = l[6:]
			}
		}
	}()
	return s
}

// next returns the next event that is not a comment, within 5 s.
func (s *stream) next(skipComments bool) (string, map[string]any) {
	s.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-s.ev:
			if !ok {
				s.t.Fatal("stream closed")
			}
			if e[0] == ":" && skipComments {
				continue
			}
			var m map[string]any
			if e[0] != ":" {
				if err := json.Unmarshal([]byte(e[1]), &m); err != nil {
					s.t.Fatalf("event %s data %q: %v", e[0], e[1], err)
				}
			}
			return e[0], m
		case <-deadline:
			s.t.Fatal("no event within 5s")
		}
	}
}

func TestEvents(t *testing.T) {
	e := rt.Start(t, func(c *relayd.Config) { c.KeepAlive = 100 * time.Millisecond })
	s := openStream(t, e, rt.AliceToken)
	if name, m := s.next(true); name != "status" || m["status"] != "free" {
		t.Fatalf("first event %s %v, want the current status", name, m)
	}
	if name, _ := s.next(false); name != ":" {
		t.Errorf("got %s, want a keep-alive comment", name)
	}
	e.Cloud.SetStaff(rt.Alice, "rest", "Meeting")
	if name, m := s.next(true); name != "status" || m["status"] != "rest" || m["reason"] != "Meeting" {
		t.Errorf("after the workbench change: %s %v", name, m)
	}
	e.Cloud.SetStaff(rt.Alice, "afterCallWork", "")
	if name, m := s.next(true); name != "status" || m["status"] != "arrange" {
		t.Errorf("after-call work: %s %v", name, m)
	}
	e.Cloud.SetStaff(rt.Alice, "offline", "")
	if name, m := s.next(true); name != "kickedOut" || m["reason"] == "" {
		t.Errorf("offline in the cloud: %s %v, want kickedOut", name, m)
	}
	e.Cloud.SetStaff(rt.Alice, "free", "")
	if name, m := s.next(true); name != "status" || m["status"] != "free" {
		t.Errorf("back online: %s %v", name, m)
	}
}

func TestForceOffline(t *testing.T) {
	e := rt.Start(t)
	alice, bob := openStream(t, e, rt.AliceToken), openStream(t, e, rt.BobToken)
	alice.next(true)
	bob.next(true)
	code, m := do(t, e, "POST", "/v1/admin/force-offline", rt.AdminToken, `{"userId":"alice@example.com"}`)
	if code != 200 || m["streams"] != float64(1) {
		t.Fatalf("force-offline: %d %v", code, m)
	}
	want := map[string]any{"SdkAppId": float64(rt.SdkAppID), "UserId": rt.Alice}
	if q := e.Cloud.Calls("ForceMemberOffline"); len(q) != 1 || !reflect.DeepEqual(q[0].Params, want) {
		t.Errorf("ForceMemberOffline calls %v", q)
	}
	if name, m := alice.next(true); name != "kickedOut" || m["reason"] != "forced offline by an administrator" {
		t.Errorf("alice got %s %v", name, m)
	}
	// The poll sees offline too but must not kick a second time: the next
	// event is the agent coming back.
	e.Cloud.SetStaff(rt.Alice, "notReady", "")
	if name, m := alice.next(true); name != "status" || m["status"] != "notReady" {
		t.Errorf("alice then got %s %v, want status notReady", name, m)
	}
	e.Cloud.SetStaff(rt.Bob, "free", "")
	if name, m := bob.next(true); name != "status" || m["status"] != "free" {
		t.Errorf("bob got %s %v (he was not forced offline)", name, m)
	}
	e.Cloud.Fail("ForceMemberOffline", "ResourceNotFound", "no staff")
	if code, m = do(t, e, "POST", "/v1/admin/force-offline", rt.AdminToken, `{"userId":"nobody@example.com"}`); code != 409 {
		t.Errorf("unknown agent: %d %v", code, m)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	devices := rt.WriteDevices(t, dir)
	env := map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "k",
		"RELAY_SDKAPPID": "1400000001", "RELAY_DEVICES": devices, "RELAY_POLL": "2s"}
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := relayd.LoadConfig([]string{"-insecure-http", "-region", "ap-singapore"}, get(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.SdkAppID != 1400000001 || c.Endpoint != relayd.DefaultEndpoint || c.Poll != 2*time.Second || c.Region != "ap-singapore" || c.SecretID != "AKIDx" {
		t.Errorf("config %+v", c)
	}
	for _, tc := range []struct {
		unset, args []string
		want        string
	}{
		{unset: []string{"TENCENTCLOUD_SECRET_ID"}, args: []string{"-insecure-http"}, want: "TENCENTCLOUD_SECRET_ID is not set"},
		{unset: []string{"TENCENTCLOUD_SECRET_KEY"}, args: []string{"-insecure-http"}, want: "TENCENTCLOUD_SECRET_KEY is not set"},
		{unset: []string{"RELAY_SDKAPPID"}, args: []string{"-insecure-http"}, want: "-sdkappid"},
		{args: []string{"-sdkappid", "abc", "-insecure-http"}, want: `SdkAppId "abc"`},
		{args: nil, want: "-tls-cert"},
		{args: []string{"-insecure-http", "-poll", "1ms"}, want: "too short"},
		{args: []string{"-nope"}, want: "flag provided but not defined"},
	} {
		m := map[string]string{}
		for k, v := range env {
			m[k] = v
		}
		for _, k := range tc.unset {
			delete(m, k)
		}
		if _, err := relayd.LoadConfig(tc.args, get(m)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("unset %v args %v: %v, want %q", tc.unset, tc.args, err, tc.want)
		}
	}
	// The secret never shows in an error.
	env["TENCENTCLOUD_SECRET_KEY"] = "super-secret-value"
	env["RELAY_SDKAPPID"] = "0"
	if _, err := relayd.LoadConfig([]string{"-insecure-http"}, get(env)); err == nil || strings.Contains(err.Error(), "super-secret-value") {
		t.Errorf("error %v", err)
	}
}

func TestBadDevicesFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"", "empty"},
		{"[1, 2", "not YAML or JSON"},
		{"- a\n- b\n", "want a mapping"},
		{"short: {staffUserId: a@b.c, extensionId: \"1\"}\n", ":1: a device token must be at least 16"},
		{"tok-0123456789abcdef:\n  staffUserId: a@b.c\n  extension: \"1\"\n", ":3: unknown key \"extension\""},
		{"tok-0123456789abcdef: {staffUserId: alice, extensionId: \"1\"}\n", "not the agent's e-mail"},
		{"tok-0123456789abcdef: {staffUserId: a@b.c}\n", "has no extensionId"},
		{`{"tok-0123456789abcdef": {"staffUserId": "a@b.c", "extensionId": "1"}, "tok-0123456789abcdef": {"staffUserId": "a@b.c", "extensionId": "1"}}`, "listed twice"},
	} {
		p := filepath.Join(dir, "devices.yaml")
		if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := relayd.LoadDevices(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v, want %q naming the file", tc.body, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "tok-0123456789abcdef") {
			t.Errorf("error shows the token: %v", err)
		}
	}
	if _, err := relayd.LoadDevices(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	// New refuses to start on a bad file.
	cfg := rt.Start(t).Config
	cfg.DevicesFile = filepath.Join(dir, "devices.yaml")
	if _, err := relayd.New(cfg, rt.Logger(t)); err == nil {
		t.Error("New accepted a bad devices file")
	}
	// JSON works as well as YAML.
	p := filepath.Join(dir, "devices.json")
	if err := os.WriteFile(p, []byte(`{"tok-0123456789abcdef": {"staffUserId": "a@b.c", "extensionId": "1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := relayd.LoadDevices(p); err != nil || len(d) != 1 {
		t.Errorf("JSON devices: %v %v", d, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A server ReadTimeout (ListenAndServe sets 30 s) must not cut a stream.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	e := rt.Start(t, func(c *relayd.Config) { c.KeepAlive = 50 * time.Millisecond })
	srv := httptest.NewUnstartedServer(e.Relay.Handler())
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.StartTLS()
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/v1/agent/events", nil)
	req.Header.Set("Authorization", "Bearer "+rt.AliceToken)
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	defer resp.Body.Close()
	start := time.Now()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if time.Since(start) > time.Second {
			return // five ReadTimeouts later, still streaming
		}
	}
	t.Fatalf("stream ended after %v: %v", time.Since(start), sc.Err())
}
