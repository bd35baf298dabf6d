// Package console serves the phone's serial console: a line protocol that a
// test rig (tools/hil) or a technician's terminal speaks over a serial port
// (config console.serial), to press keys, lift the handset, read the display,
// LEDs, state and agent status, and follow the event stream. It knows no
// hardware: it reads and writes an io.ReadWriter and drives a Panel.
//
// # Protocol
//
// One command per line. Input lines end in LF, CR or CRLF (a terminal sends
// CR); empty lines are ignored; the command word is case-insensitive. Every
// command is answered by zero or more data lines, each starting with the
// command's name, and then exactly one final line: "ok", or "err MESSAGE".
// Output lines end in CRLF.
//
//	press KEY [KEY...]   press keys in order: 0-9 * # call end mute, and the
//	                     board's own (free notready rest acw ...)        → ok
//	hook off|on          lift (off hook) or replace (on hook) the handset → ok
//	display              one line per display row, Go-quoted:
//	                       display "1001 Registered"                     → ok
//	leds                 one line, name=state[/colour] sorted by name,
//	                     state off|on|blink|fast-blink:
//	                       leds line=off mute=off registered=on status=on/green → ok
//	state                GET /v1/state's JSON on one line: state {...}   → ok
//	agent                GET /v1/agent/status's JSON on one line: agent {...} → ok
//	events on|off        start or stop pushing events                    → ok
//	help                 one "help ..." line per command                 → ok
//
// While events are on, every event on the phone's bus is pushed as it
// happens, between responses (never inside one), as
//
//	event NAME JSON
//
// e.g. event onAccepted {"sessionId":"..."}. A client tells an event from a
// response by its first word.
package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/event"
)

// Panel is the front panel the console drives and reads. The simulated
// board provides it; a real board provides it by injecting presses into its
// keypad, overriding its hook switch and keeping what it last showed.
type Panel interface {
	Press(k hal.Key) error
	SetHook(offHook bool) error
	Screen() []string // the display's rows, as shown
	LEDs() []LED
}

// LED is one LED as the panel shows it.
type LED struct {
	Name  string
	State hal.LEDState
	Color hal.Color // "" for a single-colour LED
}

// Phone is what the console reads of the phone; *phone.Phone is one.
type Phone interface {
	State() phone.State
	AgentStatus() phone.AgentState
	Bus() *event.Bus
}

// MaxLine is the longest command line accepted, in bytes.
const MaxLine = 1024

// eventBuffer is how many events may wait for a slow line before the bus
// replays them from its buffer (see event.Bus).
const eventBuffer = 256

// Server answers console commands for one phone and panel.
type Server struct {
	phone Phone
	panel Panel
	log   *slog.Logger
}

// New returns a console for p and panel; log may be nil.
func New(p Phone, panel Panel, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{phone: p, panel: panel, log: log}
}

// session is one Serve: the line it writes to and its event subscription.
type session struct {
	s  *Server
	mu sync.Mutex // one response or event line at a time
	w  io.Writer

	stopEvents func() // nil while events are off; guarded by mu
}

// Serve answers commands read from rw until reading fails, and returns
// that error (nil at io.EOF). Pushed events stop when ctx ends or Serve
// returns; to stop Serve itself, close rw.
func (s *Server) Serve(ctx context.Context, rw io.ReadWriter) error {
	ss := &session{s: s, w: rw}
	defer ss.eventsOff()
	r := bufio.NewReader(rw)
	for {
		line, err := readLine(r)
		switch {
		case errors.Is(err, errLineTooLong):
			ss.respond(nil, fmt.Errorf("line longer than %d bytes; send one command per line", MaxLine))
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if line == "" {
			continue
		}
		ss.command(ctx, line)
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its end (LF, CR or CRLF: an
// empty line between CR and LF is returned as "", which Serve skips).
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	tooLong := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			if len(b) > 0 && errors.Is(err, io.EOF) {
				return strings.TrimSpace(string(b)), nil
			}
			return "", err
		}
		if c == '\n' || c == '\r' {
			if tooLong {
				return "", errLineTooLong
			}
			return strings.TrimSpace(string(b)), nil
		}
		if len(b) == MaxLine {
			tooLong = true // read on to the line's end, then refuse it whole
			continue
		}
		b = append(b, c)
	}
}

// command runs one command line and writes its whole response.
func (ss *session) command(ctx context.Context, line string) {
	f := strings.Fields(line)
	name, args := strings.ToLower(f[0]), f[1:]
	var data []string
	var err error
	switch name {
	case "press":
		err = ss.s.press(args)
	case "hook":
		err = ss.s.hook(args)
	case "display":
		data, err = ss.s.display(args)
	case "leds":
		data, err = ss.s.leds(args)
	case "state":
		data, err = jsonLine("state", args, ss.s.phone.State())
	case "agent":
		data, err = jsonLine("agent", args, ss.s.phone.AgentStatus())
	case "events":
		ss.events(ctx, args) // writes its own response, before the first event
		return
	case "help":
		data = helpLines()
	default:
		err = fmt.Errorf("unknown command %q; type help for the list", f[0])
	}
	ss.respond(data, err)
}

// respond writes data lines and the final ok or err as one block.
func (ss *session) respond(data []string, err error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.writeLocked(data, err)
}

func (ss *session) writeLocked(data []string, err error) {
	var b bytes.Buffer
	for _, l := range data {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	if err != nil {
		// A message is one line whatever the error says.
		b.WriteString("err " + strings.Join(strings.Fields(err.Error()), " ") + "\r\n")
	} else {
		b.WriteString("ok\r\n")
	}
	if _, werr := ss.w.Write(b.Bytes()); werr != nil {
		ss.s.log.Warn("console: write failed", "error", werr)
	}
}

func (s *Server) press(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: press KEY [KEY...], e.g. press 1 0 0 2 call")
	}
	for i, k := range args {
		if err := s.panel.Press(hal.Key(k)); err != nil {
			if i > 0 {
				return fmt.Errorf("%w (pressed before it: %s)", err, strings.Join(args[:i], " "))
			}
			return err
		}
	}
	return nil
}

func (s *Server) hook(args []string) error {
	if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		return errors.New("usage: hook off (lift the handset) or hook on (replace it)")
	}
	return s.panel.SetHook(args[0] == "off")
}

func (s *Server) display(args []string) ([]string, error) {
	if len(args) > 0 {
		return nil, errors.New("usage: display (no arguments)")
	}
	rows := s.panel.Screen()
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = "display " + strconv.Quote(r)
	}
	return out, nil
}

func (s *Server) leds(args []string) ([]string, error) {
	if len(args) > 0 {
		return nil, errors.New("usage: leds (no arguments)")
	}
	leds := s.panel.LEDs()
	sort.Slice(leds, func(i, j int) bool { return leds[i].Name < leds[j].Name })
	var b strings.Builder
	b.WriteString("leds")
	for _, l := range leds {
		b.WriteString(" " + l.Name + "=" + l.State.String())
		if l.Color != "" {
			b.WriteString("/" + string(l.Color))
		}
	}
	return []string{b.String()}, nil
}

// jsonLine is "NAME {json}" for a command that takes no arguments.
func jsonLine(name string, args []string, v any) ([]string, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("usage: %s (no arguments)", name)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return []string{name + " " + string(b)}, nil
}

// events turns the push on or off. The subscription is taken before "ok"
// is written, so no event published after the ok is missed.
func (ss *session) events(ctx context.Context, args []string) {
	if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		ss.respond(nil, errors.New("usage: events on or events off"))
		return
	}
	if args[0] == "off" {
		ss.eventsOff()
		ss.respond(nil, nil)
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.stopEvents == nil {
		ch, unsubscribe := ss.s.phone.Bus().Subscribe(eventBuffer)
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			ss.pump(pctx, ch)
		}()
		ss.stopEvents = func() {
			cancel()
			unsubscribe()
			<-done
		}
	}
	ss.writeLocked(nil, nil) // the pump waits for mu: "ok" comes first
}

func (ss *session) eventsOff() {
	ss.mu.Lock()
	stop := ss.stopEvents
	ss.stopEvents = nil
	ss.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// pump writes each event as one line until ctx ends or the bus closes ch.
func (ss *session) pump(ctx context.Context, ch <-chan event.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			data, err := json.Marshal(e.Data)
			if err != nil {
				data, _ = json.Marshal(map[string]string{"error": err.Error()})
			}
			ss.mu.Lock()
			if ctx.Err() == nil { // events off while we waited: drop it
				if _, err := fmt.Fprintf(ss.w, "event %s %s\r\n", e.Name, data); err != nil {
					ss.s.log.Warn("console: write failed", "error", err)
				}
			}
			ss.mu.Unlock()
		}
	}
}

func helpLines() []string {
	return []string{
		"help press KEY [KEY...]  press keys: 0-9 * # call end mute, and the board's own (free notready rest acw)",
		"help hook off|on         lift or replace the handset",
		"help display             the display's rows, quoted",
		"help leds                the LEDs: name=state[/colour]",
		"help state               the phone's state as JSON (GET /v1/state)",
		"help agent               the agent status as JSON (GET /v1/agent/status)",
		"help events on|off       push every event as: event NAME JSON",
		"help help                this list",
	}
}
