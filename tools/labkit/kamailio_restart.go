package labkit

import (
	"fmt"
	"strconv"
	"syscall"
	"time"
)

// Kill kills Kamailio's whole process group at once (SIGKILL), as a crash
// or a power cut would: the registrations it held in memory are gone.
// Restart brings it back on the same port.
func (k *Kamailio) Kill() error {
	pgid := k.p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-k.p.done
	deadline := time.Now().Add(10 * time.Second)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailio: workers of group %d still alive 10 s after SIGKILL", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Restart starts a killed or stopped Kamailio again on the same port with
// the same configuration (it is stopped first if it still runs), and
// returns once it answers OPTIONS: the moment a client can use it again.
// Each run logs to its own file, kamailio.restartN.log.
func (k *Kamailio) Restart() error {
	if !k.p.exited() {
		if err := k.p.stop(10 * time.Second); err != nil {
			return err
		}
	}
	k.restarts++
	return k.run("kamailio.restart" + strconv.Itoa(k.restarts) + ".log")
}
