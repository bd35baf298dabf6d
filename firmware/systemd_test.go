package main

// The firmware under systemd: the sd_notify protocol seen on a fake
// NOTIFY_SOCKET, SIGHUP reloads against the lab's Kamailio and baresip, and
// the journald log format.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// notifySocket is a fake systemd: it listens on a unixgram socket named by
// NOTIFY_SOCKET and keeps every message in order.
type notifySocket struct {
	t    *testing.T
	mu   sync.Mutex
	msgs []string
	at   []time.Time // when each message arrived
	seen int         // messages already matched by next
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	n := &notifySocket{t: t}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.at = append(n.at, time.Now())
			n.mu.Unlock()
		}
	}()
	return n
}

// next waits for the first message after the last one matched that
// contains want, and returns it.
func (n *notifySocket) next(want string, timeout time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n.mu.Lock()
		for i := n.seen; i < len(n.msgs); i++ {
			if strings.Contains(n.msgs[i], want) {
				n.seen = i + 1
				m := n.msgs[i]
				n.mu.Unlock()
				return m
			}
		}
		all := strings.Join(n.msgs, " | ")
		n.mu.Unlock()
		if time.Now().After(deadline) {
			n.t.Fatalf("no %q from the firmware within %s; it sent: %s", want, timeout, all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// arrivals are the times the messages equal to msg arrived.
func (n *notifySocket) arrivals(msg string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	var at []time.Time
	for i, m := range n.msgs {
		if m == msg {
			at = append(at, n.at[i])
		}
	}
	return at
}

// logSink keeps the log for assertions and shows it in the test's output.
type logSink struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *logSink) waitFor(want string, timeout time.Duration) {
	l.t.Helper()
	waitFor(l.t, timeout, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return strings.Contains(l.b.String(), want)
	}, func() string { return fmt.Sprintf("the log never said %q", want) })
}

// runService starts the firmware's service on the config file at path, the
// way main does, and records its events; stop ends it and returns run's error.
func runService(t *testing.T, path string) (s *service, u *dut, logs *logSink, stop func() error) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs = &logSink{t: t}
	bus := event.NewBus()
	ch, unsubscribe := bus.Subscribe(1024)
	s = newService(path, false, slog.New(slog.NewTextHandler(logs, nil)), bus)
	u = &dut{t: t, cfg: cfg, used: map[int]bool{}, wake: make(chan struct{}, 1)}
	go func() {
		for e := range ch {
			u.mu.Lock()
			u.events = append(u.events, e)
			u.mu.Unlock()
			select {
			case u.wake <- struct{}{}:
			default:
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, cfg) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = fmt.Errorf("the service did not stop within 20s")
			}
			unsubscribe()
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return s, u, logs, stop
}

// writeConfig writes the lab config for phone 1001 with this ring timeout.
func writeConfig(t *testing.T, path, registrar, api, ringTimeout string) {
	t.Helper()
	y := labkit.PhoneConfig{
		User: "1001", Password: labUsers["1001"], Registrar: registrar,
		HeardWAV: filepath.Join(filepath.Dir(path), "heard.wav"), API: api,
		RingTimeout: ringTimeout, AnswerTimeout: "20s",
	}.YAML()
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Under systemd the firmware says READY=1 once the API answers, follows the
// registration in STATUS=, pings the watchdog at half of WATCHDOG_USEC and
// says STOPPING=1 on its way out.
func TestSystemdNotify(t *testing.T) {
	kam := kamailio(t)
	sd := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "1000000") // pings every 500 ms
	path := filepath.Join(t.TempDir(), "phone.yaml")
	writeConfig(t, path, kam.Addr(), fmt.Sprintf("127.0.0.1:%d", labkit.FreePort("tcp")), "20s")
	s, u, _, stop := runService(t, path)

	sd.next("READY=1", 20*time.Second)
	u.api = "http://" + s.device().apiAddr
	u.must("GET", "/v1/state", nil) // ready means the control API answers
	sd.next("STATUS=registered", 10*time.Second)

	for range 4 {
		sd.next("WATCHDOG=1", 5*time.Second)
	}
	// Every 500 ms. Timers never fire early, so a gap under 400 ms means
	// pings faster than half the interval; a gap of a whole second would
	// have had systemd kill the phone (only a stall of the test machine
	// comes near it, hence the generous bound).
	at := sd.arrivals("WATCHDOG=1")
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 400*time.Millisecond || gap >= time.Second {
			t.Errorf("watchdog ping %d came %s after the one before; want about 500 ms (half of WATCHDOG_USEC)", i, gap)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("the service stopped with %v", err)
	}
	sd.next("STOPPING=1", time.Second)
}

// SIGHUP reloads the config file: a broken file is logged with its line and
// the phone keeps running; a changed ring timeout restarts the phone with it,
// bracketed by RELOADING=1 and READY=1; a reload during a call waits for the
// call to end.
func TestSIGHUPReload(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "manual", 440)
	sd := listenNotify(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "phone.yaml")
	api := fmt.Sprintf("127.0.0.1:%d", labkit.FreePort("tcp"))
	writeConfig(t, path, kam.Addr(), api, "20s")
	s, u, logs, _ := runService(t, path)
	u.api = "http://" + api
	sd.next("READY=1", 20*time.Second)
	u.registered()
	first := s.device()

	hup := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	// A broken file: logged with file:line:key, the phone untouched.
	writeConfig(t, path, kam.Addr(), api, "soon")
	hup()
	logs.waitFor("reload: configuration not applied", 5*time.Second)
	logs.waitFor("phone.yaml:", time.Second)
	logs.waitFor("calls.ring_timeout", time.Second)
	sd.next("STATUS=reload failed", time.Second)
	if s.device() != first {
		t.Fatal("a broken config replaced the running phone")
	}
	if got := u.must("GET", "/v1/state", nil)["registration"].(map[string]any)["state"]; got != "registered" {
		t.Fatalf("after a refused reload the phone is %v, want registered", got)
	}

	// A valid change: the phone restarts with it.
	writeConfig(t, path, kam.Addr(), api, "2s")
	hup()
	sd.next("RELOADING=1", 5*time.Second)
	sd.next("READY=1", 20*time.Second)
	second := s.device()
	if second == first {
		t.Fatal("READY=1 after RELOADING=1 but the phone was not replaced")
	}
	if rt := second.phone.Config().Calls.RingTimeout; rt != 2*time.Second {
		t.Fatalf("after the reload calls.ring_timeout is %s, want 2s", rt)
	}
	u.registered()

	// An unanswered call now ends after 2 s, not 20 s; a reload asked for
	// while it rings waits for it.
	if err := far.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	ns := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "callerPhoneNumber") == "1002" })
	writeConfig(t, path, kam.Addr(), api, "3s")
	hup()
	logs.waitFor("reload: waiting for the calls to end", 5*time.Second)
	if s.device() != second {
		t.Fatal("a reload replaced the phone during a call")
	}
	ended := u.waitEvent(event.Ended, 10*time.Second, sessionIs(field(ns.Data, "sessionId").(string)))
	if r := field(ended.Data, "reason"); r != "Timeout" {
		t.Fatalf("the unanswered call ended with %v, want Timeout", r)
	}
	if rang := ended.Time.Sub(ns.Time); rang < 1500*time.Millisecond || rang > 5*time.Second {
		t.Fatalf("the call rang %s with ring_timeout 2s", rang)
	}
	sd.next("RELOADING=1", 5*time.Second)
	sd.next("READY=1", 20*time.Second)
	if rt := s.device().phone.Config().Calls.RingTimeout; rt != 3*time.Second {
		t.Fatalf("after the call the pending reload gave ring_timeout %s, want 3s", rt)
	}

	// The same file again changes nothing.
	third := s.device()
	hup()
	logs.waitFor("reload: configuration unchanged", 5*time.Second)
	if s.device() != third {
		t.Fatal("reloading an unchanged file replaced the phone")
	}
}

// Under journald each line carries its priority and no time of its own;
// elsewhere the log is slog's plain text.
func TestJournalLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newJournalHandler(&buf, slog.LevelDebug)).With("extension", "1001")
	log.Error("boom", "code", 503)
	log.Warn("careful")
	log.Info("fine", "api", "http://127.0.0.1:8080")
	log.Debug("detail")
	want := []string{
		`<3>level=ERROR msg=boom extension=1001 code=503`,
		`<4>level=WARN msg=careful extension=1001`,
		`<6>level=INFO msg=fine extension=1001 api=http://127.0.0.1:8080`,
		`<7>level=DEBUG msg=detail extension=1001`,
	}
	if got := strings.Split(strings.TrimSpace(buf.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal lines:\n%s\nwant:\n%s", buf.String(), strings.Join(want, "\n"))
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if !journalStream(f) {
		t.Fatal("JOURNAL_STREAM names the file but journalStream says no")
	}
	if journalStream(os.Stdout) {
		t.Fatal("journalStream says yes for a stream JOURNAL_STREAM does not name")
	}
	newLogger(f, slog.LevelInfo).Warn("to the journal")
	b, _ := os.ReadFile(f.Name())
	if !strings.HasPrefix(string(b), "<4>level=WARN msg=\"to the journal\"") {
		t.Fatalf("under JOURNAL_STREAM the logger wrote %q", b)
	}
}
