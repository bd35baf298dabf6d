package labkit

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func startKamailio(t *testing.T, opts KamailioOptions) *Kamailio {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	k, err := StartKamailio(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log())
		}
	})
	return k
}

// sipsakRegister registers user with sipsak and returns its exit code.
func sipsakRegister(t *testing.T, k *Kamailio, user, password string, localPort int) int {
	t.Helper()
	cmd := exec.Command("sipsak", "-U", "-s", "sip:"+user+"@"+k.Addr(), "-a", password, "-l", strconv.Itoa(localPort))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return 0
	}
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		t.Fatalf("sipsak: %v: %s", err, out)
	}
	t.Logf("sipsak exit %d: %s", ee.ExitCode(), out)
	return ee.ExitCode()
}

func TestKamailioRegistersWithDigestAuth(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "right-pw"}})

	if code := sipsakRegister(t, k, "1001", "wrong-pw", FreePort("udp")); code == 0 {
		t.Fatal("registration with a wrong password succeeded")
	}
	if b, err := k.Bindings("1001"); err != nil || len(b) != 0 {
		t.Fatalf("after the rejected registration: bindings %+v, %v; want none", b, err)
	}

	port := FreePort("udp")
	if code := sipsakRegister(t, k, "1001", "right-pw", port); code != 0 {
		t.Fatalf("registration with the right password: sipsak exit %d", code)
	}
	b, err := k.Bindings("1001")
	if err != nil {
		t.Fatal(err)
	}
	// sipsak's usrloc mode leaves its binding registered.
	for _, c := range b {
		if !strings.Contains(c.Contact, ":"+strconv.Itoa(port)) || c.Expires <= 0 {
			t.Errorf("binding %+v is not sipsak's (port %d)", c, port)
		}
	}
	if len(b) == 0 {
		t.Errorf("no binding for 1001 after sipsak registered")
	}
}

// sipClient is a bare sipgo UAC for probing Kamailio's policy.
func sipClient(t *testing.T) *sipgo.Client {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("labkit-test"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname(Domain))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); ua.Close() })
	return c
}

// request builds method from user to toUser, both on Kamailio's domain.
func request(k *Kamailio, method sip.RequestMethod, user, toUser string) *sip.Request {
	to := sip.Uri{Scheme: "sip", User: toUser, Host: Domain, Port: k.Port()}
	req := sip.NewRequest(method, to)
	from := sip.Uri{Scheme: "sip", User: user, Host: Domain}
	params := sip.NewParams()
	params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&sip.FromHeader{Address: from, Params: params})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: toUser, Host: Domain}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: Domain, Port: 5999}})
	return req
}

func TestKamailioChallengesWithSHA256(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1"}, Algorithm: "SHA-256"})
	c := sipClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := request(k, sip.REGISTER, "1001", "1001")
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	chal := res.GetHeader("WWW-Authenticate")
	if res.StatusCode != 401 || chal == nil || !strings.Contains(chal.Value(), "algorithm=SHA-256") {
		t.Fatalf("REGISTER without credentials: %d %v; want 401 with a SHA-256 challenge", res.StatusCode, chal)
	}
	bad, err := c.DoDigestAuth(ctx, req.Clone(), res, sipgo.DigestAuth{Username: "1001", Password: "nope"})
	if err != nil || bad.StatusCode != 401 {
		t.Fatalf("SHA-256 answer with a wrong password: %v, %v; want 401", bad, err)
	}
	ok, err := c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "1001", Password: "pw1"})
	if err != nil || ok.StatusCode != 200 {
		t.Fatalf("SHA-256 answer with the right password: %v, %v; want 200", ok, err)
	}
	if b, err := k.Bindings("1001"); err != nil || len(b) != 1 || !strings.Contains(b[0].Contact, ":5999") {
		t.Fatalf("bindings after SHA-256 registration: %+v, %v", b, err)
	}
}

func TestKamailioProxyAuthAndRouting(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1", "1002": "pw2"}, ProxyAuth: true})
	c := sipClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		to   string
		want int // after authenticating
	}{
		{"1002", 480}, // known but not registered
		{"9999", 404}, // not a user of this registrar
	} {
		req := request(k, sip.INVITE, "1001", tc.to)
		res, err := c.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 407 || res.GetHeader("Proxy-Authenticate") == nil {
			t.Fatalf("INVITE 1001→%s without credentials: %d; want 407 with Proxy-Authenticate", tc.to, res.StatusCode)
		}
		res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "1001", Password: "pw1"})
		if err != nil || res.StatusCode != tc.want {
			t.Fatalf("INVITE 1001→%s with credentials: %v, %v; want %d", tc.to, res, err, tc.want)
		}
	}

	// Strangers are routed without a challenge (the proxy guards only its users).
	res, err := c.Do(ctx, request(k, sip.INVITE, "alice", "1002"))
	if err != nil || res.StatusCode != 480 {
		t.Fatalf("INVITE alice→1002: %v, %v; want 480 without a challenge", res, err)
	}
}

// registerContact registers sip:user@127.0.0.1:port as user's contact, so
// the proxy routes user's calls to whatever listens there (a SIPp UAS).
func registerContact(t *testing.T, k *Kamailio, user, password string, port int) {
	t.Helper()
	c := sipClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := request(k, sip.REGISTER, user, user)
	req.ReplaceHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: Domain, Port: port}})
	res, err := c.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER %s at port %d: %v, %v", user, port, res, err)
	}
}

// Every in-dialog request the phone may send or receive — re-INVITE,
// UPDATE, INFO, OPTIONS, REFER, NOTIFY (callee to caller), BYE — follows
// the record-route through Kamailio (loose_route), in both directions.
func TestKamailioRoutesInDialogRequests(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1", "1003": "pw3"}, ProxyAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uas := startSIPp(t, SIPpOptions{Scenario: testScenario(t, "dialog_uas.xml")})
	registerContact(t, k, "1003", "pw3", uas.Port())

	uac := startSIPp(t, SIPpOptions{Scenario: testScenario(t, "dialog_uac.xml"), Remote: k.Addr(), Service: "1003"})
	if err := uac.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Each request arrived with Kamailio's Via on top: it was proxied.
	via := "127.0.0.1:" + strconv.Itoa(k.Port())
	for _, side := range []struct {
		s       *SIPp
		methods []string
	}{
		{uas, []string{"INVITE", "ACK", "UPDATE", "INFO", "OPTIONS", "REFER", "BYE"}},
		{uac, []string{"NOTIFY"}},
	} {
		for _, m := range side.methods {
			got := side.s.Received(m)
			if len(got) == 0 {
				t.Errorf("%s: no %s received", filepath.Base(side.s.stem), m)
			}
			for _, r := range got {
				if !strings.Contains(r.Header("Via"), via) {
					t.Errorf("%s received %s not through Kamailio: Via %q", filepath.Base(side.s.stem), m, r.Header("Via"))
				}
			}
		}
	}
	if n := len(uas.Received("INVITE")); n != 2 {
		t.Errorf("callee received %d INVITEs, want the call and one re-INVITE", n)
	}
}
