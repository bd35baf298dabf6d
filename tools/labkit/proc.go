package labkit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a peer running in its own process group with its output in a
// log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the main process has exited
	err     error         // its exit status, valid after done
}

func startProc(name, logPath string, args ...string) (*proc, error) {
	return startCmd(exec.Command(name, args...), logPath)
}

// startProcIn is startProc inside ns (NetNS.Command), or here if ns is nil.
func startProcIn(ns *NetNS, name, logPath string, args ...string) (*proc, error) {
	if ns == nil {
		return startProc(name, logPath, args...)
	}
	p, err := startCmd(ns.Command(name, args...), logPath)
	if p != nil {
		p.name = name // not nsenter, which exec'd it
	}
	return p, err
}

// startCmd starts cmd (with its Dir, if set) like startProc.
func startCmd(cmd *exec.Cmd, logPath string) (*proc, error) {
	name := filepath.Base(cmd.Path)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close() // the start error is the one to report
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close() // the process is gone; its log is what was written
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the whole group and SIGKILL after grace. A peer
// killed by our own SIGTERM is not an error.
func (p *proc) stop(grace time.Duration) error {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var killed bool
	select {
	case <-p.done:
	case <-time.After(grace):
		killed = true
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children (Kamailio's workers) may outlive the main process briefly.
	deadline := time.Now().Add(grace)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if killed {
		return fmt.Errorf("%s did not exit within %v of SIGTERM and was killed; log: %s", p.name, grace, p.logPath)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
		if ee.ExitCode() == 0 {
			return nil
		}
	}
	if p.err != nil {
		return fmt.Errorf("%s exited: %w; log: %s", p.name, p.err, p.logPath)
	}
	return nil
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// logTail returns the last n lines of the log, for error messages.
func (p *proc) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// groupAlive reports whether a process of group pgid is still running.
// Zombies do not count: whether they are reaped depends on the host's init.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}
