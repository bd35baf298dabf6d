package ui_test

// Unit tests of the front panel against a phone on the fake signalling
// stack (phone/signal/sigtest): keys and the hook switch in, display lines
// and LEDs out. No network but RTP sockets on 127.0.0.1; every wait polls
// with a deadline.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
	"deskphone/phone/signal/sigtest"
	"deskphone/phone/ui"
)

const wait = 2 * time.Second // longest wait for something that must happen

// clockRow is the idle screen's third row on 4×20: the time of day at the right.
var clockRow = regexp.MustCompile(`^ {15}\d\d:\d\d$`)

// ---------------------------------------------------------------- fake front

// front is a fake board front: it records what the UI shows and lights,
// and lets the test press keys and lift the handset.
type front struct {
	rows, cols int
	presses    chan hal.Key
	changes    chan bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every Show / SetLED
	lines   []string      // the last Show, as the UI gave it
	screen  []string      // the same, as a rows×cols display shows it
	shows   int
	leds    map[string]hal.LEDState
	offHook bool
}

var _ ui.Front = (*front)(nil)

func newFront(rows, cols int) *front {
	return &front{
		rows: rows, cols: cols,
		presses: make(chan hal.Key, 64), changes: make(chan bool, 8),
		changed: make(chan struct{}), leds: map[string]hal.LEDState{},
	}
}

func (f *front) Presses() <-chan hal.Key { return f.presses }
func (f *front) Changes() <-chan bool    { return f.changes }
func (f *front) Size() (rows, cols int)  { return f.rows, f.cols }

func (f *front) OffHook() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offHook
}

// Show cuts the lines as hal/sim's board does: at most rows lines of at
// most cols characters.
func (f *front) Show(lines []string) error {
	screen := make([]string, f.rows)
	for i := range min(len(lines), f.rows) {
		screen[i] = lines[i]
		if r := []rune(lines[i]); len(r) > f.cols {
			screen[i] = string(r[:f.cols])
		}
	}
	f.mu.Lock()
	f.lines = slices.Clone(lines)
	f.screen = screen
	f.shows++
	f.fireLocked()
	f.mu.Unlock()
	return nil
}

func (f *front) SetLED(name string, st hal.LEDState) error {
	f.mu.Lock()
	f.leds[name] = st
	f.fireLocked()
	f.mu.Unlock()
	return nil
}

func (f *front) fireLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// view is one consistent look at the front.
type view struct {
	lines  []string
	screen []string
	leds   map[string]hal.LEDState
	shows  int
}

func (v view) line(i int) string {
	if i < len(v.lines) {
		return v.lines[i]
	}
	return ""
}

func (v view) String() string {
	return fmt.Sprintf("lines %q screen %q line LED %v mute LED %v reg LED %v",
		v.lines, v.screen, v.leds[hal.LEDLine], v.leds[hal.LEDMute], v.leds[hal.LEDReg])
}

func (f *front) view() (view, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return view{slices.Clone(f.lines), slices.Clone(f.screen), maps.Clone(f.leds), f.shows}, f.changed
}

// ---------------------------------------------------------------- harness

type harness struct {
	t     *testing.T
	p     *phone.Phone
	calls *sigtest.Calls
	front *front
	u     *ui.UI
}

func newHarness(t *testing.T, rows, cols int, tweak func(*config.Config)) *harness {
	t.Helper()
	cfg := sigtest.Config("42000-42999", tweak)
	calls := &sigtest.Calls{}
	p, err := phone.NewWithCalls(cfg, nil, event.NewBus(), slog.New(slog.DiscardHandler), calls)
	if err != nil {
		t.Fatal(err)
	}
	fr := newFront(rows, cols)
	u := ui.New(p, fr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), wait)
		defer ccancel()
		if err := p.Close(cctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		cancel()
		<-done
	})
	h := &harness{t: t, p: p, calls: calls, front: fr, u: u}
	h.wait("the first render", func(v view) bool { return v.shows > 0 })
	return h
}

// wait polls the front until cond holds, failing the test after `wait`.
func (h *harness) wait(what string, cond func(v view) bool) view {
	h.t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		v, changed := h.front.view()
		if cond(v) {
			return v
		}
		select {
		case <-changed:
		case <-deadline.C:
			v, _ = h.front.view()
			if cond(v) {
				return v
			}
			h.t.Fatalf("timed out waiting for %s; front: %v", what, v)
		}
	}
}

// waitLines waits until the display's lines 1.. start with want (""
// entries match anything, "X*" any line that starts with X) and the line
// LED shows led.
func (h *harness) waitLines(led hal.LEDState, want ...string) view {
	h.t.Helper()
	return h.wait(fmt.Sprintf("lines %q, line LED %v", want, led), func(v view) bool {
		for i, w := range want {
			if prefix, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(v.line(i+1), prefix) {
				continue
			}
			if w != "" && v.line(i+1) != w {
				return false
			}
		}
		return v.leds[hal.LEDLine] == led
	})
}

func (h *harness) press(keys ...hal.Key) {
	for _, k := range keys {
		h.front.presses <- k
	}
}

func (h *harness) hook(off bool) {
	h.front.mu.Lock()
	h.front.offHook = off
	h.front.mu.Unlock()
	h.front.changes <- off
}

// session is the phone's state of session sid (State "ended" once gone).
func (h *harness) session(sid string) phone.SessionState {
	for _, s := range h.p.State().Sessions {
		if s.SessionID == sid {
			return s
		}
	}
	return phone.SessionState{SessionID: sid, State: phone.StateEnded}
}

func (h *harness) waitState(sid string, want phone.CallState) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for h.session(sid).State != want {
		if time.Now().After(deadline) {
			h.t.Fatalf("session %s is %s, want %s", sid, h.session(sid).State, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// connect places a call to 2000 through the SDK and has the far end answer.
func (h *harness) connect(remark string) (string, *sigtest.Dialog) {
	h.t.Helper()
	sid, err := h.p.Call("2000", remark, "")
	if err != nil {
		h.t.Fatal(err)
	}
	o := h.calls.WaitDial(h.t, wait)
	o.Progress(180)
	d := o.Answer(nil) // OnAnswer runs here: connected, media up
	h.waitState(sid, phone.StateConnected)
	return sid, d
}

// ring delivers an inbound call from caller and returns its session id.
func (h *harness) ring(in *sigtest.Incoming) string {
	h.t.Helper()
	h.calls.Ring(in) // onIncoming runs here
	for _, s := range h.p.State().Sessions {
		if s.SessionDirection == phone.CallIn && s.Caller == in.Caller().User && s.State == phone.StateRinging {
			return s.SessionID
		}
	}
	h.t.Fatalf("no ringing session from %s: %+v", in.Caller().User, h.p.State().Sessions)
	return ""
}

// ---------------------------------------------------------------- tests

// Idle, digits, the call key, and an outbound call through its states.
func TestDialOutbound(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	v := h.waitLines(hal.LEDOff, "Free *")
	if want := []string{"1001 Logged out", v.line(1), v.line(2), ""}; !slices.Equal(v.lines, want) || !strings.HasPrefix(v.line(1), "Free 00:") ||
		!clockRow.MatchString(v.line(2)) {
		t.Errorf("idle screen %q, want %q with the time of day at the right of row 3", v.lines, want)
	}
	if v.leds[hal.LEDMute] != hal.LEDOff || v.leds[hal.LEDReg] != hal.LEDOff {
		t.Errorf("idle LEDs: %v", v)
	}

	h.press("2", "0")
	h.waitLines(hal.LEDOff, "Dial:", "20")
	h.press("0", "0")
	h.waitLines(hal.LEDOff, "Dial:", "2000")
	if len(h.calls.Dials()) != 0 {
		t.Fatal("digits alone placed a call")
	}

	h.press(hal.KeyCall)
	o := h.calls.WaitDial(t, wait)
	if o.Req.To != "2000" {
		t.Errorf("INVITE to %q, want 2000", o.Req.To)
	}
	h.waitLines(hal.LEDBlink, "Call 2000", "Calling...")
	o.Progress(180)
	h.waitLines(hal.LEDBlink, "Call 2000", "Ringing...")
	d := o.Answer(nil)
	v = h.waitLines(hal.LEDOn, "Talking 2000")
	if v.line(2) != "00:00" && v.line(2) != "00:01" {
		t.Errorf("call timer %q, want 00:00", v.line(2))
	}

	h.press(hal.KeyEnd)
	d.WaitReq(t, "BYE", 1, wait)
	h.waitLines(hal.LEDOff, "Free *", "", "Ended: you hung up")

	// The end key while idle clears the notice and the digits.
	h.press("5", hal.KeyEnd)
	h.waitLines(hal.LEDOff, "Free *", "", "")
}

// The end key cancels a call that is not answered yet.
func TestCancelDialing(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	h.press("2", "0", "0", "0", hal.KeyCall)
	o := h.calls.WaitDial(t, wait)
	h.waitLines(hal.LEDBlink, "Call 2000", "Calling...")
	h.press(hal.KeyEnd)
	select {
	case <-o.Canceled():
	case <-time.After(wait):
		t.Fatal("the end key did not cancel the INVITE")
	}
	h.waitLines(hal.LEDOff, "Free *", "", "Ended: you hung up")
}

// A call's remark (or user data) is shown instead of the number.
func TestRemarkInsteadOfNumber(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	sid, err := h.p.Call("2000", "ACME order 42", "")
	if err != nil {
		t.Fatal(err)
	}
	o := h.calls.WaitDial(t, wait)
	h.waitLines(hal.LEDBlink, "Call ACME order 42", "Calling...", "ACME order 42")
	o.Answer(nil)
	h.waitLines(hal.LEDOn, "Talk ACME order 42") // "Talking ACME order 42" is 21 wide
	if err := h.p.Terminate(sid); err != nil {
		t.Fatal(err)
	}
	h.waitLines(hal.LEDOff, "Free *")

	// Inbound: the user data of the INVITE (RFC 7433, hex).
	in := sigtest.NewIncoming("3000", "1001", "", map[string]string{"User-to-User": "6f726465723d3432;encoding=hex"})
	h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Incoming call", "From order=42")
}

// An inbound call rings (fast blink) and the call key answers it.
func TestInboundAnswerByKey(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	sid := h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Incoming call", "From 3000")
	h.press(hal.KeyCall)
	d := in.WaitAnswer(t, wait)
	h.waitLines(hal.LEDOn, "Talking 3000")
	h.waitState(sid, phone.StateConnected)
	d.FarBye()
	h.waitLines(hal.LEDOff, "Free *", "", "Far end hung up")
	if d.Count("BYE") != 0 {
		t.Error("BYE sent for a call the far end hung up")
	}
}

// The hook switch: lifting the handset answers, hanging it up ends the call.
func TestHook(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Incoming call")
	h.hook(true)
	d := in.WaitAnswer(t, wait)
	h.waitLines(hal.LEDOn, "Talking 3000")
	h.hook(false)
	d.WaitReq(t, "BYE", 1, wait)
	h.waitLines(hal.LEDOff, "Free *", "", "Ended: you hung up")

	// The end key rejects a ringing call (603).
	in = sigtest.NewIncoming("3001", "1001", "", nil)
	h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Incoming call", "From 3001")
	h.press(hal.KeyEnd)
	if code := in.WaitReject(t, wait); code != 603 {
		t.Errorf("rejected with %d, want 603", code)
	}
	h.waitLines(hal.LEDOff, "Free *")
}

// Our hold (blink), the call key resuming, and the far end's hold.
func TestHoldAndHeldBy(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	sid, d := h.connect("")
	h.waitLines(hal.LEDOn, "Talking 2000")

	if err := h.p.Hold(sid); err != nil {
		t.Fatal(err)
	}
	h.waitState(sid, phone.StateHeld)
	h.waitLines(hal.LEDBlink, "On hold 2000")
	if dir := sigtest.Direction(d.WaitReq(t, "INVITE", 1, wait).SDP); dir != media.SendOnly {
		t.Errorf("hold offer %q, want sendonly", dir)
	}

	h.press(hal.KeyCall) // resumes a held call
	h.waitState(sid, phone.StateConnected)
	h.waitLines(hal.LEDOn, "Talking 2000")
	if dir := sigtest.Direction(d.WaitReq(t, "INVITE", 2, wait).SDP); dir != media.SendRecv {
		t.Errorf("resume offer %q, want sendrecv", dir)
	}

	if _, code := d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendOnly)); code != 200 {
		t.Fatalf("far hold answered %d", code)
	}
	h.waitLines(hal.LEDOn, "Held by 2000")
	if _, code := d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendRecv)); code != 200 {
		t.Fatalf("far resume answered %d", code)
	}
	h.waitLines(hal.LEDOn, "Talking 2000")
}

// Call waiting: a second call rings while one is talked on; the call key
// answers it (the first is held), the end key hangs it up, the call key
// resumes the first.
func TestCallWaiting(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	sid1, d1 := h.connect("")
	h.waitLines(hal.LEDOn, "Talking 2000")

	in := sigtest.NewIncoming("3000", "1001", "", nil)
	sid2 := h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Call waiting", "From 3000", "L2 connected 2000")

	h.press(hal.KeyCall)
	d2 := in.WaitAnswer(t, wait)
	h.waitState(sid1, phone.StateHeld)
	h.waitState(sid2, phone.StateConnected)
	h.waitLines(hal.LEDOn, "Talking 3000", "", "L2 held 2000")
	if dir := sigtest.Direction(d1.WaitReq(t, "INVITE", 1, wait).SDP); dir != media.SendOnly {
		t.Errorf("first call's hold offer %q, want sendonly", dir)
	}

	h.press(hal.KeyEnd) // ends the call talked on, not the held one
	d2.WaitReq(t, "BYE", 1, wait)
	h.waitLines(hal.LEDBlink, "On hold 2000")
	if d1.Count("BYE") != 0 {
		t.Error("the end key hung up the held call too")
	}

	h.press(hal.KeyCall)
	h.waitState(sid1, phone.StateConnected)
	h.waitLines(hal.LEDOn, "Talking 2000")
}

// The mute key toggles MUTED and the mute LED.
func TestMuteKey(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	sid, _ := h.connect("")
	h.waitLines(hal.LEDOn, "Talking 2000")
	h.press(hal.KeyMute)
	h.wait("MUTED and the mute LED on", func(v view) bool {
		return strings.HasSuffix(v.line(2), " MUTED") && v.leds[hal.LEDMute] == hal.LEDOn
	})
	if !h.session(sid).Muted {
		t.Error("the phone's session is not muted")
	}
	h.press(hal.KeyMute)
	h.wait("MUTED gone and the mute LED off", func(v view) bool {
		return !strings.Contains(v.line(2), "MUTED") && v.leds[hal.LEDMute] == hal.LEDOff
	})
	if h.session(sid).Muted {
		t.Error("the phone's session is still muted")
	}
}

// Digits typed in a call go out as DTMF and show on the third line, with
// the far end's.
func TestDTMFDigits(t *testing.T) {
	h := newHarness(t, 4, 20, func(c *config.Config) { c.Audio.DTMFMode = "info" })
	_, d := h.connect("")
	h.waitLines(hal.LEDOn, "Talking 2000")
	h.press("1", "2", "#")
	h.waitLines(hal.LEDOn, "Talking 2000", "", "12#")
	r := d.WaitReq(t, "INFO", 3, wait)
	if string(r.Body) != "Signal=#\r\nDuration=160\r\n" {
		t.Errorf("third INFO body %q", r.Body)
	}
	d.FarDTMF('9')
	h.waitLines(hal.LEDOn, "Talking 2000", "", "12#9")
}

// How a call ended is shown on the idle screen.
func TestEndNotices(t *testing.T) {
	for _, c := range []struct {
		name, want string
		run        func(h *harness)
	}{
		{"far end hangs up", "Far end hung up", func(h *harness) {
			_, d := h.connect("")
			d.FarBye()
		}},
		{"end key", "Ended: you hung up", func(h *harness) {
			_, d := h.connect("")
			h.waitLines(hal.LEDOn, "Talking 2000")
			h.press(hal.KeyEnd)
			d.WaitReq(h.t, "BYE", 1, wait)
		}},
		{"caller gives up", "Missed call", func(h *harness) {
			in := sigtest.NewIncoming("3000", "1001", "", nil)
			h.ring(in)
			h.waitLines(hal.LEDFastBlink, "Incoming call")
			in.Cancel()
		}},
		{"transferred", "Transferred", func(h *harness) {
			sid, d := h.connect("")
			if err := h.p.Transfer(sid, "4000"); err != nil {
				h.t.Fatal(err)
			}
			h.waitLines(hal.LEDOn, "Transfer 2000", "", "Transferring...")
			if r := d.WaitReq(h.t, "REFER", 1, wait); r.Target != "4000" {
				h.t.Errorf("REFER to %q", r.Target)
			}
			d.FarNotify(100, "Trying")
			h.waitLines(hal.LEDOn, "Transfer 2000", "", "Transfer: 100 Trying")
			d.FarNotify(200, "OK")
			d.WaitReq(h.t, "BYE", 1, wait)
		}},
		{"rejected", "Ended: rejected", func(h *harness) {
			h.press("2", "0", "0", "0", hal.KeyCall)
			h.calls.WaitDial(h.t, wait).Fail(&signal.StatusError{Code: 486, Reason: "Busy Here"})
		}},
		{"no such number", "No such number (404)", func(h *harness) {
			h.press("2", "9", hal.KeyCall)
			h.calls.WaitDial(h.t, wait).Fail(&signal.StatusError{Code: 404, Reason: "Not Found"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 4, 20, nil)
			c.run(h)
			h.waitLines(hal.LEDOff, "Free *", "", c.want)
			// A new call clears the notice.
			h.press("7")
			h.waitLines(hal.LEDOff, "Dial:", "7", "")
		})
	}
}

// A failed transfer leaves the call up and says so.
func TestTransferFailed(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	sid, d := h.connect("")
	if err := h.p.Transfer(sid, "4000"); err != nil {
		t.Fatal(err)
	}
	d.WaitReq(t, "REFER", 1, wait)
	d.FarNotify(486, "Busy Here")
	h.waitState(sid, phone.StateConnected)
	h.waitLines(hal.LEDOn, "Talking 2000", "", "Transfer failed 486") // "Transfer failed (486)" is 21 wide
}

// A 2×16 display (hal.Display.Size) gets 2 lines laid out for it, and the
// important part of every view is on them: who, what is happening, MUTED,
// how the call ended.
func TestTwoRowDisplay(t *testing.T) {
	h := newHarness(t, 2, 16, nil)
	// see waits until the 2 rows are exactly want (a "X*" row: starts with X).
	see := func(what string, want ...string) {
		t.Helper()
		v := h.wait(fmt.Sprintf("%s: rows %q", what, want), func(v view) bool {
			if len(v.lines) != 2 || !slices.Equal(v.lines, v.screen) {
				return false // the UI gives the board exactly what it shows
			}
			for i, w := range want {
				if p, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(v.lines[i], p) {
					continue
				}
				if v.lines[i] != w {
					return false
				}
			}
			return true
		})
		for _, l := range v.lines {
			if n := len([]rune(l)); n > 16 {
				t.Errorf("%s: row %q is %d wide", what, l, n)
			}
		}
	}

	see("idle", "1001 Off *", "Free 00:*")
	h.press("2", "0", "0", "0")
	see("digits typed", "Dial:", "2000")
	h.press(hal.KeyCall)
	o := h.calls.WaitDial(t, wait)
	see("calling", "Call 2000", "Calling...")
	o.Progress(180)
	see("far end rings", "Call 2000", "Ringing...")
	d := o.Answer(nil)
	see("talking", "Talking 2000", "00:0*")
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	h.ring(in)
	see("call waiting", "Call waiting", "From 3000")
	h.press(hal.KeyEnd) // rejects the waiting call
	in.WaitReject(t, wait)
	see("talking again", "Talking 2000", "00:0*")
	h.press(hal.KeyMute)
	h.wait("MUTED", func(v view) bool { return len(v.lines) == 2 && strings.HasSuffix(v.lines[1], " MUTED") })
	h.press("1", "2")
	h.wait("MUTED and the digits", func(v view) bool {
		return len(v.lines) == 2 && strings.Contains(v.lines[1], " MUTED") && strings.HasSuffix(v.lines[1], " 12")
	})
	d.FarBye()
	see("far end hung up", "1001 Off *", "Far end hung up")
	h.press(hal.KeyRest)
	see("rest menu", "Rest reason:", "1Mea 2Mee 3Tra")
	h.press(hal.KeyEnd)
	see("menu left", "1001 Off *", "Free 00:*")
}

// Hanging up the handset while a second call waits ends the call talked
// on (the customer must not stay on an open line) and leaves the waiting
// call ringing; lifting the handset then answers it.
func TestHookDuringCallWaiting(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	in1 := sigtest.NewIncoming("3000", "1001", "", nil)
	sid1 := h.ring(in1)
	h.hook(true)
	d1 := in1.WaitAnswer(t, wait)
	h.waitState(sid1, phone.StateConnected)

	in2 := sigtest.NewIncoming("3001", "1001", "", nil)
	sid2 := h.ring(in2)
	h.waitLines(hal.LEDFastBlink, "Call waiting", "From 3001")
	h.hook(false)
	d1.WaitReq(t, "BYE", 1, wait)
	h.waitState(sid1, phone.StateEnded)
	h.waitLines(hal.LEDFastBlink, "Incoming call", "From 3001")
	if st := h.session(sid2).State; st != phone.StateRinging {
		t.Fatalf("the waiting call is %s, want ringing", st)
	}
	h.hook(true)
	in2.WaitAnswer(t, wait)
	h.waitLines(hal.LEDOn, "Talking 3001")
}

// waitStatus waits for the status line and the status LED.
func (h *harness) waitStatus(line string, led hal.LEDState) {
	h.t.Helper()
	h.wait(fmt.Sprintf("status line %q, status LED %v", line, led), func(v view) bool {
		l := v.line(1)
		if prefix, ok := strings.CutSuffix(line, "*"); ok {
			return strings.HasPrefix(l, prefix) && v.leds[hal.LEDStatus] == led
		}
		return l == line && v.leds[hal.LEDStatus] == led
	})
}

// The status keys, the rest-reason menu and the status LED (single colour).
func TestStatusKeys(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	h.waitStatus("Free 00:*", hal.LEDOn)
	h.press(hal.KeyNotReady)
	h.waitStatus("Not ready 00:*", hal.LEDBlink)
	h.press(hal.KeyNotReady) // again: stop not ready
	h.waitStatus("Free 00:*", hal.LEDOn)

	h.press(hal.KeyRest)
	h.waitLines(hal.LEDOff, "Rest reason:", "1 Meal 2 Meeting", "3 Training")
	h.press("2")
	h.waitStatus("Rest Meeting 00:*", hal.LEDBlink)
	if st := h.p.AgentStatus(); st.Status != "rest" || st.Reason != "Meeting" {
		t.Errorf("agent %+v, want rest/Meeting", st.StatusInfo)
	}
	h.press(hal.KeyRest, "9") // no such reason: nothing changes
	h.waitLines(hal.LEDOff, "", "", "No such reason")
	h.press(hal.KeyRest, hal.KeyEnd) // menu left
	h.waitStatus("Rest Meeting 00:*", hal.LEDBlink)

	h.press(hal.KeyACW)
	h.waitStatus("Wrap-up 00:*", hal.LEDFastBlink)
	h.press(hal.KeyACW) // again: end it
	h.waitStatus("Free 00:*", hal.LEDOn)

	// A digit typed while idle still dials.
	h.press("7")
	h.waitLines(hal.LEDOff, "Dial:", "7")
}

// After a talked call: the wrap-up counts down on the display, then the
// agent is back to free; the status LED follows.
func TestWrapUpCountdown(t *testing.T) {
	// 1 s: the wrap-up must end well inside the harness's 2 s wait.
	h := newHarness(t, 4, 20, func(c *config.Config) { c.Agent.WrapUp = time.Second })
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	h.ring(in)
	h.waitLines(hal.LEDFastBlink, "Incoming call")
	h.press(hal.KeyCall)
	d := in.WaitAnswer(t, wait)
	h.waitLines(hal.LEDOn, "Talking 3000")
	h.waitStatus("Talking 3000", hal.LEDOff) // busy: the line LED shows the call
	d.FarBye()
	// The countdown's first value is drawn on the arrange event itself;
	// later values depend on when the UI's 1 s tick falls, so they are
	// checked by the renderer's golden files, not here.
	h.waitStatus("Wrap-up 1s left", hal.LEDFastBlink)
	h.waitStatus("Free 00:*", hal.LEDOn)
}

// Rest asked for during a call: the agent stays busy until the call ends.
func TestRestKeyDuringACall(t *testing.T) {
	h := newHarness(t, 4, 20, func(c *config.Config) { c.Agent.RestReasons = []string{"Meal"} })
	in := sigtest.NewIncoming("3000", "1001", "", nil)
	h.ring(in)
	h.press(hal.KeyCall)
	d := in.WaitAnswer(t, wait)
	h.waitLines(hal.LEDOn, "Talking 3000")
	h.press(hal.KeyRest) // one reason: no menu
	h.wait("rest pending", func(view) bool {
		st := h.p.AgentStatus()
		return st.Status == "busy" && st.Pending != nil && st.Pending.Reason == "Meal"
	})
	d.FarBye()
	h.waitStatus("Rest Meal 00:*", hal.LEDBlink)
}

// OnKey hears every key press, status keys included, before it acts.
func TestOnKey(t *testing.T) {
	cfg := sigtest.Config("42000-42999", nil)
	p, err := phone.NewWithCalls(cfg, nil, event.NewBus(), slog.New(slog.DiscardHandler), &sigtest.Calls{})
	if err != nil {
		t.Fatal(err)
	}
	fr := newFront(4, 20)
	u := ui.New(p, fr)
	heard := make(chan hal.Key, 8)
	u.OnKey = func(k hal.Key) { heard <- k }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), wait)
		defer ccancel()
		_ = p.Close(cctx)
		cancel()
		<-done
	})
	want := []hal.Key{"5", hal.KeyFree, hal.KeyEnd}
	for _, k := range want {
		fr.presses <- k
	}
	deadline := time.After(wait)
	for _, w := range want {
		select {
		case k := <-heard:
			if k != w {
				t.Fatalf("OnKey heard %q, want %q", k, w)
			}
		case <-deadline:
			t.Fatalf("OnKey did not hear %q within %v", w, wait)
		}
	}
}

// The levels and quality events come several times a second during a
// call and change nothing on the display: they must not each re-render
// it (tools/bench counted them as most of a call's heap allocations).
func TestLevelEventsDoNotRender(t *testing.T) {
	h := newHarness(t, 4, 20, nil)
	v0, _ := h.front.view()
	start := time.Now()
	const n = 50
	for range n {
		h.p.Bus().Publish(event.AudioVolume, phone.AudioVolumeInfo{SessionID: "s", UserID: "1001", Volume: 40})
		h.p.Bus().Publish(event.NetworkQuality, phone.QualityInfo{SessionID: "s", Quality: 1})
	}
	// An error notice after them: once it shows, they have all been read.
	h.p.Bus().Publish(event.Error, phone.ErrorInfo{ErrCode: 4242, ErrMsg: "marker"})
	v := h.wait("the marker's notice", func(v view) bool { return strings.Contains(strings.Join(v.lines, "\n"), "4242") })
	ticks := int(time.Since(start)/time.Second) + 1 // the call timer's renders meanwhile
	if renders := v.shows - v0.shows; renders > 1+ticks {
		t.Errorf("%d renders for %d level/quality events, an error and %d timer ticks: the level events are being rendered", renders, 2*n, ticks)
	}
}
