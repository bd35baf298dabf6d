package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A broken configuration stops the firmware before it touches the board or
// the network, with the file, line, key and what to do.
func TestBrokenConfigIsReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "phone.yaml")
	body := `account:
  registrar: pbx:99999
  user: "1001"
  pasword: x
agent:
  sdk_app_id: 1400000001
  user_id: a@example.com
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(path, false, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err == nil {
		t.Fatal("a broken config started the phone")
	}
	msg := err.Error()
	for _, want := range []string{
		"phone.yaml:2: account.registrar: 'pbx:99999' is not a valid port",
		"phone.yaml:4: account.pasword: unknown key",
		"did you mean password",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
}

func TestMissingConfigFile(t *testing.T) {
	err := run(filepath.Join(t.TempDir(), "nope.yaml"), false, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("missing config file: %v", err)
	}
}
