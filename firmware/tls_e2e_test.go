package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// tlsLab is Kamailio with SIP over TLS (its certificate from a CA made for
// the test) and a baresip far end registered over TLS.
func tlsLab(t *testing.T, mediaEnc string) (*labkit.Kamailio, *labkit.CA, *labkit.Baresip) {
	t.Helper()
	labkit.Require(t)
	ca, err := labkit.NewCA(filepath.Join(t.TempDir(), "ca"), "lab-ca")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue("kamailio", "127.0.0.1", "sip.lab.test")
	if err != nil {
		t.Fatal(err)
	}
	kam := privateKamailio(t, labkit.KamailioOptions{TLS: &pair})
	far, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: filepath.Join(t.TempDir(), "baresip"), User: "1002", Password: labUsers["1002"],
		Registrar: kam.TLSAddr(), TLS: true, CAFile: ca.CAFile, MediaEnc: mediaEnc,
		AnswerMode: "auto", ToneHz: 440, Codecs: "PCMU",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = far.Stop()
		if t.Failed() {
			t.Logf("baresip 1002's log:\n%s", far.Log())
		}
	})
	return kam, ca, far
}

// tlsConfig is the phone over TLS to kam, trusting caFile.
func tlsConfig(t *testing.T, kam *labkit.Kamailio, caFile string) *config.Config {
	t.Helper()
	cfg := phoneConfig(t, kam.TLSAddr(), labUsers["1001"])
	cfg.Account.Transport = "tls"
	cfg.Account.CAFile = caFile
	return cfg
}

// The phone registers over TLS, verifying Kamailio's certificate against
// the configured CA, and calls baresip (also on TLS) through it: the tone
// goes both ways.
func TestTLSRegisterAndCall(t *testing.T) {
	kam, ca, far := tlsLab(t, "")
	u := startPhone(t, tlsConfig(t, kam, ca.CAFile))
	u.registered()
	if b, err := kam.Bindings("1001"); err != nil || len(b) != 1 || !strings.Contains(strings.ToLower(b[0].Contact), "transport=tls") {
		t.Fatalf("Kamailio's binding for 1001: %v, %v; want one over TLS", b, err)
	}
	id := u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool { return u.display() != "" && strings.Contains(u.display(), "00:02") },
		func() string { return "the call did not last 2 s: " + u.display() })
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if lv := toneIn(t, u.cfg.Sim.Output, 440, 1000); lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("the phone did not hear baresip's 440 Hz over the TLS call (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
}

// A certificate from another CA, or for another name, is refused: onError
// 20001 names the certificate and what to check, the phone never
// registers, and no call is placed (nothing falls back to TCP or UDP).
func TestTLSWrongCAOrName(t *testing.T) {
	kam, ca, _ := tlsLab(t, "")
	other, err := labkit.NewCA(filepath.Join(t.TempDir(), "other"), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, caFile, serverName string }{
		{"another CA", other.CAFile, ""},
		{"wrong name", ca.CAFile, "evil.lab.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tlsConfig(t, kam, tc.caFile)
			cfg.Account.TLSServerName = tc.serverName
			u := startPhone(t, cfg)
			e := u.waitEvent(event.Error, 10*time.Second, nil)
			msg, _ := field(e.Data, "errMsg").(string)
			if field(e.Data, "errCode") != float64(phone.ErrUnregistFailure) || !strings.Contains(msg, "certificate") || !strings.Contains(msg, "account.ca_file") {
				t.Fatalf("onError = %v, want code %d naming the certificate and account.ca_file", e.Data, phone.ErrUnregistFailure)
			}
			if code, out := u.do("POST", "/v1/call", map[string]string{"to": "1002"}); code == 200 {
				t.Fatalf("a call was placed without a trusted registrar: %v", out)
			}
			if b, _ := kam.Bindings("1001"); len(b) != 0 {
				t.Fatalf("Kamailio holds a binding for 1001: %v", b)
			}
			if strings.Contains(u.eventLog(), `"state":"registered"`) {
				t.Fatalf("the phone registered:\n%s", u.eventLog())
			}
		})
	}
}

// Over TCP and TLS the keepalive is RFC 5626's CRLF ping on the
// registration's own connection: Kamailio answers each with a pong, so a
// healthy registrar is never reported lost; a registrar that stops
// (SIGSTOP) misses the pong, and the loss is reported within about one
// keepalive, with the reason.
func TestKeepaliveCRLFOverStreams(t *testing.T) {
	kam, ca, _ := tlsLab(t, "")
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
			cfg.Account.Transport = transport
			if transport == "tls" {
				cfg = tlsConfig(t, kam, ca.CAFile)
			}
			cfg.Account.Keepalive = time.Second
			u := startPhone(t, cfg)
			u.registered()
			// Three keepalives of a healthy registrar: each pinged,
			// each answered, none reported lost.
			time.Sleep(3 * time.Second)
			if strings.Contains(u.eventLog(), event.ConnectionLost) {
				t.Fatalf("a healthy registrar was reported lost:\n%s", u.eventLog())
			}
			if err := kam.Pause(); err != nil {
				t.Fatal(err)
			}
			paused := time.Now()
			lost := u.waitEvent(event.ConnectionLost, 10*time.Second, nil)
			_ = kam.Continue()
			reason, _ := field(lost.Data, "reason").(string)
			t.Logf("%s: the stopped registrar was reported lost after %v: %s", transport, lost.Time.Sub(paused).Round(time.Millisecond), reason)
			if !strings.Contains(reason, "CRLF pong") {
				t.Errorf("onConnectionLost's reason %q does not say the CRLF pong was missed", reason)
			}
			u.waitEvent(event.ConnectionRecovery, 30*time.Second, nil)
		})
	}
}
