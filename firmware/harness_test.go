package main

// The end-to-end harness: a real Kamailio and real baresip far ends from
// tools/labkit, and the firmware's own device (board, phone, UI, control
// API) driven over HTTP the way an integration would drive it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/hal/wav"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

// Lab users: 1001 is the phone under test, 1002.. are far ends.
var labUsers = map[string]string{
	"1001": "pw-1001", "1002": "pw-1002", "1003": "pw-1003", "1004": "pw-1004",
}

var (
	sharedLabOnce sync.Once
	sharedKam     *labkit.Kamailio
	sharedErr     error
	sharedDir     string
)

// TestMain stops the shared registrar after the suite.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedKam != nil {
		_ = sharedKam.Stop()
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// kamailio is the registrar shared by the tests that need no special one.
func kamailio(t *testing.T) *labkit.Kamailio {
	t.Helper()
	labkit.Require(t)
	sharedLabOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "deskphone-lab-")
		if sharedErr != nil {
			return
		}
		sharedKam, sharedErr = labkit.StartKamailio(labkit.KamailioOptions{
			Dir: filepath.Join(sharedDir, "kamailio"), Users: labUsers, ProxyAuth: true,
		})
	})
	if sharedErr != nil {
		t.Fatalf("starting Kamailio: %v", sharedErr)
	}
	return sharedKam
}

// farEnd starts a baresip registered as user on kam; stopped at cleanup.
func farEnd(t *testing.T, kam *labkit.Kamailio, user, answerMode string, toneHz int) *labkit.Baresip {
	t.Helper()
	b, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: t.TempDir(), User: user, Password: labUsers[user], Registrar: kam.Addr(),
		AnswerMode: answerMode, ToneHz: toneHz, Codecs: "PCMU,PCMA",
	})
	if err != nil {
		t.Fatalf("starting baresip %s: %v", user, err)
	}
	t.Cleanup(func() {
		_ = b.Stop()
		if t.Failed() {
			t.Logf("baresip %s's log:\n%s", user, b.Log())
		}
	})
	return b
}

// phoneConfig is a valid configuration for phone 1001 on the registrar.
func phoneConfig(t *testing.T, registrar, password string) *config.Config {
	t.Helper()
	return phoneConfigFor(t, "1001", registrar, password)
}

// phoneConfigFor is phoneConfig for another extension. The text goes
// through config.Parse, so every test's configuration is validated.
func phoneConfigFor(t *testing.T, user, registrar, password string) *config.Config {
	t.Helper()
	y := labkit.PhoneConfig{
		User: user, Password: password, Registrar: registrar,
		HeardWAV: filepath.Join(t.TempDir(), "heard.wav"), API: fmt.Sprintf("127.0.0.1:%d", labkit.FreePort("tcp")),
		RingTimeout: "20s", AnswerTimeout: "20s",
	}.YAML()
	cfg, err := config.Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("test config does not validate: %v\n%s", err, y)
	}
	return cfg
}

// dut is the device under test.
type dut struct {
	t      *testing.T
	d      *device
	cfg    *config.Config
	api    string
	mu     sync.Mutex
	events []event.Event
	used   map[int]bool
	wake   chan struct{}
	out    *written // everything the phone wrote: logs, events, API answers (secrets.go)
}

// startPhone starts the device and records every event from the first.
func startPhone(t *testing.T, cfg *config.Config) *dut {
	t.Helper()
	bus := event.NewBus()
	ch, stop := bus.Subscribe(1024)
	level := slog.LevelInfo
	if os.Getenv("DESKPHONE_DEBUG") != "" {
		level = slog.LevelDebug
	}
	rec := &written{}
	log := slog.New(slog.NewTextHandler(testWriter{t, rec}, &slog.HandlerOptions{Level: level}))
	d, err := start(context.Background(), cfg, log, bus)
	if err != nil {
		t.Fatalf("starting the phone: %v", err)
	}
	u := &dut{t: t, d: d, cfg: cfg, api: "http://" + d.apiAddr, used: map[int]bool{}, wake: make(chan struct{}, 1), out: rec}
	go func() {
		for e := range ch {
			rec.event(e)
			u.mu.Lock()
			u.events = append(u.events, e)
			u.mu.Unlock()
			select {
			case u.wake <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = d.close()
		stop()
		rec.checkSecrets(t, cfg)
	})
	return u
}

type testWriter struct {
	t   *testing.T
	out *written
}

func (w testWriter) Write(p []byte) (int, error) {
	w.out.add(p)
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitEvent returns the first not-yet-returned event with this name for
// which match (may be nil) is true.
func (u *dut) waitEvent(name string, timeout time.Duration, match func(data any) bool) event.Event {
	u.t.Helper()
	deadline := time.After(timeout)
	for {
		u.mu.Lock()
		for i, e := range u.events {
			if !u.used[i] && e.Name == name && (match == nil || match(e.Data)) {
				u.used[i] = true
				u.mu.Unlock()
				return e
			}
		}
		u.mu.Unlock()
		select {
		case <-u.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			u.t.Fatalf("no %s event within %s; events so far:\n%s", name, timeout, u.eventLog())
		}
	}
}

func (u *dut) eventLog() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var b strings.Builder
	for _, e := range u.events {
		d, _ := json.Marshal(e.Data)
		fmt.Fprintf(&b, "  %s %s\n", e.Name, d)
	}
	return b.String()
}

// do calls the control API and decodes the JSON answer.
func (u *dut) do(method, path string, body any) (int, map[string]any) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.api+path, rd)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	u.out.add(raw)
	if err := json.Unmarshal(raw, &out); err != nil {
		u.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	return res.StatusCode, out
}

// must calls the API and fails the test unless it answers 200.
func (u *dut) must(method, path string, body any) map[string]any {
	u.t.Helper()
	code, out := u.do(method, path, body)
	if code != http.StatusOK {
		u.t.Fatalf("%s %s → %d %v", method, path, code, out)
	}
	return out
}

// display is the sim panel's screen joined by " | ".
func (u *dut) display() string {
	return strings.Join(u.d.panel.board.Panel().Display, " | ")
}

// waitDisplay waits until the screen contains want.
func (u *dut) waitDisplay(want string, timeout time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(u.display(), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	u.t.Fatalf("display never showed %q; it shows %q", want, u.display())
}

func (u *dut) registered() {
	u.t.Helper()
	u.waitEvent(event.Registration, 10*time.Second, func(d any) bool { return field(d, "state") == "registered" })
}

// field reads a payload field by its JSON name.
func field(data any, name string) any {
	b, _ := json.Marshal(data)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m[name]
}

// sessionIs matches payloads of one session.
func sessionIs(id string) func(any) bool {
	return func(d any) bool { return field(d, "sessionId") == id }
}

// toneIn reads a WAV and returns the levels of the given frequencies.
func toneIn(t *testing.T, path string, freqs ...float64) []float64 {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	mono := a.Mono()
	if len(mono) < a.Rate/2 {
		t.Fatalf("%s holds only %d samples at %d Hz: too short to analyse", path, len(mono), a.Rate)
	}
	// Skip the first 200 ms (jitter buffer fill, codec start).
	mono = mono[a.Rate/5:]
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = media.ToneLevel(mono, a.Rate, f)
	}
	return out
}

// wantEnded waits for the session's onEnded and checks its reason.
func (u *dut) wantEnded(id, reason string) event.Event {
	u.t.Helper()
	e := u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	if field(e.Data, "reason") != reason {
		u.t.Fatalf("onEnded = %v, want %s", e.Data, reason)
	}
	return e
}

// waitLED waits until the panel's LED shows want.
func (u *dut) waitLED(name, want string, timeout time.Duration) {
	u.t.Helper()
	waitFor(u.t, timeout, func() bool { return u.d.panel.board.Panel().LEDs[name] == want },
		func() string {
			return fmt.Sprintf("LED %s = %q, want %q", name, u.d.panel.board.Panel().LEDs[name], want)
		})
}
