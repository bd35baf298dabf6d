package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/config/provision"
	"deskphone/phone"
	"deskphone/tools/labkit"
)

// The phone boots from a local file whose SIP password is stale; the
// provisioning server's per-MAC file (over HTTPS, private CA) gives the
// right one, a display name and a 2 s ring timeout. It registers to
// Kamailio with them, an unanswered call ends after 2 s, and POST
// /v1/provision sees no change, then the server's next one.
func TestProvisionedBoot(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1003", "manual", 440)
	dir := t.TempDir()
	caFile, cert := testPKI(t, dir)

	const mac = "0c1a2b3c4d5e"
	var mu sync.Mutex
	files := map[string]string{mac + ".yaml": `account:
  password: "pw-1001"
  display_name: "Provisioned 1001"
calls:
  ring_timeout: 2s
`}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, ok := files[strings.TrimPrefix(r.URL.Path, "/deskphone/")]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	local := labkit.PhoneConfig{
		User: "1001", Password: "stale-password", Registrar: kam.Addr(),
		HeardWAV: filepath.Join(dir, "heard.wav"), API: fmt.Sprintf("127.0.0.1:%d", labkit.FreePort("tcp")),
		RingTimeout: "20s", AnswerTimeout: "20s",
	}.YAML() + fmt.Sprintf(`
provisioning:
  url: %s/deskphone/
  ca_file: %s
  store: provisioned.yaml
  mac: %s
`, srv.URL, caFile, mac)
	path := filepath.Join(dir, "phone.yaml")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := provision.Load(context.Background(), path, slog.New(slog.NewTextHandler(testWriter{t, &written{}}, nil)))
	if err != nil {
		t.Fatalf("provisioned boot: %v", err)
	}
	if cfg.Account.DisplayName != "Provisioned 1001" || cfg.Calls.RingTimeout != 2*time.Second || cfg.Account.Password != "pw-1001" {
		t.Fatalf("provisioned values not applied: display %q ring %v", cfg.Account.DisplayName, cfg.Calls.RingTimeout)
	}

	u := startPhone(t, cfg)
	u.registered() // with the provisioned password: the local one would get 401

	if err := far.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	ns := u.waitEvent("onNewSession", 10*time.Second, nil)
	began := time.Now()
	u.wantEnded(field(ns.Data, "sessionId").(string), phone.EndTimeout)
	if rang := time.Since(began); rang > 5*time.Second {
		t.Errorf("the call rang %s; the provisioned ring_timeout is 2s (the local file's 20s)", rang)
	}

	if out := u.must("POST", "/v1/provision", nil); out["changed"] != false || out["stored"] != false {
		t.Errorf("POST /v1/provision with the same file: %v; want changed and stored false", out)
	}
	mu.Lock()
	files[mac+".yaml"] = strings.Replace(files[mac+".yaml"], "2s", "3s", 1)
	mu.Unlock()
	out := u.must("POST", "/v1/provision", nil)
	if out["changed"] != true || out["stored"] != true || out["applies"] != "at the next restart" {
		t.Errorf("POST /v1/provision with a new file: %v; want changed, stored, at the next restart", out)
	}
	if stored, err := os.ReadFile(filepath.Join(dir, "provisioned.yaml")); err != nil || !strings.Contains(string(stored), "ring_timeout: 3s") {
		t.Errorf("store after the new file: %q, %v", stored, err)
	}
	mu.Lock()
	files[mac+".yaml"] = "calls:\n  ring_timeout: forever\n"
	mu.Unlock()
	code, bad := u.do("POST", "/v1/provision", nil)
	if msg, _ := bad["message"].(string); code != http.StatusUnprocessableEntity || !strings.Contains(msg, mac+".yaml:2: calls.ring_timeout: 'forever' is not a duration") {
		t.Errorf("POST /v1/provision with a bad file: %d %v; want 422 naming the file and line", code, bad)
	}
}

// testPKI writes a CA's PEM file into dir and returns it with a server
// certificate for 127.0.0.1 that the CA signed.
func testPKI(t *testing.T, dir string) (string, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "provisioning test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "prov-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
