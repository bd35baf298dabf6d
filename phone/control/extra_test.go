package control_test

// The web page's routes: the cookie login, GET /v1/history, GET /v1/logs and
// GET/PUT /v1/config.

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/control"
	"deskphone/phone/history"
	"deskphone/phone/logtail"
	"deskphone/phone/web"
)

const pageToken = "page-t0ken-0f-20-chars"

// form posts an HTML form to the handler.
func (h *harness) form(path string, values url.Values, cookie *http.Cookie, origin string) reply {
	h.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(values.Encode()))
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return h.serve(req)
}

// withCookie sends a request with the login cookie and no bearer token.
func (h *harness) withCookie(method, path, body string, cookie *http.Cookie, origin string) reply {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "127.0.0.1:8080"
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return h.serve(req)
}

func loginCookie(t *testing.T, r reply) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == web.CookieName {
			return c
		}
	}
	return nil
}

// The login form sets an HttpOnly, SameSite=Strict cookie that the API then
// takes instead of the bearer token; a wrong token gets none; logout clears it.
func TestCookieLogin(t *testing.T) {
	h := newHarness(t, pageToken, nil, nil)
	h.srv = control.NewServer(h.p, control.Options{Token: pageToken, Listen: "127.0.0.1:8080"})
	const origin = "http://127.0.0.1:8080" // the page's own

	// Not logged in: the page sends to the form, the API refuses.
	if r := h.withCookie("GET", "/", "", nil, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("GET / without login: %v Location %q, want 303 to /login", r, r.header.Get("Location"))
	}
	checkError(t, "GET /v1/state without login", h.withCookie("GET", "/v1/state", "", nil, ""), 401, control.ErrAPIToken)
	if r := h.withCookie("GET", "/login", "", nil, ""); r.status != 200 || !strings.Contains(string(r.body), `name="token"`) {
		t.Fatalf("GET /login: %v", r)
	}
	if r := h.withCookie("GET", "/static/app.js", "", nil, ""); r.status != 200 || !strings.Contains(string(r.body), "EventSource") {
		t.Fatalf("GET /static/app.js: %d", r.status)
	}

	// A wrong or empty token: the form again, 401, no cookie.
	for _, tok := range []string{"wrong-token-of-20-chars", "", pageToken + "x"} {
		r := h.form("/login", url.Values{"token": {tok}}, nil, origin)
		if r.status != http.StatusUnauthorized || loginCookie(t, r) != nil || !strings.Contains(string(r.body), `id="login-error"`) {
			t.Fatalf("login with %q: %v, cookie %v; want 401 with the form's error and no cookie", tok, r, loginCookie(t, r))
		}
	}

	r := h.form("/login", url.Values{"token": {pageToken}}, nil, origin)
	c := loginCookie(t, r)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" || c == nil {
		t.Fatalf("login: %v Location %q, cookie %v", r, r.header.Get("Location"), c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Value == "" {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if strings.Contains(c.Value, pageToken) {
		t.Fatalf("the cookie holds the token itself: %q", c.Value)
	}

	// Logged in: the page, the API's GET and the page's own POST.
	if r := h.withCookie("GET", "/", "", c, ""); r.status != 200 || !strings.Contains(string(r.body), `id="display"`) {
		t.Fatalf("GET / logged in: %v", r)
	}
	if r := h.withCookie("GET", "/v1/state", "", c, ""); r.status != 200 {
		t.Fatalf("GET /v1/state with the cookie: %v", r)
	}
	if r := h.withCookie("POST", "/v1/agent/status", `{"status":"notReady"}`, c, origin); r.status != 200 {
		t.Fatalf("the page's POST with the cookie: %v", r)
	}
	// The cookie is no bearer token, and a forged cookie is no login.
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/v1/state", nil)
	req.Header.Set("Authorization", "Bearer "+c.Value)
	checkError(t, "the cookie's value as a bearer token", h.serve(req), 401, control.ErrAPIToken)
	checkError(t, "a forged cookie", h.withCookie("GET", "/v1/state", "", &http.Cookie{Name: web.CookieName, Value: strings.Repeat("0", len(c.Value))}, ""), 401, control.ErrAPIToken)
	// Another site's page cannot use it (loopback: its Origin is refused).
	checkError(t, "POST from another site with the cookie", h.withCookie("POST", "/v1/agent/status", `{"status":"free"}`, c, "https://evil.example"), 403, control.ErrAPIForbidden)

	// Logout clears the cookie.
	r = h.form("/logout", nil, c, origin)
	gone := loginCookie(t, r)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" || gone == nil || gone.Value != "" || gone.MaxAge >= 0 || !gone.HttpOnly {
		t.Fatalf("logout: %v Location %q, cookie %+v: want it cleared (Max-Age<0)", r, r.header.Get("Location"), gone)
	}
}

// On a listener that is not loopback (no Host/Origin checks), a request
// carrying the cookie from another origin is refused all the same.
func TestCookieCrossOriginOnNetwork(t *testing.T) {
	h := newHarness(t, pageToken, nil, nil)
	h.srv = control.NewServer(h.p, control.Options{Token: pageToken, Listen: "192.0.2.10:8080"})
	r := h.form("/login", url.Values{"token": {pageToken}}, nil, "")
	c := loginCookie(t, r)
	if c == nil {
		t.Fatalf("login: %v", r)
	}
	req := httptest.NewRequest("POST", "http://192.0.2.10:8080/v1/agent/status", strings.NewReader(`{"status":"notReady"}`))
	req.AddCookie(c)
	req.Header.Set("Origin", "http://192.0.2.10:8080")
	if r := h.serve(req); r.status != 200 {
		t.Fatalf("same-origin POST with the cookie: %v", r)
	}
	req = httptest.NewRequest("POST", "http://192.0.2.10:8080/v1/agent/status", strings.NewReader(`{"status":"free"}`))
	req.AddCookie(c)
	req.Header.Set("Origin", "http://attacker.example")
	checkError(t, "cross-origin POST with the cookie", h.serve(req), 403, control.ErrAPIForbidden)
}

// Without a token there is no login: the page opens at once.
func TestPageWithoutToken(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	if r := h.do("GET", "/", ""); r.status != 200 || strings.Contains(string(r.body), `id="logout"`) {
		t.Fatalf("GET /: %v", r)
	}
	if r := h.do("GET", "/login", ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("GET /login: %v, want 303 to /", r)
	}
	if r := h.do("GET", "/", ""); r.header.Get("Content-Security-Policy") == "" {
		t.Error("the page has no Content-Security-Policy")
	}
}

// GET /v1/history: a call placed and hung up through the API is one record.
func TestHistory(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	checkError(t, "history without a recorder", h.do("GET", "/v1/history", ""), 404, 404)
	rec := history.New(history.DefaultSize)
	stop := rec.Follow(h.p.Bus())
	t.Cleanup(stop)
	h.srv = control.NewServer(h.p, control.Options{History: rec})

	sid, _ := h.connect("2000")
	h.ok("POST", "/v1/terminate", sess(sid), nil)
	var got struct {
		Calls []history.Record `json:"calls"`
	}
	deadline := time.Now().Add(wait)
	for {
		h.ok("GET", "/v1/history", "", &got)
		if len(got.Calls) == 1 && got.Calls[0].End != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history after the call: %+v", got.Calls)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := got.Calls[0]
	if c.SessionID != sid || c.Direction != phone.CallOut || c.Peer != "2000" || c.Answer == 0 || c.Answer < c.Start || c.End < c.Answer || c.EndReason != phone.EndLocalBye {
		t.Fatalf("record %+v", c)
	}
	r := h.do("GET", "/v1/history", "")
	for _, f := range []string{`"sessionId"`, `"direction"`, `"peer"`, `"start"`, `"answer"`, `"end"`, `"endReason"`, `"duration"`} {
		if !strings.Contains(string(r.body), f) {
			t.Errorf("history JSON lacks %s: %s", f, r.body)
		}
	}
}

// GET /v1/logs?n=: the newest lines, n checked.
func TestLogs(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	checkError(t, "logs without a ring", h.do("GET", "/v1/logs", ""), 404, 404)
	ring := logtail.NewRing(300)
	log := slog.New(logtail.Wrap(slog.NewTextHandler(&strings.Builder{}, nil), ring))
	for i := range 250 {
		log.Info("line", "i", i)
	}
	h.srv = control.NewServer(h.p, control.Options{Logs: ring})
	var got struct {
		Lines []string `json:"lines"`
	}
	h.ok("GET", "/v1/logs", "", &got)
	if len(got.Lines) != 200 || !strings.Contains(got.Lines[199], "i=249") || !strings.Contains(got.Lines[0], "i=50") {
		t.Fatalf("GET /v1/logs: %d lines, first %q last %q; want the last 200", len(got.Lines), got.Lines[0], got.Lines[len(got.Lines)-1])
	}
	h.ok("GET", "/v1/logs?n=2", "", &got)
	if len(got.Lines) != 2 || !strings.Contains(got.Lines[1], "i=249") {
		t.Fatalf("n=2: %q", got.Lines)
	}
	h.ok("GET", "/v1/logs?n=100000", "", &got)
	if len(got.Lines) != 250 {
		t.Fatalf("n over the ring's size: %d lines, want all 250 kept", len(got.Lines))
	}
	for _, n := range []string{"0", "-1", "abc", "1e3"} {
		e := h.fails("GET", "/v1/logs?n="+n, "", 400, 400)
		if !strings.Contains(e.Message, "positive number") || !strings.Contains(e.Message, "last 300 lines") {
			t.Errorf("n=%s: %q does not say what n may be", n, e.Message)
		}
	}
}

const testConfig = `# the phone under test
account:
  registrar: 127.0.0.1:5060
  user: "1001"
  password: "s3cret-sip-pw"   # the SIP password

agent:
  sdk_app_id: 1400000001
  user_id: agent1001@example.com

board: sim

audio:
  rtp_ports: 16384-16583

calls:
  ring_timeout: 20s

api:
  listen: 127.0.0.1:8080
  token: 'api-t0ken-with-"quote'
`

// configHarness serves GET/PUT /v1/config over a config file in a temp dir.
func configHarness(t *testing.T) (*harness, string) {
	h := newHarness(t, "", nil, nil)
	path := filepath.Join(t.TempDir(), "phone.yaml")
	if err := os.WriteFile(path, []byte(testConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err != nil {
		t.Fatalf("the test's config does not validate: %v", err)
	}
	h.srv = control.NewServer(h.p, control.Options{ConfigFile: path})
	return h, path
}

func putConfig(text string) string {
	b, _ := json.Marshal(map[string]string{"text": text})
	return string(b)
}

// GET /v1/config masks the secrets; a PUT of that text with a change keeps
// them and saves the change; the file keeps its comments and mode.
func TestConfigGetPut(t *testing.T) {
	h, path := configHarness(t)
	var got struct{ File, Text string }
	r := h.ok("GET", "/v1/config", "", &got)
	for _, secret := range []string{"s3cret-sip-pw", "api-t0ken"} {
		if strings.Contains(string(r.body), secret) {
			t.Fatalf("GET /v1/config shows a secret (%s): %s", secret, r.body)
		}
	}
	if got.File != path || strings.Count(got.Text, `"********"`) != 2 || !strings.Contains(got.Text, "# the SIP password") || !strings.Contains(got.Text, "\n\nagent:") {
		t.Fatalf("GET /v1/config: file %q, text:\n%s\nwant both secrets masked and the layout kept", got.File, got.Text)
	}

	edited := strings.Replace(got.Text, "ring_timeout: 20s", "ring_timeout: 45s", 1)
	var ok struct{ Status, Message string }
	h.ok("PUT", "/v1/config", putConfig(edited), &ok)
	if ok.Status != "success" || !strings.Contains(ok.Message, "after a restart") {
		t.Errorf("PUT answer %+v", ok)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the saved file does not load: %v", err)
	}
	if cfg.Calls.RingTimeout != 45*time.Second || cfg.Account.Password != "s3cret-sip-pw" || cfg.API.Token != `api-t0ken-with-"quote` {
		t.Fatalf("saved: ring_timeout %v, password %q, token %q; want the change and the old secrets", cfg.Calls.RingTimeout, cfg.Account.Password, cfg.API.Token)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("the file's mode became %v, want 0640", st.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A new secret typed in replaces the old one.
	h.ok("PUT", "/v1/config", putConfig(strings.Replace(edited, `password: "********"`, `password: "new-pw"`, 1)), &ok)
	if cfg, err := config.Load(path); err != nil || cfg.Account.Password != "new-pw" {
		t.Fatalf("after typing a new password: %v, %v", cfg, err)
	}
}

// A bad value is refused with the config's line-numbered message, and the
// file stays as it was.
func TestConfigPutInvalid(t *testing.T) {
	h, path := configHarness(t)
	var got struct{ Text string }
	h.ok("GET", "/v1/config", "", &got)
	bad := strings.Replace(got.Text, "rtp_ports: 16384-16583", "rtp_ports: 16385-16583", 1)
	r := h.do("PUT", "/v1/config", putConfig(bad))
	var e struct {
		Code     int      `json:"code"`
		Message  string   `json:"message"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != 400 || e.Code != control.ErrConfigInvalid || e.Message == "" {
		t.Fatalf("PUT with a bad rtp_ports: %v", r)
	}
	if len(e.Problems) != 1 || !strings.HasPrefix(e.Problems[0], "phone.yaml:14: audio.rtp_ports: 16385-16583 starts at an odd port") {
		t.Fatalf("problems %q, want phone.yaml:14: audio.rtp_ports: …", e.Problems)
	}
	if now, _ := os.ReadFile(path); string(now) != testConfig {
		t.Fatalf("the file changed after a refused PUT:\n%s", now)
	}
	// Not YAML at all, a mask for a secret the file does not hold, no text.
	for _, tc := range []struct{ body, want string }{
		{putConfig("account: [\n"), "phone.yaml:"},
		{putConfig(strings.Replace(got.Text, "calls:", "relay:\n  token: \"********\"\ncalls:", 1)), "relay.token: ******** stands for a secret the file does not hold"},
	} {
		r := h.do("PUT", "/v1/config", tc.body)
		if r.status != 400 || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("PUT %s: %v, want 400 naming %q", tc.body, r, tc.want)
		}
	}
	if e := h.fails("PUT", "/v1/config", `{}`, 400, 400); !strings.Contains(e.Message, `"text"`) {
		t.Errorf("PUT {}: %q", e.Message)
	}
	if now, _ := os.ReadFile(path); string(now) != testConfig {
		t.Fatal("the file changed after refused PUTs")
	}
}

// Relative paths in the new text are checked against the file's directory.
func TestConfigPutRelativePath(t *testing.T) {
	h, path := configHarness(t)
	text := strings.Replace(testConfig, `password: "s3cret-sip-pw"   # the SIP password`, "password_file: sip.secret", 1)
	if r := h.do("PUT", "/v1/config", putConfig(text)); r.status != 400 || !strings.Contains(string(r.body), "phone.yaml:5: account.password_file: cannot read "+filepath.Join(filepath.Dir(path), "sip.secret")) {
		t.Fatalf("password_file missing next to the config: %v", r)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "sip.secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.ok("PUT", "/v1/config", putConfig(text), &struct{}{})
	if cfg, err := config.Load(path); err != nil || cfg.Account.Password != "from-file" {
		t.Fatalf("after password_file: %v %v", cfg, err)
	}
}

// Without a config file the routes say so.
func TestConfigNoFile(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	for _, m := range []string{"GET", "PUT"} {
		e := h.fails(m, "/v1/config", putConfig("x: 1"), 404, 404)
		if !strings.Contains(e.Message, "not loaded from a file") {
			t.Errorf("%s: %q", m, e.Message)
		}
	}
}
