package labkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SIPpOptions configures StartSIPp and RunSIPp.
type SIPpOptions struct {
	Dir       string            // the scenario file, SIPp's traces and output go here
	Scenario  string            // scenario XML text, e.g. ScenarioNoAck
	Remote    string            // host:port a UAC scenario sends to; "" for a UAS
	LocalPort int               // SIP port (UDP); 0 picks a free one
	LocalIP   string            // address SIPp binds and sends from; default 127.0.0.1 (127.0.0.9: an untrusted host)
	Service   string            // user part of the INVITE's Request-URI ([service]); default "service"
	Calls     int               // calls before SIPp exits (-m); default 1
	Vars      map[string]string // scenario variables (-set NAME VALUE), e.g. {"wait_ms": "5000"}
	Extra     []string          // further sipp arguments
}

// SIPp is a running (or finished) SIPp.
type SIPp struct {
	opts    SIPpOptions
	stem    string // Dir/stem.xml, stem_messages.log, stem_errors.log, stem.out
	p       *proc
	started time.Time
}

// scenarioName reads <scenario name="…">, to name the files after it.
var scenarioName = regexp.MustCompile(`<scenario\s+name="([A-Za-z0-9_.-]+)"`)

// StartSIPp writes the scenario to Dir, starts SIPp on 127.0.0.1 with its
// messages and errors traced into Dir, and returns once it has bound its
// SIP port (so a UAS is ready for calls).
func StartSIPp(opts SIPpOptions) (*SIPp, error) {
	if opts.Dir == "" || opts.Scenario == "" {
		return nil, errors.New("sipp: SIPpOptions needs Dir and Scenario")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sipp: %w", err)
	}
	if opts.LocalPort == 0 {
		opts.LocalPort = FreePort("udp")
	}
	if opts.Service == "" {
		opts.Service = "service"
	}
	if opts.LocalIP == "" {
		opts.LocalIP = Domain
	}
	if opts.Calls == 0 {
		opts.Calls = 1
	}
	name := "sipp"
	if m := scenarioName.FindStringSubmatch(opts.Scenario); m != nil {
		name = m[1]
	}
	s := &SIPp{opts: opts, stem: filepath.Join(dir, name+"-"+strconv.Itoa(opts.LocalPort))}
	if err := os.WriteFile(s.stem+".xml", []byte(opts.Scenario), 0o644); err != nil {
		return nil, fmt.Errorf("sipp: %w", err)
	}
	args := []string{
		"-sf", s.stem + ".xml",
		"-i", opts.LocalIP, "-p", strconv.Itoa(opts.LocalPort),
		"-s", opts.Service,
		"-m", strconv.Itoa(opts.Calls),
		"-nostdin",
		"-trace_msg", "-message_file", s.stem + "_messages.log",
		"-trace_err", "-error_file", s.stem + "_errors.log",
	}
	// Sorted: the command line in Wait's errors is the same run after run.
	vars := make([]string, 0, len(opts.Vars))
	for k := range opts.Vars {
		vars = append(vars, k)
	}
	sort.Strings(vars)
	for _, k := range vars {
		args = append(args, "-set", k, opts.Vars[k])
	}
	args = append(args, opts.Extra...)
	if opts.Remote != "" {
		args = append(args, opts.Remote)
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		return nil, errors.New("sipp not found: run `make deps` (package sip-tester)")
	}
	cmd := exec.Command("sipp", args...)
	cmd.Dir = dir // where SIPp puts any file not named above
	s.started = time.Now()
	if s.p, err = startCmd(cmd, s.stem+".out"); err != nil {
		return nil, err
	}
	if err := s.waitBound(5 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sipp %s: %w\n--- %s (tail) ---\n%s", name, err, s.p.logPath, s.p.logTail(15))
	}
	return s, nil
}

// waitBound waits until SIPp's port shows in /proc/net/{udp,tcp} (they
// list this network namespace's sockets). Probing by binding the port
// ourselves could steal it from SIPp.
func (s *SIPp) waitBound(timeout time.Duration) error {
	want := fmt.Sprintf(":%04X", s.opts.LocalPort)
	deadline := time.Now().Add(timeout)
	for {
		if s.p.exited() {
			return fmt.Errorf("exited during start-up (%w)", s.p.err)
		}
		for _, table := range []string{"/proc/net/udp", "/proc/net/tcp"} {
			b, err := os.ReadFile(table)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n")[1:] {
				if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], want) {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d not bound within %v", s.opts.LocalPort, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RunSIPp runs SIPp to the end: StartSIPp then Wait. The SIPp is returned
// even on failure, for its traces.
func RunSIPp(ctx context.Context, opts SIPpOptions) (*SIPp, error) {
	s, err := StartSIPp(opts)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	err = s.Wait(ctx)
	return s, err
}

// sippExit explains SIPp's exit codes.
var sippExit = map[int]string{
	1:   "some calls failed",
	97:  "exit on internal command",
	99:  "normal exit without calls processed",
	254: "fatal error binding a socket",
	255: "fatal error",
}

// Wait waits for SIPp to exit. It returns nil when every call succeeded
// (exit code 0), otherwise an error with the code and the tail of SIPp's
// error trace. When ctx ends first it returns an error and leaves SIPp
// running: call Stop.
func (s *SIPp) Wait(ctx context.Context) error {
	select {
	case <-s.p.done:
	case <-ctx.Done():
		return fmt.Errorf("sipp %s: still running after %v: %w", filepath.Base(s.stem), time.Since(s.started).Round(time.Millisecond), ctx.Err())
	}
	if s.p.err == nil {
		return nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(s.p.err, &ee) {
		code = ee.ExitCode()
	}
	return fmt.Errorf("sipp %s: exit code %d (%s): %w\n$ %s\n--- errors (tail) ---\n%s\n--- %s (tail) ---\n%s",
		filepath.Base(s.stem), code, sippExit[code], s.p.err, strings.Join(s.p.cmd.Args, " "),
		tail(s.Errors(), 20), s.p.logPath, s.p.logTail(25))
}

// Stop ends SIPp if it still runs (SIGTERM, then SIGKILL after 2 s).
func (s *SIPp) Stop() {
	if !s.p.exited() {
		_ = s.p.stop(2 * time.Second)
	}
}

// Addr is SIPp's SIP address, LocalIP:LocalPort: what a phone calls to
// reach a UAS scenario.
func (s *SIPp) Addr() string { return net.JoinHostPort(s.opts.LocalIP, strconv.Itoa(s.opts.LocalPort)) }

// Port is SIPp's SIP port, e.g. to register a UAS as a user's contact.
func (s *SIPp) Port() int { return s.opts.LocalPort }

// Log returns SIPp's message trace so far: every message sent and received.
func (s *SIPp) Log() string {
	b, _ := os.ReadFile(s.stem + "_messages.log")
	return string(b)
}

// Errors returns SIPp's error trace so far (unexpected messages, aborted
// calls).
func (s *SIPp) Errors() string {
	b, _ := os.ReadFile(s.stem + "_errors.log")
	return string(b)
}

// Messages returns the messages in SIPp's trace so far, oldest first.
func (s *SIPp) Messages() []TracedMessage { return parseSIPpTrace(s.Log()) }

// Received returns the requests of method (e.g. "INFO", "BYE") SIPp has
// received so far, oldest first.
func (s *SIPp) Received(method string) []TracedMessage {
	var out []TracedMessage
	for _, m := range s.Messages() {
		if m.Received && m.Method() == method {
			out = append(out, m)
		}
	}
	return out
}

// TracedMessage is one SIP message from SIPp's trace.
type TracedMessage struct {
	Received bool   // false: SIPp sent it
	Text     string // as on the wire, CRLF line ends
}

// Method is a request's method, "" for a response.
func (m TracedMessage) Method() string {
	line, _, _ := strings.Cut(m.Text, "\r\n")
	if strings.HasPrefix(line, "SIP/2.0 ") {
		return ""
	}
	method, _, _ := strings.Cut(line, " ")
	return method
}

// Header returns the value of the first header named name (case-blind;
// compact forms are not mapped).
func (m TracedMessage) Header(name string) string {
	head, _, _ := strings.Cut(m.Text, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Body is the message body as Content-Length delimits it.
func (m TracedMessage) Body() string {
	_, body, _ := strings.Cut(m.Text, "\r\n\r\n")
	if n, err := strconv.Atoi(m.Header("Content-Length")); err == nil && n >= 0 && n < len(body) {
		body = body[:n]
	}
	return body
}

// sippTraceEntry is the line SIPp puts before each traced message, with
// its size: "UDP message received [256] bytes :" or "UDP message sent (520
// bytes):".
var sippTraceEntry = regexp.MustCompile(`(?m)^\w+ message (received|sent) [\[(](\d+)[\])]? bytes[^\n]*\n\n`)

func parseSIPpTrace(log string) []TracedMessage {
	var out []TracedMessage
	for _, loc := range sippTraceEntry.FindAllStringSubmatchIndex(log, -1) {
		n, _ := strconv.Atoi(log[loc[4]:loc[5]])
		if loc[1]+n > len(log) { // being written
			break
		}
		out = append(out, TracedMessage{Received: log[loc[2]:loc[3]] == "received", Text: log[loc[1] : loc[1]+n]})
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
