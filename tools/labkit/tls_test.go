package labkit

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsLab is Kamailio with SIP over TLS, its certificate signed by a CA made
// for the test.
func tlsLab(t *testing.T, users map[string]string) (*Kamailio, *CA) {
	t.Helper()
	Require(t)
	ca, err := NewCA(filepath.Join(t.TempDir(), "ca"), "lab-ca")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue("kamailio", "127.0.0.1", "sip.lab.test")
	if err != nil {
		t.Fatal(err)
	}
	return startKamailio(t, KamailioOptions{Users: users, TLS: &pair}), ca
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return p
}

// Kamailio answers SIP over TLS with the lab CA's certificate: a client
// that trusts the CA and checks the name gets an answer to OPTIONS; one
// with another CA, or another name, fails the handshake.
func TestKamailioTLS(t *testing.T) {
	k, ca := tlsLab(t, map[string]string{"1001": "pw1"})
	other, err := NewCA(filepath.Join(t.TempDir(), "other"), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, server, caFile string
		ok                   bool
	}{
		{"lab CA, by IP", "127.0.0.1", ca.CAFile, true},
		{"lab CA, by name", "sip.lab.test", ca.CAFile, true},
		{"lab CA, wrong name", "evil.test", ca.CAFile, false},
		{"another CA", "127.0.0.1", other.CAFile, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", k.TLSAddr(), &tls.Config{RootCAs: pool(t, tc.caFile), ServerName: tc.server, MinVersion: tls.VersionTLS12})
			if !tc.ok {
				if err == nil {
					_ = conn.Close()
					t.Fatal("the handshake succeeded")
				}
				t.Logf("refused as it should be: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			local := conn.LocalAddr().String()
			_, _ = conn.Write([]byte("OPTIONS sip:" + k.TLSAddr() + ";transport=tls SIP/2.0\r\n" +
				"Via: SIP/2.0/TLS " + local + ";branch=z9hG4bK-tls-1;rport\r\nMax-Forwards: 70\r\n" +
				"From: <sip:labkit@127.0.0.1>;tag=t\r\nTo: <sip:" + k.TLSAddr() + ">\r\nCall-ID: tls-probe\r\n" +
				"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
				t.Fatalf("OPTIONS over TLS answered %q, %v", line, err)
			}
		})
	}
}

// Two baresips register over TLS and call each other with mandatory
// SDES-SRTP: the lab for the phone's TLS+SRTP calls works on its own.
func TestBaresipTLSAndSRTP(t *testing.T) {
	users := map[string]string{"1002": "pw2", "1003": "pw3"}
	k, ca := tlsLab(t, users)
	start := func(user string) *Baresip {
		b, err := StartBaresip(BaresipOptions{
			Dir: filepath.Join(t.TempDir(), "baresip-"+user), User: user, Password: users[user],
			Registrar: k.TLSAddr(), TLS: true, CAFile: ca.CAFile, MediaEnc: "srtp-mand",
			AnswerMode: "auto", Codecs: "PCMU",
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = b.Stop()
			if t.Failed() {
				t.Logf("baresip %s log:\n%s", user, b.Log())
			}
		})
		return b
	}
	a, b := start("1002"), start("1003")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	establish(t, ctx, a, b)
	for _, x := range []*Baresip{a, b} {
		if !strings.Contains(strings.ToLower(x.Log()), "srtp") {
			t.Errorf("baresip %s's log never mentions SRTP:\n%s", x.opts.User, x.Log())
		}
	}
}
