package sipua

import (
	"context"
	"net"
	"regexp"
	"testing"
	"time"

	"deskphone/tools/labkit"
)

func startKamailio(t *testing.T, opts labkit.KamailioOptions) *labkit.Kamailio {
	t.Helper()
	labkit.Require(t)
	opts.Dir = t.TempDir()
	k, err := labkit.StartKamailio(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	return k
}

func newUA(t *testing.T, k *labkit.Kamailio, transport, password string) *UA {
	t.Helper()
	u, err := New(Config{
		Registrar: k.Addr(), Domain: k.Domain(), User: "1001", AuthUser: "1001", Password: password,
		Transport: transport, Listen: "127.0.0.1:0", Expires: 60,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// waitState waits for a registration state and returns its status.
func waitState(t *testing.T, ch <-chan RegStatus, want RegState) RegStatus {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-ch:
			if st.State == want {
				return st
			}
		case <-timeout:
			t.Fatalf("registration never reached %s", want)
		}
	}
}

// Digest auth against real Kamailio: MD5 and SHA-256 challenges, UDP and
// TCP, a wrong password, and un-REGISTER.
func TestRegisterAgainstKamailio(t *testing.T) {
	users := map[string]string{"1001": "secret-1001"}
	for _, tc := range []struct{ name, alg, transport string }{
		{"md5-udp", "", "udp"},
		{"md5-tcp", "MD5", "tcp"},
		{"sha256-udp", "SHA-256", "udp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := startKamailio(t, labkit.KamailioOptions{Users: users, Algorithm: tc.alg})
			if tc.alg != "" {
				if got := challengeAlgorithm(t, k.Addr()); got != tc.alg {
					t.Fatalf("Kamailio challenges with %q, want %q", got, tc.alg)
				}
			}
			u := newUA(t, k, tc.transport, users["1001"])
			ch := make(chan RegStatus, 16)
			r := u.Register(func(_, s RegStatus) { ch <- s })
			st := waitState(t, ch, Registered)
			if st.Expires <= 0 || st.Expires > 60 {
				t.Errorf("granted expiry %d", st.Expires)
			}
			b, err := k.Bindings("1001")
			if err != nil || len(b) != 1 {
				t.Fatalf("bindings = %v, %v; want one", b, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if b, _ := k.Bindings("1001"); len(b) != 0 {
				t.Fatalf("un-REGISTER left %v", b)
			}
		})
	}
	t.Run("wrong-password", func(t *testing.T) {
		k := startKamailio(t, labkit.KamailioOptions{Users: users})
		u := newUA(t, k, "udp", "wrong")
		ch := make(chan RegStatus, 16)
		r := u.Register(func(_, s RegStatus) { ch <- s })
		defer func() { _ = r.Stop(context.Background()) }() // un-registering a failed registration: nothing to check
		st := waitState(t, ch, RegFailed)
		if st.Code != 401 && st.Code != 403 {
			t.Fatalf("wrong password gave %d %s, want 401 or 403", st.Code, st.Reason)
		}
		if st.Retry <= 0 {
			t.Errorf("no back-off retry scheduled: %+v", st)
		}
	})
}

// challengeAlgorithm sends a bare REGISTER and reads the digest algorithm
// of the 401 challenge, so the SHA-256 case provably answers SHA-256.
func challengeAlgorithm(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	req := "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-probe1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=probe\r\nTo: <sip:1001@127.0.0.1>\r\n" +
		"Call-ID: probe-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@" + local + ">\r\n" +
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to the probe: %v", err)
	}
	m := regexp.MustCompile(`(?i)algorithm=("?)([A-Z0-9-]+)`).FindStringSubmatch(string(buf[:n]))
	if m == nil {
		return "MD5" // RFC 2617: absent means MD5
	}
	return m[2]
}
