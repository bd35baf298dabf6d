package hil

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/console"
	"deskphone/phone/event"
)

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader(`# a comment
press 1 0 0 2 call   # trailing comment
hook off
expect display "Talking 1002" within 3s
expect display "within"
expect led status=on/green
expect event onEnded reason=LocalBye rtp.packetsLost=0 within 10s
expect state sessions.0.state=connected
expect agent free within 1s
expect peer baresip 1003 CALL_ESTABLISHED
peer baresip 1003 start auto
peer baresip 1003 dial 1001
wait 500ms
console events off
`), "t.hil")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		line       int
		verb, what string
		args       string
		within     time.Duration
		user       string
	}
	wants := []want{
		{2, "press", "", "1 0 0 2 call", 0, ""},
		{3, "hook", "", "off", 0, ""},
		{4, "expect", "display", "Talking 1002", 3 * time.Second, ""},
		{5, "expect", "display", "within", DefaultWithin, ""}, // quoted: text, not the keyword
		{6, "expect", "led", "status=on/green", DefaultWithin, ""},
		{7, "expect", "event", "onEnded reason=LocalBye rtp.packetsLost=0", 10 * time.Second, ""},
		{8, "expect", "state", "sessions.0.state=connected", DefaultWithin, ""},
		{9, "expect", "agent", "free", time.Second, ""},
		{10, "expect", "peer", "CALL_ESTABLISHED", DefaultWithin, "1003"},
		{11, "peer", "start", "auto", 0, "1003"},
		{12, "peer", "dial", "1001", 0, "1003"},
		{13, "wait", "", "", 500 * time.Millisecond, ""},
		{14, "console", "", "events off", 0, ""},
	}
	if len(s.Steps) != len(wants) {
		t.Fatalf("%d steps, want %d: %+v", len(s.Steps), len(wants), s.Steps)
	}
	for i, w := range wants {
		st := s.Steps[i]
		got := want{st.Line, st.Verb, st.What, strings.Join(st.Args, " "), st.Within, st.User}
		if got != w {
			t.Errorf("step %d = %+v, want %+v", i, got, w)
		}
	}
	if s.Steps[2].Text != `expect display "Talking 1002" within 3s` || s.Steps[0].Text != "press 1 0 0 2 call" {
		t.Errorf("step texts %q, %q", s.Steps[2].Text, s.Steps[0].Text)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"dial 1002", `t.hil:1: unknown step "dial"; steps are press, hook, expect, peer, wait, console`},
		{"press", "t.hil:1: press needs keys, e.g. press 1 0 0 2 call"},
		{"hook up", "t.hil:1: write hook off (lift the handset) or hook on (replace it)"},
		{`expect display "Dial:`, `t.hil:1: unterminated quote: "Dial:; close it with "`},
		{`expect display "Dial:" within soon`, "t.hil:1: within soon: not a duration; write e.g. within 2s"},
		{"expect led line=glowing", "t.hil:1: write expect led NAME=STATE[/COLOUR] with STATE off, on, blink or fast-blink, e.g. expect led line=on or expect led status=on/green"},
		{"expect event onEnded LocalBye", `t.hil:1: "LocalBye": event fields are FIELD=VALUE, e.g. reason=LocalBye (dotted for nested fields: rtp.packetsLost=0)`},
		{"expect colour red", "t.hil:1: expect colour: expect display, led, event, state, agent or peer"},
		{"peer sipp 1003 start", "t.hil:1: write peer baresip USER start [auto|manual], dial NUMBER, answer, hangup, dtmf DIGITS or stop"},
		{"peer baresip 1003 dial", "t.hil:1: peer baresip 1003 dial: write peer baresip USER start [auto|manual], dial NUMBER, answer, hangup, dtmf DIGITS or stop"},
		{"wait 0s", "t.hil:1: wait 0s: not a duration; write e.g. 500ms or 2s"},
		{"# only a comment", "hil: t.hil has no steps; see tools/hil/README.md for the format"},
	} {
		_, err := Parse(strings.NewReader(c.line), "t.hil")
		want := c.want
		if !strings.HasPrefix(want, "hil: ") {
			want = "hil: " + want
		}
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", c.line, err, want)
		}
	}
	// Every bad line is reported, each with its line.
	_, err := Parse(strings.NewReader("press 1\nhook up\npress 2\nwait\n"), "t.hil")
	if err == nil || !strings.Contains(err.Error(), "t.hil:2: write hook") || !strings.Contains(err.Error(), "t.hil:4: write wait DURATION") {
		t.Errorf("two bad lines: %v", err)
	}
}

// A console served by phone/console over pipes, with a panel that acts a
// little like the phone: digits show "Dial:", call publishes the call's
// events after the answer, and the line LED follows.
type fakePhone struct{ bus *event.Bus }

func (f fakePhone) State() phone.State {
	return phone.State{Extension: "1001", Sessions: []phone.SessionState{}}
}
func (f fakePhone) AgentStatus() phone.AgentState {
	return phone.AgentState{StatusInfo: phone.StatusInfo{Status: "free"}}
}
func (f fakePhone) Bus() *event.Bus { return f.bus }

type fakePanel struct {
	bus    *event.Bus
	mu     sync.Mutex
	screen []string
	line   hal.LEDState
}

func (p *fakePanel) Press(k hal.Key) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case k.IsDigit():
		p.screen = []string{"Dial:", string(k)}
	case k == hal.KeyCall:
		p.screen, p.line = []string{"Talking 1002"}, hal.LEDOn
		go p.bus.Publish(event.Accepted, map[string]any{"sessionId": "s1", "rtp": map[string]int{"packetsLost": 0}})
	}
	return nil
}
func (p *fakePanel) SetHook(bool) error { return nil }
func (p *fakePanel) Screen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.screen
}
func (p *fakePanel) LEDs() []console.LED {
	p.mu.Lock()
	defer p.mu.Unlock()
	return []console.LED{{Name: "line", State: p.line}, {Name: "status", State: hal.LEDOn, Color: hal.Green}}
}

func serveConsole(t *testing.T) *Client {
	t.Helper()
	bus := event.NewBus()
	srv := console.New(fakePhone{bus}, &fakePanel{bus: bus, screen: []string{"1001 Registered"}}, nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(context.Background(), struct {
			io.Reader
			io.Writer
		}{inR, outW})
		outW.Close()
	}()
	t.Cleanup(func() {
		inW.Close()
		<-done
	})
	return NewClient(struct {
		io.Reader
		io.Writer
	}{outR, inW})
}

func TestRunPass(t *testing.T) {
	s, err := Parse(strings.NewReader(`
expect display "Registered" within 2s
press 1
expect display "Dial:" within 2s
press call
expect display "Talking 1002" within 2s
expect led line=on within 2s
expect led status=on/green
expect led status=on
expect event onAccepted sessionId=s1 rtp.packetsLost=0 within 2s
expect state extension=1001
expect agent free
`), "pass.hil")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &Runner{Console: serveConsole(t), Out: &out, Poll: 5 * time.Millisecond}
	rep := r.Run(context.Background(), s)
	if !rep.Passed() || len(rep.Results) != 11 {
		t.Fatalf("run failed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "hil: pass.hil: PASS: 11 passed, 0 failed, 0 skipped in ") {
		t.Errorf("report:\n%s", out.String())
	}
}

// A failing expect says what was seen; the steps after it are skipped;
// an event is consumed once.
func TestRunFail(t *testing.T) {
	s, err := Parse(strings.NewReader(`press call
expect event onAccepted within 2s
expect event onAccepted within 50ms
press 1
`), "fail.hil")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &Runner{Console: serveConsole(t), Out: &out, Poll: 5 * time.Millisecond}
	rep := r.Run(context.Background(), s)
	got := []string{}
	for _, x := range rep.Results {
		got = append(got, x.Status)
	}
	if rep.Passed() || strings.Join(got, " ") != "pass pass FAIL skip" {
		t.Fatalf("statuses %v:\n%s", got, out.String())
	}
	if e := rep.Results[2].Err; e == nil || e.Error() != "no onAccepted event matching (any) within 50ms; events so far: onAccepted" {
		t.Errorf("failure: %v", e)
	}
	if !strings.Contains(out.String(), "FAIL: 2 passed, 1 failed, 1 skipped") {
		t.Errorf("report:\n%s", out.String())
	}

	// An expect on the panel reports what it last saw. The windows are
	// long enough for a console answer on a loaded machine: the test waits
	// them out, so their length costs nothing when things are quick.
	s, _ = Parse(strings.NewReader(`expect display "Ringing" within 1s
`), "display.hil")
	rep = r.Run(context.Background(), s)
	if e := rep.Results[0].Err; e == nil || e.Error() != `not within 1s: the display shows "Talking 1002"` {
		t.Errorf("display failure: %v", e)
	}
	s, _ = Parse(strings.NewReader(`expect led mute=on within 1s
peer baresip 1003 dial 1001
`), "led.hil")
	rep = r.Run(context.Background(), s)
	if e := rep.Results[0].Err; e == nil || e.Error() != `not within 1s: LED mute is missing (leds line=on status=on/green)` {
		t.Errorf("led failure: %v", e)
	}
	s, _ = Parse(strings.NewReader("peer baresip 1003 dial 1001\n"), "peer.hil")
	rep = r.Run(context.Background(), s)
	if e := rep.Results[0].Err; e == nil || !strings.Contains(e.Error(), "this run has no peers") {
		t.Errorf("peer without a lab: %v", e)
	}
}
