package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/event"
)

// fakePhone is a phone with a fixed state and a real bus.
type fakePhone struct{ bus *event.Bus }

func (f fakePhone) State() phone.State {
	return phone.State{Extension: "1001", Registration: phone.RegistrationInfo{State: "registered"}, Sessions: []phone.SessionState{}}
}

func (f fakePhone) AgentStatus() phone.AgentState {
	return phone.AgentState{StatusInfo: phone.StatusInfo{Status: "free"}, RestReasons: []string{"Meal"}}
}
func (f fakePhone) Bus() *event.Bus { return f.bus }

// fakePanel records presses and hook changes.
type fakePanel struct {
	mu      sync.Mutex
	pressed []hal.Key
	offHook bool
	screen  []string
}

func (p *fakePanel) Press(k hal.Key) error {
	if k == "bogus" {
		return errors.New(`unknown key "bogus"; valid keys are 0-9 * # call end mute`)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pressed = append(p.pressed, k)
	return nil
}

func (p *fakePanel) SetHook(off bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offHook = off
	return nil
}

func (p *fakePanel) Screen() []string { return slices.Clone(p.screen) }

func (p *fakePanel) LEDs() []LED {
	return []LED{{Name: "status", State: hal.LEDOn, Color: hal.Green}, {Name: "line", State: hal.LEDFastBlink}, {Name: "mute"}}
}

// client is the other end of the line.
type client struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
}

// serve starts a console and returns its client; the console stops at cleanup.
func serve(t *testing.T, bus *event.Bus, panel Panel) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := New(fakePhone{bus}, panel, nil)
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(context.Background(), struct {
			io.Reader
			io.Writer
		}{inR, outW})
	}()
	c := &client{t: t, in: inW, lines: make(chan string, 1024)}
	go func() {
		r := bufio.NewReader(outR)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(c.lines)
				return
			}
			c.lines <- strings.TrimSuffix(l, "\n")
		}
	}()
	t.Cleanup(func() {
		_ = inW.Close() // EOF: Serve returns nil
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve = %v, want nil at EOF", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return at EOF")
		}
		_ = outW.Close()
	})
	return c
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, raw); err != nil {
		c.t.Fatal(err)
	}
}

// next is the next output line, which must end in CR (CRLF on the wire).
func (c *client) next() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatal("console output closed")
		}
		if !strings.HasSuffix(l, "\r") {
			c.t.Fatalf("line %q does not end in CRLF", l)
		}
		return strings.TrimSuffix(l, "\r")
	case <-time.After(5 * time.Second):
		c.t.Fatal("no line from the console within 5s")
		return ""
	}
}

// do sends a command and returns the lines up to and with the final one.
func (c *client) do(cmd string) []string {
	c.t.Helper()
	c.send(cmd + "\n")
	var out []string
	for {
		l := c.next()
		out = append(out, l)
		if l == "ok" || strings.HasPrefix(l, "err ") {
			return out
		}
	}
}

func want(t *testing.T, cmd string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", cmd, got, want)
	}
}

func TestCommands(t *testing.T) {
	p := &fakePanel{screen: []string{"1001 Registered", "  Free", ""}}
	c := serve(t, event.NewBus(), p)

	want(t, "press", c.do("press 1 0 0 2 call"), "ok")
	if !slices.Equal(p.pressed, []hal.Key{"1", "0", "0", "2", "call"}) {
		t.Errorf("pressed %q", p.pressed)
	}
	want(t, "press bogus", c.do("press 5 bogus 6"), `err unknown key "bogus"; valid keys are 0-9 * # call end mute (pressed before it: 5)`)
	want(t, "press", c.do("press"), "err usage: press KEY [KEY...], e.g. press 1 0 0 2 call")

	want(t, "hook off", c.do("HOOK off"), "ok")
	if !p.offHook {
		t.Error("hook off did not lift the handset")
	}
	want(t, "hook on", c.do("hook on"), "ok")
	if p.offHook {
		t.Error("hook on did not replace the handset")
	}
	want(t, "hook up", c.do("hook up"), "err usage: hook off (lift the handset) or hook on (replace it)")

	want(t, "display", c.do("display"), `display "1001 Registered"`, `display "  Free"`, `display ""`, "ok")
	want(t, "leds", c.do("leds"), "leds line=fast-blink mute=off status=on/green", "ok")

	st := c.do("state")
	if len(st) != 2 || st[1] != "ok" || !strings.HasPrefix(st[0], "state {") {
		t.Fatalf("state = %q", st)
	}
	var s struct {
		Extension    string                 `json:"extension"`
		Registration struct{ State string } `json:"registration"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(st[0], "state ")), &s); err != nil || s.Extension != "1001" || s.Registration.State != "registered" {
		t.Errorf("state JSON %q: %+v %v", st[0], s, err)
	}
	want(t, "agent", c.do("agent"), `agent {"status":"free","since":0,"restReasons":["Meal"]}`, "ok")
	want(t, "state x", c.do("state x"), "err usage: state (no arguments)")
	want(t, "unknown", c.do("dial 1002"), `err unknown command "dial"; type help for the list`)

	h := c.do("help")
	if len(h) != 9 || h[8] != "ok" || !strings.HasPrefix(h[0], "help press KEY") {
		t.Errorf("help = %q", h)
	}
}

// A terminal sends CR alone; CRLF is one end; blank lines get no answer.
func TestLineEnds(t *testing.T) {
	p := &fakePanel{}
	c := serve(t, event.NewBus(), p)
	c.send("press 1\r\r\n  \npress 2\r\npress 3\n")
	for range 3 {
		if l := c.next(); l != "ok" {
			t.Fatalf("got %q, want ok", l)
		}
	}
	want(t, "too long", c.do(strings.Repeat("x", MaxLine+1)), fmt.Sprintf("err line longer than %d bytes; send one command per line", MaxLine))
	want(t, "after", c.do("press 4"), "ok") // the console goes on after a long line
	if !slices.Equal(p.pressed, []hal.Key{"1", "2", "3", "4"}) {
		t.Errorf("pressed %q", p.pressed)
	}
}

func TestEvents(t *testing.T) {
	bus := event.NewBus()
	c := serve(t, bus, &fakePanel{})
	bus.Publish(event.Registration, map[string]string{"state": "before"}) // events are off: not sent
	want(t, "events on", c.do("events on"), "ok")
	bus.Publish(event.Accepted, map[string]string{"sessionId": "s1"})
	if l := c.next(); l != `event onAccepted {"sessionId":"s1"}` {
		t.Fatalf("event line = %q", l)
	}
	want(t, "events on again", c.do("events on"), "ok") // no second subscription
	bus.Publish(event.Ended, map[string]string{"sessionId": "s1"})
	if l := c.next(); l != `event onEnded {"sessionId":"s1"}` {
		t.Fatalf("event line = %q", l)
	}
	want(t, "events off", c.do("events off"), "ok")
	bus.Publish(event.Accepted, map[string]string{"sessionId": "s2"})
	// Had the event been pushed, it would come before leds' answer.
	want(t, "leds", c.do("leds"), "leds line=fast-blink mute=off status=on/green", "ok")
	want(t, "events", c.do("events"), "err usage: events on or events off")
}

// Events never land inside a response: a display answer's rows stay
// together however many events are pushed meanwhile.
func TestEventsBetweenResponses(t *testing.T) {
	bus := event.NewBus()
	c := serve(t, bus, &fakePanel{screen: []string{"a", "b", "c", "d"}})
	want(t, "events on", c.do("events on"), "ok")
	const n = 200
	go func() {
		for i := range n {
			bus.Publish("tick", i)
		}
	}()
	events := 0
	for range 20 {
		c.send("display\n")
		var rows []string
		for {
			l := c.next()
			if strings.HasPrefix(l, "event tick ") {
				if len(rows) > 0 {
					t.Fatalf("an event came inside a display answer after %q", rows)
				}
				events++
				continue
			}
			rows = append(rows, l)
			if l == "ok" {
				break
			}
		}
		want(t, "display", rows, `display "a"`, `display "b"`, `display "c"`, `display "d"`, "ok")
	}
	for events < n {
		if l := c.next(); !strings.HasPrefix(l, "event tick ") {
			t.Fatalf("got %q, want an event", l)
		}
		events++
	}
}
