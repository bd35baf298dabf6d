package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
)

// written collects everything a phone under test wrote — its log at the
// level the test runs, every event on its bus, every control API answer —
// so that each test ends by checking that no secret is among it
// (issue 14: passwords and tokens never appear in logs, state or events).
type written struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *written) add(p []byte) {
	if w == nil { // a dut built by hand (systemd_test.go) records nothing
		return
	}
	w.mu.Lock()
	w.buf.Write(p)
	w.buf.WriteByte('\n')
	w.mu.Unlock()
}

// size is how many bytes have been recorded.
func (w *written) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Len()
}

func (w *written) event(e event.Event) {
	b, _ := json.Marshal(e)
	w.add(b)
}

// checkSecrets fails the test if anything the phone wrote holds one of
// its secrets: the account password, the API and relay tokens, and every
// lab user's password (a phone must not echo a far end's either).
func (w *written) checkSecrets(t *testing.T, cfg *config.Config) {
	t.Helper()
	secrets := map[string]string{
		"account.password": cfg.Account.Password,
		"api.token":        cfg.API.Token,
		"relay.token":      cfg.Relay.Token,
	}
	for user, pw := range labUsers {
		secrets["the password of lab user "+user] = pw
	}
	w.mu.Lock()
	text := w.buf.String()
	w.mu.Unlock()
	// SDES-SRTP keys (RFC 4568) are written "inline:KEY" in SDP: none may
	// reach a log, an event or an API answer (media.Crypto prints <secret>).
	for rest := text; ; {
		i := strings.Index(rest, "inline:")
		if i < 0 {
			break
		}
		if !strings.HasPrefix(rest[i:], "inline:<secret>") {
			t.Errorf("the phone wrote an SRTP key (a=crypto inline:) in its logs, events or API answers:\n…%sinline:«the key»", rest[max(0, i-80):i])
			break
		}
		rest = rest[i+len("inline:"):]
	}
	for what, s := range secrets {
		if len(s) < 4 {
			continue // too short to tell from ordinary text
		}
		if i := strings.Index(text, s); i >= 0 {
			from, to := max(0, i-120), min(len(text), i+len(s)+40)
			t.Errorf("the phone wrote %s in its logs, events or API answers:\n…%s…", what, strings.ReplaceAll(text[from:to], s, "«"+what+"»"))
		}
	}
}

// At debug level, through a login, a call that Kamailio challenges (407)
// and every read-only route, the phone writes none of its secrets: the
// digest exchange shows only hashes. (/v1/config, which masks them, needs
// a config file: TestWebPage reads it; and every test's own output is
// checked the same way at its end.)
func TestSecretsAtDebugLevel(t *testing.T) {
	t.Setenv("DESKPHONE_DEBUG", "1")
	kam := kamailio(t) // challenges INVITEs with 407
	farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.API.Token = "api-secret-t0ken-0123456789"
	u := startPhone(t, cfg)
	u.registered()
	code, body := u.authed(cfg.API.Token, "POST", "/v1/call", map[string]string{"to": "1002"})
	if code != http.StatusOK {
		t.Fatalf("call → %d %s", code, body)
	}
	var call struct{ SessionID string }
	_ = json.Unmarshal([]byte(body), &call)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(call.SessionID))
	for _, path := range []string{"/v1/state", "/v1/history", "/v1/logs", "/metrics"} {
		if code, body := u.authed(cfg.API.Token, "GET", path, nil); code != http.StatusOK {
			t.Errorf("GET %s → %d %s", path, code, body)
		}
	}
	if code, body := u.authed(cfg.API.Token, "POST", "/v1/terminate", map[string]string{"sessionId": call.SessionID}); code != http.StatusOK {
		t.Fatalf("terminate → %d %s", code, body)
	}
	u.wantEnded(call.SessionID, phone.EndLocalBye)
	// The check itself runs at the end of the test (startPhone's cleanup);
	// make sure it has something to look at.
	u.out.mu.Lock()
	n := u.out.buf.Len()
	u.out.mu.Unlock()
	if n < 1000 {
		t.Fatalf("the phone wrote only %d bytes at debug level: the check would see nothing", n)
	}
}
