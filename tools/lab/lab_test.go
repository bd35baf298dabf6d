package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/tools/labkit"
)

func TestRefusesOutsideNamespace(t *testing.T) {
	if labkit.InIsolatedNetwork() {
		t.Skip("inside a private network namespace: the refusal cannot happen here")
	}
	var out, errb bytes.Buffer
	code := run([]string{"-dir", t.TempDir()}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "make run") {
		t.Fatalf("exit %d, stderr %q; want 1 and a pointer to `make run`", code, errb.String())
	}
}

func TestLabServesThePhoneConfig(t *testing.T) {
	labkit.Require(t)
	dir := t.TempDir()
	l, err := startLab(dir, "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.stop(); err != nil {
			t.Error(err)
		}
	}()

	// The phone's own loader is the judge of phone.yaml.
	cfg, err := config.Load(filepath.Join(dir, "phone.yaml"))
	if err != nil {
		t.Fatalf("phone.yaml does not load: %v", err)
	}
	a := cfg.Account
	if a.Registrar != l.kam.Addr() || a.User != "1001" || cfg.Board != "sim" || cfg.Agent.SdkAppId != 1400000001 ||
		cfg.Agent.UserId != "agent1001@example.com" || cfg.Sim.Input != "tone:1000" ||
		cfg.Sim.Output != filepath.Join(dir, "heard.wav") || cfg.API.Listen != "127.0.0.1:8080" {
		t.Fatalf("phone.yaml does not describe the lab's phone: %+v", cfg)
	}
	if _, port, err := net.SplitHostPort(a.Listen); err != nil || port == "0" {
		t.Fatalf("listen %q: want a fixed free port", a.Listen)
	}

	// The credentials in phone.yaml register with the lab's Kamailio.
	sipsak := exec.Command("sipsak", "-U", "-s", "sip:"+a.User+"@"+a.Registrar, "-a", a.Password,
		"-l", strconv.Itoa(labkit.FreePort("udp")))
	if out, err := sipsak.CombinedOutput(); err != nil {
		t.Fatalf("registering with phone.yaml's credentials: %v\n%s", err, out)
	}
	if bs, err := l.kam.Bindings("1001"); err != nil || len(bs) == 0 {
		t.Fatalf("bindings of 1001: %+v, %v", bs, err)
	}
	if bs, err := l.kam.Bindings("1002"); err != nil || len(bs) != 1 {
		t.Fatalf("baresip (1002) is not registered: %+v, %v", bs, err)
	}
}

func TestLabRunsCommandAndPassesExitCode(t *testing.T) {
	labkit.Require(t)
	var out, errb bytes.Buffer
	code := run([]string{"-dir", t.TempDir(), "--", "sh", "-c",
		`test -f "$DESKPHONE_CONFIG" && read line && echo "got $line from $LAB_FAR_END"; exit 3`},
		strings.NewReader("hello\n"), &out, &errb)
	if code != 3 {
		t.Fatalf("exit %d, want the command's 3; stderr:\n%s", code, errb.String())
	}
	m := regexp.MustCompile(`got hello from sip:1002@(127\.0\.0\.1:\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the command did not get stdin and the lab's environment; stdout:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "1002 is baresip, auto-answers with a 440 Hz tone") {
		t.Errorf("summary does not say who to call:\n%s", out.String())
	}
	// The peers are gone: Kamailio's TCP port no longer accepts.
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Fatalf("Kamailio still listens on %s after the lab exited", m[1])
	}
}

// With -socket the lab serves the phone's API (here a stand-in) on a UNIX
// socket while the command runs, and removes it after.
func TestLabServesTheAPISocket(t *testing.T) {
	labkit.Require(t)
	api := httptest.NewServer(echoAPI)
	defer api.Close()
	sock := filepath.Join(t.TempDir(), "api.sock")
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	var out lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"-dir", t.TempDir(), "-api", api.Listener.Addr().String(), "-socket", sock, "--", "sh", "-c", "cat >/dev/null"},
			stdinR, &out, &out)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "socket "+sock) {
		if time.Now().After(deadline) {
			t.Fatalf("the lab never announced its socket; output:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	viaSocket := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	roundTrip(t, viaSocket, "http://127.0.0.1:8080", `{"to":"1002"}`)
	stdinW.Close()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d; output:\n%s", c, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the lab did not end with its command")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s is left after the lab: %v", sock, err)
	}
}
