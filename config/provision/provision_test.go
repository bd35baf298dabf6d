package provision

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
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

	"deskphone/config"
)

const testMAC = "0c1a2b3c4d5e"

// ca is a test certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string // path of its PEM file
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deskphone test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &ca{cert: cert, key: key, pem: path}
}

// leaf is a server certificate for names (IP addresses or DNS names).
func (c *ca) leaf(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// provServer is an HTTPS provisioning server on 127.0.0.1 serving files
// under /deskphone/.
type provServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]string
	got   []string // paths asked for
}

func newServer(t *testing.T, cert tls.Certificate, files map[string]string) *provServer {
	t.Helper()
	s := &provServer{files: files}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got = append(s.got, r.URL.Path)
		body, ok := s.files[strings.TrimPrefix(r.URL.Path, "/deskphone/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *provServer) set(name, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body == "" {
		delete(s.files, name)
	} else {
		s.files[name] = body
	}
}

func (s *provServer) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *provServer) base() string { return s.URL + "/deskphone/" }

// phone is a local config file pointing at the server; its store is in
// the same temporary directory.
type phone struct {
	path, store string
}

// localBody is a local file the provisioned one completes: no password.
const localBody = `account:
  registrar: 127.0.0.1:5060
  user: "1001"
  display_name: Local Name
agent:
  sdk_app_id: 1400000001
  user_id: agent1001@example.com
api:
  token: local-token-0123456789
provisioning:
  url: %s
  ca_file: %s
  store: provisioned.yaml
  mac: %s
%s`

func newPhone(t *testing.T, url, caFile, extra string) phone {
	t.Helper()
	dir := t.TempDir()
	p := phone{path: filepath.Join(dir, "phone.yaml"), store: filepath.Join(dir, "provisioned.yaml")}
	if err := os.WriteFile(p.path, []byte(fmt.Sprintf(localBody, url, caFile, testMAC, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logTo records the log, to show what fell back and why.
func logTo() (*slog.Logger, func() string) {
	var mu sync.Mutex
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &b}, nil)), func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

const macFile = `account:
  password: pw-mac
  display_name: Per MAC
calls:
  ring_timeout: 12s
`

const commonFile = `account:
  password: pw-common
  display_name: Common
`

func load(t *testing.T, p phone, log *slog.Logger) *config.Config {
	t.Helper()
	cfg, err := Load(context.Background(), p.path, log)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestPerMACFileWins(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": macFile, "deskphone.yaml": commonFile})
	p := newPhone(t, srv.base(), ca.pem, "")
	cfg := load(t, p, quiet())
	if cfg.Account.DisplayName != "Per MAC" || cfg.Account.Password != "pw-mac" || cfg.Calls.RingTimeout != 12*time.Second {
		t.Errorf("got display %q password %q ring %v; want the per-MAC file's", cfg.Account.DisplayName, cfg.Account.Password, cfg.Calls.RingTimeout)
	}
	if cfg.Account.User != "1001" || cfg.API.Token != "local-token-0123456789" || cfg.File != p.path {
		t.Errorf("local values lost: user %q token %q file %q", cfg.Account.User, cfg.API.Token, cfg.File)
	}
	if got := srv.asked(); len(got) != 1 || got[0] != "/deskphone/"+testMAC+".yaml" {
		t.Errorf("asked for %v; want only the per-MAC file", got)
	}
	stored, err := os.ReadFile(p.store)
	if err != nil || string(stored) != macFile {
		t.Errorf("store holds %q (%v); want the per-MAC file", stored, err)
	}
	if fi, err := os.Stat(p.store); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode: %v %v; want 0600", fi.Mode(), err)
	}
}

func TestCommonFileWhenNoPerMACFile(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{"deskphone.yaml": commonFile})
	p := newPhone(t, srv.base(), ca.pem, "")
	cfg := load(t, p, quiet())
	if cfg.Account.DisplayName != "Common" || cfg.Account.Password != "pw-common" {
		t.Errorf("got %q/%q; want the common file's", cfg.Account.DisplayName, cfg.Account.Password)
	}
	want := []string{"/deskphone/" + testMAC + ".yaml", "/deskphone/deskphone.yaml"}
	if got := srv.asked(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("asked for %v; want %v", got, want)
	}
}

// A bad provisioned file is refused with the config package's message,
// naming the file's URL and line; the previous file stays in use and stored.
func TestCorruptFileRefused(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"bad YAML", "account:\n  password: pw\n display_name: [x\n", ":3: YAML syntax error"},
		{"unknown key", "account:\n  password: pw\ncalls:\n  ring_timout: 10s\n", ":4: calls.ring_timout: unknown key"},
		{"invalid value", "account:\n  password: pw\n  transport: sctp\n", ":3: account.transport: 'sctp' is not supported; use udp, tcp or tls"},
		{"not a mapping", "- a\n- b\n", ":1: expected a mapping of sections"},
		{"too large", "# " + strings.Repeat("x", MaxFile) + "\n", ": is larger than 256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newCA(t)
			srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": macFile})
			p := newPhone(t, srv.base(), ca.pem, "")
			good := load(t, p, quiet())
			prov := New(good, quiet())

			srv.set(testMAC+".yaml", tc.body)
			_, err := prov.Fetch(context.Background())
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Fetch of a corrupt file: %v; want a *config.Error", err)
			}
			if want := srv.base() + testMAC + ".yaml" + tc.want; !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, want)
			}
			if stored, _ := os.ReadFile(p.store); string(stored) != macFile {
				t.Errorf("the store changed to %q", stored)
			}

			log, logged := logTo()
			cfg := load(t, p, log)
			if cfg.Account.DisplayName != "Per MAC" || cfg.Calls.RingTimeout != 12*time.Second {
				t.Errorf("after a refused file: display %q ring %v; want the previous (stored) configuration", cfg.Account.DisplayName, cfg.Calls.RingTimeout)
			}
			if l := logged(); !strings.Contains(l, "using the stored provisioned configuration") {
				t.Errorf("log does not say the stored file is used:\n%s", l)
			}
		})
	}
}

// Problems in both files are reported together, each with its own file.
func TestProblemsNameTheirFile(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{"deskphone.yaml": "account:\n  password: pw\n  expires: 0\n"})
	p := newPhone(t, srv.base(), ca.pem, "calls:\n  max_lines: 9\n")
	_, err := Load(context.Background(), p.path, quiet())
	if err == nil {
		t.Fatal("Load accepted a bad configuration")
	}
	for _, want := range []string{
		p.path + ":16: calls.max_lines: 9 is out of range",
		srv.base() + "deskphone.yaml:3: account.expires: 0 is out of range",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n%v\nwant it to contain %q", err, want)
		}
	}
}

func TestWrongCertificateRefused(t *testing.T) {
	ours, other := newCA(t), newCA(t)
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		want string
	}{
		{"another CA", other.leaf(t, "127.0.0.1"), "certificate signed by unknown authority"},
		{"wrong host", ours.leaf(t, "127.0.0.2"), "certificate is valid for 127.0.0.2, not 127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.cert, map[string]string{testMAC + ".yaml": macFile})
			p := newPhone(t, srv.base(), ours.pem, "")
			_, err := New(&config.Config{File: p.path}, quiet()).Fetch(context.Background())
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fetch: %v; want ErrUnreachable with %q", err, tc.want)
			}
			if _, err := os.Stat(p.store); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("something was stored: %v", err)
			}
			// At boot, with nothing stored, the local file alone lacks the password.
			if _, err := Load(context.Background(), p.path, quiet()); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "account.password: missing") {
				t.Errorf("Load: %v; want the TLS failure and the local file's missing password", err)
			}
		})
	}
}

func TestServerDownUsesStore(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": macFile})
	p := newPhone(t, srv.base(), ca.pem, "")
	load(t, p, quiet())
	srv.Close()
	log, logged := logTo()
	cfg := load(t, p, log)
	if cfg.Account.DisplayName != "Per MAC" || cfg.Account.Password != "pw-mac" {
		t.Errorf("server down: got %q/%q; want the stored file's", cfg.Account.DisplayName, cfg.Account.Password)
	}
	if l := logged(); !strings.Contains(l, "using the stored provisioned configuration") || !strings.Contains(l, "connection refused") {
		t.Errorf("log does not say why the stored file is used:\n%s", l)
	}
}

func TestMergeRule(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": `
account:
  password: pw-server
  display_name: Server Name
  transport: tcp
api:
  token: server-token-0123456789
provisioning:
  url: https://evil.example.com/
  store: /tmp/elsewhere.yaml
agent:
  rest_reasons: [Lunch]
calls:
audio:
  sim:
    input: silence
`})
	p := newPhone(t, srv.base(), ca.pem, "  keep_local: [api.token, account.display_name]\ncalls:\n  max_lines: 3\n")
	body, _ := os.ReadFile(p.path)
	body = bytes.Replace(body, []byte("  display_name: Local Name\n"), []byte("  display_name: Local Name\n  password: pw-local\n"), 1)
	if err := os.WriteFile(p.path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(context.Background(), p.path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"account.password (leaf: server wins)", cfg.Account.Password, "pw-server"},
		{"account.display_name (keep_local)", cfg.Account.DisplayName, "Local Name"},
		{"account.transport (added)", cfg.Account.Transport, "tcp"},
		{"account.user (local only)", cfg.Account.User, "1001"},
		{"api.token (keep_local)", cfg.API.Token, "local-token-0123456789"},
		{"provisioning.url (never from the server)", cfg.Provisioning.URL, srv.base()},
		{"provisioning.store", cfg.Provisioning.Store, p.store},
		{"agent.rest_reasons (a list is one leaf)", strings.Join(cfg.Agent.RestReasons, ","), "Lunch"},
		{"calls.max_lines (an empty section changes nothing)", fmt.Sprint(cfg.Calls.MaxLines), "3"},
		{"audio.sim.input (nested; the old place of sim:)", cfg.Sim.Input, "silence"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	res, err := New(cfg, quiet()).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"account.display_name: kept local by provisioning.keep_local",
		"api.token: kept local by provisioning.keep_local",
		"provisioning: provisioning keys are always local",
	}
	if fmt.Sprint(res.Ignored) != fmt.Sprint(want) {
		t.Errorf("ignored = %q\nwant %q", res.Ignored, want)
	}
}

// keep_local of a secret also keeps its _file twin, so the server cannot
// make both set.
func TestKeepLocalSecretTwin(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": "account:\n  password: pw\napi:\n  token_file: /nonexistent\n"})
	p := newPhone(t, srv.base(), ca.pem, "  keep_local: [api.token]\n")
	cfg := load(t, p, quiet())
	if cfg.API.Token != "local-token-0123456789" || cfg.API.TokenFile != "" {
		t.Errorf("api token %q file %q; want the local token", cfg.API.Token, cfg.API.TokenFile)
	}
}

func TestFetchOnDemand(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": macFile})
	p := newPhone(t, srv.base(), ca.pem, "")
	h := New(load(t, p, quiet()), quiet())

	post := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/provision", nil))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
		return rec.Code, out
	}
	if code, out := post(); code != 200 || out["changed"] != false || out["stored"] != false || out["applies"] != "at the next restart" {
		t.Errorf("same file: %d %v; want 200, changed false, stored false", code, out)
	}
	srv.set(testMAC+".yaml", strings.Replace(macFile, "12s", "14s", 1))
	if code, out := post(); code != 200 || out["changed"] != true || out["stored"] != true || out["source"] != srv.base()+testMAC+".yaml" {
		t.Errorf("new file: %d %v; want 200, changed and stored", code, out)
	}
	if stored, _ := os.ReadFile(p.store); !strings.Contains(string(stored), "14s") {
		t.Errorf("store not updated: %q", stored)
	}
	srv.set(testMAC+".yaml", "calls:\n  ring_timeout: soon\n")
	if code, out := post(); code != 422 || out["code"] != float64(CodeRefused) || !strings.Contains(fmt.Sprint(out["message"]), testMAC+".yaml:2: calls.ring_timeout: 'soon' is not a duration") {
		t.Errorf("bad file: %d %v; want 422 naming the file and line", code, out)
	}
	srv.Close()
	if code, out := post(); code != 502 || out["code"] != float64(CodeUnreachable) {
		t.Errorf("server down: %d %v; want 502", code, out)
	}
	if code, out := func() (int, map[string]any) {
		h := New(&config.Config{}, quiet())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/provision", nil))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return rec.Code, out
	}(); code != 409 || out["code"] != float64(CodeNotConfigured) {
		t.Errorf("no config file: %d %v; want 409", code, out)
	}
}

// DHCP option 66, as the DHCP client's hook writes it, names the server
// when provisioning.url is not set; plain http is allowed on loopback.
func TestDHCPOption66AndLoopbackHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prov/deskphone.yaml" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, commonFile)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	opt := filepath.Join(dir, "option66")
	if err := os.WriteFile(opt, []byte(srv.URL+"/prov\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "phone.yaml")
	body := strings.Replace(fmt.Sprintf(localBody, `""`, `""`, testMAC, "  dhcp_file: option66\n"), "  ca_file: \"\"\n", "", 1)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(context.Background(), path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Account.DisplayName != "Common" {
		t.Errorf("display %q; want the common file's via option 66", cfg.Account.DisplayName)
	}
	// Without the option, provisioning is off: the local file alone, which lacks a password.
	os.Remove(opt)
	if _, err := Load(context.Background(), path, quiet()); err == nil || !strings.Contains(err.Error(), path+":1: account.password: missing") {
		t.Errorf("no option 66: %v; want the local file's own problem", err)
	}
	// Plain http off loopback is refused, from DHCP too.
	if err := os.WriteFile(opt, []byte("http://10.1.2.3/prov"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(&config.Config{File: path}, quiet()).Fetch(context.Background())
	if !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "in clear over the network; use https://") {
		t.Errorf("http off loopback: %v", err)
	}
}

// The store is replaced atomically: a reader sees the old file or the new
// one, never a mix; nothing is left behind; the file stays 0600.
func TestStoreAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "provisioned.yaml")
	a, b := bytes.Repeat([]byte("a"), 200<<10), bytes.Repeat([]byte("b"), 100<<10)
	if err := store(path, a); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var bad []string
	go func() {
		defer close(done)
		for i := range 200 {
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, a) && !bytes.Equal(got, b) {
				bad = append(bad, fmt.Sprintf("read %d: %d bytes, %v", i, len(got), err))
			}
		}
	}()
	for i := range 50 {
		if err := store(path, [][]byte{a, b}[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if len(bad) > 0 {
		t.Errorf("torn reads: %v", bad)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left in the store's directory: %v", entries)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	if wrote, err := storeNew(path, b); err != nil || wrote {
		t.Errorf("storing the same content again: wrote %v, %v; want no write", wrote, err)
	}
}

// On loopback there is no MAC: the per-MAC file is skipped with a reason.
func TestRouteMACLoopback(t *testing.T) {
	u, _ := http.NewRequest("GET", "https://127.0.0.1:8443/x/", nil)
	_, err := routeMAC(context.Background(), u.URL)
	if err == nil || !strings.Contains(err.Error(), "has no MAC address") {
		t.Errorf("routeMAC(127.0.0.1) = %v; want 'has no MAC address'", err)
	}
}

// Check validates a local file with the stored provisioned one, offline.
func TestCheck(t *testing.T) {
	ca := newCA(t)
	srv := newServer(t, ca.leaf(t, "127.0.0.1"), map[string]string{testMAC + ".yaml": macFile})
	p := newPhone(t, srv.base(), ca.pem, "")
	if _, err := Check(p.path); err == nil || !strings.Contains(err.Error(), "account.password: missing") {
		t.Errorf("Check with nothing stored: %v; want the local file's missing password", err)
	}
	load(t, p, quiet())
	srv.Close()
	cfg, err := Check(p.path)
	if err != nil || cfg.Account.Password != "pw-mac" {
		t.Errorf("Check with the stored file: %v; want it valid with the stored password", err)
	}
}
