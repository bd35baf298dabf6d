package labkit

import "syscall"

// Pause stops baresip dead (SIGSTOP to its process group): a far end that
// stops answering without a word, as a crashed or unplugged phone does.
func (b *Baresip) Pause() error { return syscall.Kill(-b.p.cmd.Process.Pid, syscall.SIGSTOP) }

// Continue resumes a paused baresip (SIGCONT).
func (b *Baresip) Continue() error { return syscall.Kill(-b.p.cmd.Process.Pid, syscall.SIGCONT) }
