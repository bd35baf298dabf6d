package relaytest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"deskphone/tools/relay/relayd"
)

// The agents, tokens and extensions every Env knows.
const (
	SdkAppID   = 1400000001
	Region     = "ap-guangzhou"
	SecretID   = "AKIDfakeSecretId0123456789"
	SecretKey  = "fakeSecretKey0123456789abcdef"
	AdminToken = "admin-token-0123456789"

	Alice      = "alice@example.com"
	AliceToken = "alice-token-0123456789abcdef"
	AliceExt   = "8001"
	Bob        = "bob@example.com"
	BobToken   = "bob-token-0123456789abcdef"
	BobExt     = "8002"
)

// Env is a fake cloud plus a relay (HTTPS, on 127.0.0.1) that uses it.
type Env struct {
	Cloud  *FakeCloud
	Relay  *relayd.Server
	URL    string // https://127.0.0.1:port
	CAFile string // the relay's certificate, for the phone client
	Config relayd.Config

	srv    *httptest.Server
	cancel context.CancelFunc
	once   sync.Once
}

// Start starts a fake cloud (Alice free, Bob notReady, both extensions)
// and a relay polling it every 20 ms. mod may change the relay's config.
func Start(t testing.TB, mod ...func(*relayd.Config)) *Env {
	dir := t.TempDir()
	cloud := NewFakeCloud(t, CloudOptions{SecretID: SecretID, SecretKey: SecretKey, Region: Region, SdkAppID: SdkAppID})
	cloud.SetStaff(Alice, "free", "")
	cloud.SetStaff(Bob, "notReady", "")
	cloud.SetExtension(Extension{ExtensionId: AliceExt, ExtensionDomain: "1400000001.tccc.qcloud.com",
		Password: "s3cret-sip", OutboundProxy: "sip.tccc.qcloud.com:5060", Transport: "udp"})
	cloud.SetExtension(Extension{ExtensionId: BobExt, ExtensionDomain: "1400000001.tccc.qcloud.com", Password: "x"}) // incomplete on purpose
	cfg := relayd.Config{
		InsecureHTTP: true, // the httptest server terminates TLS
		SdkAppID:     SdkAppID, Region: Region, Endpoint: cloud.Endpoint(), CloudCAFile: cloud.WriteCA(dir),
		SecretID: SecretID, SecretKey: SecretKey,
		DevicesFile: WriteDevices(t, dir),
		AdminToken:  AdminToken,
		Poll:        100 * time.Millisecond, KeepAlive: time.Second,
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := relayd.New(cfg, Logger(t))
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	e := &Env{Cloud: cloud, Relay: srv, Config: cfg}
	e.srv = httptest.NewTLSServer(srv.Handler())
	e.URL = e.srv.URL
	e.CAFile = writeCert(t, dir, "relay-ca.pem", e.srv.Certificate().Raw)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	done := make(chan struct{})
	go func() { srv.Poll(ctx); close(done) }()
	t.Cleanup(func() { e.Close(); <-done })
	return e
}

// Close takes the relay down (open streams are cut).
func (e *Env) Close() {
	e.once.Do(func() {
		e.cancel()
		e.srv.CloseClientConnections()
		e.srv.Close()
	})
}

// WriteDevices writes the devices file for Alice and Bob into dir.
func WriteDevices(t testing.TB, dir string) string {
	p := filepath.Join(dir, "devices.yaml")
	body := fmt.Sprintf("%s: {staffUserId: %s, extensionId: %q}\n%s:\n  staffUserId: %s\n  extensionId: %q\n",
		AliceToken, Alice, AliceExt, BobToken, Bob, BobExt)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Logger sends the relay's logs to the test log while the test runs.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}

var _ io.Writer = (*testWriter)(nil)

// HTTPClient is a client that trusts the relay's certificate (for the
// admin routes in tests).
func (e *Env) HTTPClient() *http.Client { return e.srv.Client() }
