package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

// phoneProc is the firmware binary running on the sim board with its
// control API and its debug listener (-debug: pprof, /debug/media).
type phoneProc struct {
	cmd     *exec.Cmd
	api     string // http://127.0.0.1:PORT
	debug   string
	logPath string
	done    chan struct{}
	err     error // exit status, valid after done
	http    *http.Client
}

// debugMedia mirrors firmware/debug.go's GET /debug/media answer.
type debugMedia struct {
	HeapAllocBytes   uint64          `json:"heapAllocBytes"`
	HeapAllocObjects uint64          `json:"heapAllocObjects"`
	GCCycles         uint64          `json:"gcCycles"`
	Streams          []media.Latency `json:"streams"`
}

// phoneState is the part of GET /v1/state the bench reads.
type phoneState struct {
	Registration struct {
		State string `json:"state"`
	} `json:"registration"`
	Sessions []struct {
		SessionID string `json:"sessionId"`
		State     string `json:"state"`
		Codec     string `json:"codec"`
	} `json:"sessions"`
}

// startPhone writes the phone's config into dir and starts the firmware,
// returning once it is registered or with an error that carries its log.
//
// With sampleAllocs the heap profile records every allocation instead of
// one per 512 KiB (GODEBUG=memprofilerate=1, from the start: a rate set
// later takes effect only after each P's next default-rate sample), so
// pprof's allocs count the few a call makes exactly.
func startPhone(firmware, dir, registrar, codec string, sampleAllocs bool) (*phoneProc, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	apiAddr := "127.0.0.1:" + strconv.Itoa(labkit.FreePort("tcp"))
	yaml := labkit.PhoneConfig{
		User: phoneUser, Password: labUsers[phoneUser], Registrar: registrar,
		HeardWAV: filepath.Join(dir, "heard.wav"), API: apiAddr,
	}.YAML()
	const codecLine = "  codecs: [PCMU, PCMA]\n"
	if !strings.Contains(yaml, codecLine) {
		return nil, fmt.Errorf("labkit.PhoneConfig no longer writes %q: update tools/bench to set the codec", strings.TrimSpace(codecLine))
	}
	yaml = strings.Replace(yaml, codecLine, "  codecs: ["+codec+"]\n", 1)
	cfgPath := filepath.Join(dir, "phone.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	p := &phoneProc{
		api: "http://" + apiAddr, debug: "http://127.0.0.1:" + strconv.Itoa(labkit.FreePort("tcp")),
		logPath: filepath.Join(dir, "phone.log"), done: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second},
	}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(firmware, "-config", cfgPath, "-debug", strings.TrimPrefix(p.debug, "http://")) //nolint:gosec // G204: the firmware binary we were asked to measure
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if sampleAllocs {
		p.cmd.Env = append(os.Environ(), "GODEBUG=memprofilerate=1")
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		_ = logf.Close() // the start error is the one to report
		return nil, fmt.Errorf("start %s: %w", firmware, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = logf.Close() // the process is gone
		close(p.done)
	}()
	err = p.waitState(20*time.Second, "registered", func(st phoneState) bool { return st.Registration.State == "registered" })
	if err != nil {
		_ = p.stop()
		return nil, err
	}
	return p, nil
}

func (p *phoneProc) pid() int { return p.cmd.Process.Pid }

func (p *phoneProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail is the end of the phone's log, for error messages.
func (p *phoneProc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// getJSON decodes GET base+path into v.
func (p *phoneProc) getJSON(url string, v any) error {
	resp, err := p.http.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// post calls a control API function with a JSON body.
func (p *phoneProc) post(path string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := p.http.Post(p.api+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, out)
	}
	return nil
}

// waitState polls /v1/state until ok holds, the phone exits or timeout.
func (p *phoneProc) waitState(timeout time.Duration, what string, ok func(phoneState) bool) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("the phone exited (%w) while waiting until %s; its log:\n%s", p.err, what, p.logTail())
		}
		var st phoneState
		if last = p.getJSON(p.api+"/v1/state", &st); last == nil && ok(st) {
			return nil
		}
		if time.Now().After(deadline) {
			detail := "/v1/state answered, not yet so"
			if last != nil {
				detail = last.Error()
			}
			return fmt.Errorf("the phone was not %s within %v (%s); its log:\n%s", what, timeout, detail, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call places a call and waits until it is connected with codec.
func (p *phoneProc) call(to, codec string) error {
	if err := p.post("/v1/call", map[string]string{"to": to}); err != nil {
		return err
	}
	var got string
	err := p.waitState(15*time.Second, "connected", func(st phoneState) bool {
		for _, s := range st.Sessions {
			got = s.Codec
			if s.State == "connected" {
				return true
			}
		}
		return false
	})
	if err == nil && !strings.EqualFold(got, codec) {
		err = fmt.Errorf("the call was connected with %s, not %s", got, codec)
	}
	return err
}

// hangup ends the current call and waits until no session is left.
func (p *phoneProc) hangup() error {
	if err := p.post("/v1/terminate", map[string]string{}); err != nil {
		return err
	}
	return p.waitState(10*time.Second, "idle after hanging up", func(st phoneState) bool { return len(st.Sessions) == 0 })
}

func (p *phoneProc) media() (debugMedia, error) {
	var m debugMedia
	err := p.getJSON(p.debug+"/debug/media", &m)
	return m, err
}

// profile saves a pprof profile (path under /debug/pprof/) to file.
func (p *phoneProc) profile(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.debug+"/debug/pprof/"+path, nil)
	if err != nil {
		return err
	}
	c := &http.Client{} // a CPU profile takes as long as it was asked for
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pprof %s: %s: %s", path, resp.Status, b)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

// stop sends SIGTERM (the phone un-registers) and SIGKILL after 10 s.
func (p *phoneProc) stop() error {
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
		return errors.New("the phone did not exit within 10 s of SIGTERM and was killed; log: " + p.logPath)
	}
	if p.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil // killed by our SIGTERM before its handler was in place
		}
	}
	return fmt.Errorf("the phone exited: %w; log: %s", p.err, p.logPath)
}
