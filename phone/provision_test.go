package phone

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/tools/relay/relaytest"
)

func provisionConfig(e *relaytest.Env, token, cache string) *config.Config {
	cfg := config.Default()
	cfg.Account.Provision = "relay"
	cfg.Account.Cache = cache
	cfg.Relay = config.Relay{URL: e.URL, Token: token, CAFile: e.CAFile}
	return cfg
}

func provision(t *testing.T, cfg *config.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Provision(ctx, cfg, slog.New(slog.DiscardHandler))
}

func TestProvisionFromTheRelay(t *testing.T) {
	e := relaytest.Start(t)
	cache := filepath.Join(t.TempDir(), "state", "account.json")

	cfg := provisionConfig(e, relaytest.AliceToken, cache)
	if err := provision(t, cfg); err != nil {
		t.Fatal(err)
	}
	a := cfg.Account
	if a.User != relaytest.AliceExt || a.AuthUser != relaytest.AliceExt || a.Password != "s3cret-sip" ||
		a.Domain != "1400000001.tccc.qcloud.com" || a.Registrar != "sip.tccc.qcloud.com:5060" || a.Transport != "udp" {
		t.Fatalf("provisioned account %+v", a)
	}
	if n := len(e.Cloud.Calls("DescribeExtension")); n != 1 {
		t.Errorf("%d DescribeExtension calls, want 1", n)
	}
	fi, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("no cache: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v: it holds the SIP password, want 0600", fi.Mode().Perm())
	}

	// An answer that lacks fields is refused; the last good account is kept.
	cfg = provisionConfig(e, relaytest.BobToken, cache)
	if err := provision(t, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Account.User != relaytest.AliceExt || cfg.Account.Password != "s3cret-sip" {
		t.Errorf("after an incomplete answer: %+v, want the cached account", cfg.Account)
	}
	if data, _ := os.ReadFile(cache); !strings.Contains(string(data), relaytest.AliceExt) {
		t.Errorf("the cache was overwritten by an incomplete answer: %s", data)
	}

	// The relay down: the phone boots on the cached account.
	e.Close()
	cfg = provisionConfig(e, relaytest.AliceToken, cache)
	if err := provision(t, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Account.User != relaytest.AliceExt {
		t.Errorf("relay down: %+v, want the cached account", cfg.Account)
	}
}

func TestProvisionNothingToFallBackOn(t *testing.T) {
	e := relaytest.Start(t)
	cfg := provisionConfig(e, relaytest.BobToken, filepath.Join(t.TempDir(), "account.json"))
	err := provision(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "outboundProxy") || !strings.Contains(err.Error(), "no usable cached one") {
		t.Fatalf("incomplete answer, no cache: %v", err)
	}
	if cfg.Account.Password != "" || cfg.Account.User != "" {
		t.Errorf("a half account was applied: %+v", cfg.Account)
	}
}
