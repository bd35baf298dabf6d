package main

// The serial console (phone/console) on console.serial: opened with
// go.bug.st/serial, served for as long as the device runs, and opened again
// when the line fails (a USB adapter pulled and put back).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/hal/sim"
	"deskphone/phone"
	"deskphone/phone/console"
)

// consoleRetry is how long the console waits before opening a failed line
// again.
const consoleRetry = 2 * time.Second

// startConsole serves the console on cfg.Console.Serial, if set, until the
// returned stop is called; stop closes the port and waits, so that the next
// device can open it (the port is opened for exclusive use).
func startConsole(ctx context.Context, cfg *config.Config, p *phone.Phone, board hal.Board, log *slog.Logger) (stop func()) {
	c := cfg.Console
	if c.Serial == "" {
		return func() {}
	}
	log = log.With("console", c.Serial)
	panel := consolePanel(board)
	if panel == nil {
		log.Error("serial console off: this board cannot report its panel (display, LEDs) to the console", "board", board.Name())
		return func() {}
	}
	srv := console.New(p, panel, log)
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var port io.Closer // the open port, closed by stop to end a blocked Read
	done := make(chan struct{})
	go func() {
		defer close(done)
		failing := false // log a line that keeps failing once, not every retry
		for ctx.Err() == nil {
			sp, err := openSerial(c.Serial, c.Baud)
			if err == nil {
				mu.Lock()
				if ctx.Err() != nil { // stopped while opening
					mu.Unlock()
					_ = sp.Close()
					return
				}
				port = sp
				mu.Unlock()
				log.Info("serial console ready", "baud", c.Baud)
				failing = false
				err = srv.Serve(ctx, sp)
				mu.Lock()
				port = nil
				mu.Unlock()
				_ = sp.Close()
				if ctx.Err() != nil {
					return
				}
				if err == nil {
					err = errors.New("end of input")
				}
			}
			if !failing {
				log.Error("serial console: the line failed; retrying", "error", err, "every", consoleRetry,
					"hint", "check console.serial names this board's serial port and that nothing else holds it")
				failing = true
			}
			select {
			case <-ctx.Done():
			case <-time.After(consoleRetry):
			}
		}
	}()
	return func() {
		mu.Lock()
		cancel()
		if port != nil {
			_ = port.Close()
		}
		mu.Unlock()
		<-done
	}
}

// openSerial opens dev at baud, 8N1. A pseudo-terminal (the sim board's
// line in tests) has no line speed; if setting one fails there, it is
// opened as it is.
func openSerial(dev string, baud int) (serial.Port, error) {
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	sp, err := serial.Open(dev, mode)
	if err != nil && strings.HasPrefix(dev, "/dev/pts/") {
		sp, err = serial.Open(dev, &serial.Mode{})
	}
	if err != nil {
		return nil, fmt.Errorf("console.serial: cannot open %s at %d baud: %w", dev, baud, err)
	}
	return sp, nil
}

// consolePanel is the board's panel for the console: a board that
// implements console.Panel itself, or the simulated board; nil otherwise.
func consolePanel(board hal.Board) console.Panel {
	switch b := board.(type) {
	case console.Panel:
		return b
	case *sim.Board:
		return simConsole{b}
	}
	if sb := simOf(board); sb != nil { // the sim profile's parts (drivers.go)
		return simConsole{sb}
	}
	return nil
}

// simConsole adapts the simulated board to console.Panel.
type simConsole struct{ b *sim.Board }

func (s simConsole) Press(k hal.Key) error { return s.b.Press(k) }

func (s simConsole) SetHook(off bool) error {
	s.b.SetHook(off)
	return nil
}

func (s simConsole) Screen() []string { return s.b.Panel().Display }

func (s simConsole) LEDs() []console.LED {
	pn := s.b.Panel()
	out := make([]console.LED, 0, len(pn.LEDs))
	for name, state := range pn.LEDs {
		l := console.LED{Name: name, Color: hal.Color(pn.Colors[name])}
		for _, st := range []hal.LEDState{hal.LEDOff, hal.LEDOn, hal.LEDBlink, hal.LEDFastBlink} {
			if st.String() == state {
				l.State = st
			}
		}
		out = append(out, l)
	}
	return out
}
