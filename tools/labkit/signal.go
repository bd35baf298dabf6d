package labkit

import "syscall"

// Pause stops baresip dead (SIGSTOP to its process group): a far end that
// stops answering without a word, as a crashed or unplugged phone does.
func (b *Baresip) Pause() error { return syscall.Kill(-b.p.cmd.Process.Pid, syscall.SIGSTOP) }

// Continue resumes a paused baresip (SIGCONT).
func (b *Baresip) Continue() error { return syscall.Kill(-b.p.cmd.Process.Pid, syscall.SIGCONT) }

// Pause stops Kamailio dead (SIGSTOP to its process group): a registrar
// that vanishes without closing anything, as when the network drops.
func (k *Kamailio) Pause() error { return syscall.Kill(-k.p.cmd.Process.Pid, syscall.SIGSTOP) }

// Continue resumes a paused Kamailio (SIGCONT).
func (k *Kamailio) Continue() error { return syscall.Kill(-k.p.cmd.Process.Pid, syscall.SIGCONT) }
