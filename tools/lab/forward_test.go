package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoAPI answers every request with what it got, as JSON.
var echoAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "body": string(body), "host": r.Host}) // a failure shows in the client's check
})

// unixServer serves h on a UNIX socket in a temp dir; it returns the path.
func unixServer(t *testing.T, h http.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return path
}

// roundTrip POSTs body to url (through client) and checks the echo.
func roundTrip(t *testing.T, client *http.Client, url, body string) {
	t.Helper()
	res, err := client.Post(url+"/v1/call", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST through the forwarder: %v", err)
	}
	defer res.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 {
		t.Fatalf("answer %d, %v (%v)", res.StatusCode, got, err)
	}
	if got["method"] != "POST" || got["path"] != "/v1/call" || got["body"] != body {
		t.Fatalf("the server saw %v, want POST /v1/call with %q", got, body)
	}
}

func TestHostPortForwardsToTheSocket(t *testing.T) {
	sock := unixServer(t, echoAPI)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newForwarder(ln, dialer("unix", sock), "no lab")
	defer f.close()
	url := "http://" + ln.Addr().String()
	// A body larger than a socket buffer, and keep-alive reuse.
	big := `{"to":"` + strings.Repeat("1", 300<<10) + `"}`
	roundTrip(t, http.DefaultClient, url, `{"to":"1002"}`)
	roundTrip(t, http.DefaultClient, url, big)
}

func TestLabSocketForwardsToTheAPI(t *testing.T) {
	api := httptest.NewServer(echoAPI)
	defer api.Close()
	sock := filepath.Join(t.TempDir(), "api.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil { // a stale file from a killed lab
		t.Fatal(err)
	}
	ln, err := listenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	f := newForwarder(ln, dialer("tcp", api.Listener.Addr().String()), "no phone")
	viaSocket := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	roundTrip(t, viaSocket, "http://127.0.0.1:8080", `{"to":"1002"}`)
	f.close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s is left after close: %v", sock, err)
	}
}

// An event stream through the forwarder keeps flowing, and close ends it.
func TestForwarderStreamsAndCloseEndsThem(t *testing.T) {
	tick := make(chan string)
	sock := unixServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case s := <-tick:
				fmt.Fprintf(w, "data: %s\n\n", s)
				w.(http.Flusher).Flush()
			}
		}
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newForwarder(ln, dialer("unix", sock), "no lab")
	res, err := http.Get("http://" + ln.Addr().String() + "/v1/events") //nolint:bodyclose // closed by the defer below; bodyclose misses it
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 64)
	for _, s := range []string{"one", "two"} {
		tick <- s
		n, err := res.Body.Read(buf)
		if err != nil || string(buf[:n]) != "data: "+s+"\n\n" {
			t.Fatalf("read %q, %v; want the event %q", buf[:n], err, s)
		}
	}
	closed := make(chan struct{})
	go func() { f.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not end an open stream")
	}
	ended := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, res.Body); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's stream stayed open after close")
	}
}

func TestForwarderSaysWhatIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "api.sock")
	f := newForwarder(ln, dialer("unix", missing), "the lab is not running")
	defer f.close()
	res, err := http.Post("http://"+ln.Addr().String()+"/v1/call", "application/json", strings.NewReader(`{"to":"1002"}`))
	if err != nil {
		t.Fatalf("want a 503 answer, got %v", err)
	}
	defer res.Body.Close()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || res.StatusCode != 503 || e.Code != 503 ||
		!strings.Contains(e.Message, "the lab is not running") || !strings.Contains(e.Message, missing) {
		t.Fatalf("answer %d %+v (%v); want 503 naming what is down", res.StatusCode, e, err)
	}
}

// lockedBuffer is a buffer a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `lab host` takes the next free port, gives the command its URL, forwards
// while the command runs, and ends with it (here: when stdin closes).
func TestHostRunsTheCommandAndForwards(t *testing.T) {
	sock := unixServer(t, echoAPI)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	var out lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- runHost([]string{"-port", strconv.Itoa(port), "-socket", sock, "--",
			"sh", "-c", `echo "command sees $LAB_HOST_API"; cat >/dev/null; exit 4`}, stdinR, &out, &out)
	}()
	re := regexp.MustCompile(`command sees (http://127\.0\.0\.1:(\d+))`)
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the command never printed LAB_HOST_API; output:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := re.FindStringSubmatch(out.String())
	if !strings.Contains(out.String(), "Control API from this host: "+m[1]) {
		t.Errorf("the URL is not announced:\n%s", out.String())
	}
	if p, _ := strconv.Atoi(m[2]); p <= port || p >= port+hostPortTries {
		t.Errorf("took port %d; want the next free one after the taken %d", p, port)
	}
	roundTrip(t, http.DefaultClient, m[1], `{"to":"1002"}`)

	stdinW.Close() // Ctrl-D
	select {
	case c := <-code:
		if c != 4 {
			t.Fatalf("exit %d, want the command's 4", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lab host did not end when its command did")
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(m[1], "http://"), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts after lab host ended", m[1])
	}
}
