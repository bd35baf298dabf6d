package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"deskphone/tools/hil"
)

// The HIL script CI runs: the firmware serves its console on one end of a
// pty (opened with go.bug.st/serial, as a board's UART is), tools/hil
// drives the other end, and the script's peers are baresips on the lab's
// Kamailio. The same script runs against a real board over its serial line.
func TestHILScriptOverPty(t *testing.T) {
	kam := kamailio(t)
	line, err := hil.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = line.Close() })
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Console.Serial, cfg.Console.Baud = line.TTY, 115200
	startPhone(t, cfg)

	script, err := hil.ParseFile("../tools/hil/scripts/call-keypad-hook.hil")
	if err != nil {
		t.Fatal(err)
	}
	lab := &hil.Lab{Registrar: kam.Addr(), Passwords: labUsers, Dir: t.TempDir()}
	var out strings.Builder
	r := &hil.Runner{Console: hil.NewClient(line), Peers: lab, Out: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep := r.Run(ctx, script)
	t.Logf("\n%s", out.String())
	if !rep.Passed() {
		t.Errorf("the script failed; peers' logs:\n%s", lab.Logs())
	}
	if err := lab.Close(); err != nil {
		t.Error(err)
	}
}
