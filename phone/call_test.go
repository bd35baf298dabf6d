package phone

// Unit tests of the call state machine against a fake SIP stack
// (phone/signal/sigtest). No network but RTP sockets on 127.0.0.1; waits
// poll with a deadline, never a fixed sleep.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
	"deskphone/phone/signal/sigtest"
)

const (
	wait = 2 * time.Second // longest wait for something that must happen
	fast = time.Second     // an SDK function that waited for the (fake) network would take longer: not a speed target
)

// ---------------------------------------------------------------- harness

type harness struct {
	t   *testing.T
	p   *Phone
	f   *sigtest.Calls
	rec *recorder
}

func newHarness(t *testing.T, audio hal.Audio, tweak func(*config.Config)) *harness {
	t.Helper()
	cfg := sigtest.Config("41000-41999", tweak)
	f := &sigtest.Calls{}
	p, err := NewWithCalls(cfg, audio, event.NewBus(), slog.New(slog.DiscardHandler), f)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, p: p, f: f, rec: newRecorder(p.bus)}
	t.Cleanup(func() {
		for _, s := range p.sessionList() {
			_ = p.Terminate(s.ID)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		p.waitByes(ctx)
		h.rec.stop()
	})
	return h
}

// state is a session's state; a session that left the phone is ended.
func (h *harness) state(sid string) CallState {
	h.p.mu.Lock()
	s := h.p.sessions[sid]
	h.p.mu.Unlock()
	if s == nil {
		return StateEnded
	}
	return s.State()
}

func (h *harness) waitState(sid string, want CallState) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("session to be %s (it is %s)", want, h.state(sid)), func() bool { return h.state(sid) == want })
}

// dial places a call to 2000 and returns its session and INVITE.
func (h *harness) dial() (string, *sigtest.Outgoing) {
	h.t.Helper()
	sid, err := timed(h.t, "Call", func() (string, error) { return h.p.Call("2000", "", "") })
	if err != nil {
		h.t.Fatal(err)
	}
	return sid, h.f.WaitDial(h.t, wait)
}

// connect places a call and has the far end answer it with d (nil: a
// default dialog).
func (h *harness) connect(d *sigtest.Dialog) (string, *sigtest.Outgoing, *sigtest.Dialog) {
	h.t.Helper()
	sid, o := h.dial()
	o.Progress(180)
	d = o.Answer(d)
	h.waitState(sid, StateConnected)
	h.rec.wait(h.t, sid, event.Accepted, 1)
	return sid, o, d
}

// ring delivers an inbound call and returns its session id.
func (h *harness) ring(in *sigtest.Incoming) string {
	h.t.Helper()
	h.f.Ring(in)
	e := h.rec.waitFor(h.t, "onNewSession from "+in.Caller().User, func(e event.Event) bool {
		si, ok := e.Data.(SessionInfo)
		return ok && e.Name == event.NewSession && si.CallerPhoneNumber == in.Caller().User
	})
	return e.Data.(SessionInfo).SessionID
}

// timed runs an SDK function and fails the test if it takes `fast` or more.
func timed[T any](t testing.TB, name string, f func() (T, error)) (T, error) {
	t.Helper()
	start := time.Now()
	v, err := f()
	if d := time.Since(start); d >= fast {
		t.Errorf("%s took %v; SDK functions must return at once", name, d)
	}
	return v, err
}

func timedErr(t testing.TB, name string, f func() error) error {
	t.Helper()
	_, err := timed(t, name, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// eventually polls cond until it holds, failing the test after `wait`.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// ---------------------------------------------------------------- events

type recorder struct {
	mu    sync.Mutex
	evs   []event.Event
	unsub func()
	done  chan struct{}
}

func newRecorder(b *event.Bus) *recorder {
	ch, unsub := b.Subscribe(4096)
	r := &recorder{unsub: unsub, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for e := range ch {
			r.mu.Lock()
			r.evs = append(r.evs, e)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) stop() { r.unsub(); <-r.done }

var webEvents = map[string]bool{
	event.WebCallIn: true, event.WebUserAccessed: true, event.WebSessionEnded: true,
	event.WebCallOuted: true, event.WebCalloutAccepted: true, event.WebTransfer: true,
}

// sidOf is the session an event concerns ("" if none).
func sidOf(e event.Event) string {
	switch d := e.Data.(type) {
	case SessionInfo:
		return d.SessionID
	case SessionRef:
		return d.SessionID
	case Ended:
		return d.SessionID
	case RingingInfo:
		return d.SessionID
	case HoldInfo:
		return d.SessionID
	case TransferInfo:
		return d.SessionID
	case DTMFInfo:
		return d.SessionID
	case MutedInfo:
		return d.SessionID
	case ErrorInfo:
		return d.ExtraInfo
	case WarningInfo:
		return d.ExtraInfo
	case map[string]any:
		s, _ := d["sessionId"].(string)
		return s
	}
	return ""
}

// of is the SDK (non-web) events of session sid, in order; name "" for all.
func (r *recorder) of(sid, name string) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Event
	for _, e := range r.evs {
		if !webEvents[e.Name] && sidOf(e) == sid && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) names(sid string) []string {
	var n []string
	for _, e := range r.of(sid, "") {
		n = append(n, e.Name)
	}
	return n
}

// wait waits for the nth event name of session sid and returns it.
func (r *recorder) wait(t testing.TB, sid, name string, n int) event.Event {
	t.Helper()
	var e event.Event
	eventually(t, fmt.Sprintf("%d× %s of %s (have %v)", n, name, sid, r.names(sid)), func() bool {
		evs := r.of(sid, name)
		if len(evs) >= n {
			e = evs[n-1]
			return true
		}
		return false
	})
	return e
}

// waitFor waits for the first event that match accepts.
func (r *recorder) waitFor(t testing.TB, what string, match func(event.Event) bool) event.Event {
	t.Helper()
	var e event.Event
	eventually(t, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, x := range r.evs {
			if match(x) {
				e = x
				return true
			}
		}
		return false
	})
	return e
}

// flush waits until the recorder holds every event published so far.
func (r *recorder) flush(t testing.TB, b *event.Bus) {
	t.Helper()
	const marker = "test-marker"
	b.Publish(marker, nil)
	r.waitFor(t, "the recorder to catch up", func(e event.Event) bool { return e.Name == marker })
	r.mu.Lock()
	r.evs = slices.DeleteFunc(r.evs, func(e event.Event) bool { return e.Name == marker })
	r.mu.Unlock()
}

// ended waits for the session's onEnded and returns its payload.
func (r *recorder) ended(t testing.TB, sid string) Ended {
	t.Helper()
	return r.wait(t, sid, event.Ended, 1).Data.(Ended)
}

func wantNames(t *testing.T, h *harness, sid string, want ...string) {
	t.Helper()
	r := h.rec
	r.flush(t, h.p.bus)
	if got := r.names(sid); !slices.Equal(got, want) {
		t.Errorf("events of %s:\n got %v\nwant %v", sid, got, want)
	}
}

func wantEnded(t *testing.T, r *recorder, sid, reason string, code int) {
	t.Helper()
	e := r.ended(t, sid)
	if e.Reason != reason || e.SIPCode != code {
		t.Errorf("onEnded = %s/%d (%s), want %s/%d", e.Reason, e.SIPCode, e.ReasonMessage, reason, code)
	}
}

// ---------------------------------------------------------------- SDP

var originRE = regexp.MustCompile(`(?m)^o=\S+ (\d+) (\d+) `)

// sdpVersion is the o= line's session version.
func sdpVersion(t testing.TB, body []byte) uint64 {
	t.Helper()
	m := originRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no o= line in %q", body)
	}
	v, _ := strconv.ParseUint(string(m[2]), 10, 64)
	return v
}

// ---------------------------------------------------------------- tests

// The transition table, spelled out: a change to call.go must change this.
func TestCanMove(t *testing.T) {
	allowed := map[CallState][]CallState{
		StateDialing:      {StateAlerting, StateConnected, StateEnded},
		StateAlerting:     {StateConnected, StateEnded},
		StateRinging:      {StateAnswering, StateEnded},
		StateAnswering:    {StateConnected, StateEnded},
		StateConnected:    {StateHolding, StateRemoteHeld, StateTransferring, StateEnded},
		StateHolding:      {StateHeld, StateConnected, StateRemoteHeld, StateEnded},
		StateHeld:         {StateResuming, StateTransferring, StateEnded},
		StateResuming:     {StateConnected, StateHeld, StateRemoteHeld, StateEnded},
		StateRemoteHeld:   {StateConnected, StateHolding, StateTransferring, StateEnded},
		StateTransferring: {StateConnected, StateHeld, StateRemoteHeld, StateEnded},
		StateEnded:        nil,
	}
	for from := range allowed {
		for to := range allowed {
			if got, want := CanMove(from, to), slices.Contains(allowed[from], to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	// Refused moves leave the state alone.
	for _, c := range []struct{ from, to CallState }{
		{StateEnded, StateConnected}, {StateEnded, StateDialing}, {StateRinging, StateHeld},
		{StateHeld, StateConnected}, {StateDialing, StateRinging}, {StateConnected, StateAnswering},
	} {
		s := &Session{ID: "x", state: c.from}
		if err := s.moveLocked(c.to); err == nil || s.state != c.from {
			t.Errorf("%s → %s: err %v, state %s; want refused", c.from, c.to, err, s.state)
		}
	}
}

// dialing → alerting → connected → holding → held → resuming → connected.
func TestOutboundHoldResume(t *testing.T) {
	h := newHarness(t, nil, nil)
	sid, o := h.dial()
	if h.state(sid) != StateDialing {
		t.Fatalf("after Call: %s", h.state(sid))
	}
	if r := o.Req; r.To != "2000" || r.Handler == nil || r.Timeout != 10*time.Second || sigtest.Direction(r.SDP) != media.SendRecv {
		t.Errorf("INVITE: to %q handler %v timeout %v dir %q", r.To, r.Handler, r.Timeout, sigtest.Direction(r.SDP))
	}
	o.Progress(100) // not a ringing
	o.Progress(180)
	h.waitState(sid, StateAlerting)
	o.Progress(183) // alerting already: no second onRinging
	d := o.Answer(nil)
	h.waitState(sid, StateConnected)
	h.rec.wait(t, sid, event.Accepted, 1)
	st := h.p.State().Sessions
	if len(st) != 1 || st[0].Codec != "PCMU" || st[0].AcceptTimestamp == 0 || st[0].Callee != "2000" || st[0].Caller != "1001" {
		t.Errorf("State().Sessions = %+v", st)
	}

	// Hold, with the re-INVITE held back so that holding can be seen.
	release := make(chan struct{})
	d.SetReoffer(func(_ context.Context, sdp []byte) ([]byte, error) { <-release; return sigtest.SDPAnswer(sdp) })
	if err := timedErr(t, "Hold", func() error { return h.p.Hold(sid) }); err != nil {
		t.Fatal(err)
	}
	if s := h.state(sid); s != StateHolding {
		t.Fatalf("after Hold: %s", s)
	}
	if err := h.p.Hold(sid); err != nil { // a second press is a no-op
		t.Errorf("second Hold: %v", err)
	}
	if _, code := d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendRecv)); code != 491 {
		t.Errorf("far offer during our hold: %d, want 491 (glare)", code)
	}
	hold := d.WaitReq(t, "INVITE", 1, wait)
	if dir := sigtest.Direction(hold.SDP); dir != media.SendOnly {
		t.Errorf("hold offer direction %q, want sendonly", dir)
	}
	close(release)
	h.waitState(sid, StateHeld)
	d.SetReoffer(nil)
	if err := timedErr(t, "Unhold", func() error { return h.p.Unhold(sid) }); err != nil {
		t.Fatal(err)
	}
	if s := h.state(sid); s != StateResuming && s != StateConnected {
		t.Errorf("after Unhold: %s", s)
	}
	h.waitState(sid, StateConnected)
	if dir := sigtest.Direction(d.WaitReq(t, "INVITE", 2, wait).SDP); dir != media.SendRecv {
		t.Errorf("resume offer direction %q, want sendrecv", dir)
	}
	h.rec.wait(t, sid, event.Hold, 2)
	holds := h.rec.of(sid, event.Hold)
	if holds[0].Data != (HoldInfo{sid, true, "local"}) || holds[1].Data != (HoldInfo{sid, false, "local"}) {
		t.Errorf("onHold: %+v, %+v", holds[0].Data, holds[1].Data)
	}

	d.FarBye()
	wantEnded(t, h.rec, sid, EndRemoteBye, 0)
	wantNames(t, h, sid, event.NewSession, event.Ringing, event.Accepted, event.Hold, event.Hold, event.Ended)
	if d.Count("BYE") != 0 {
		t.Error("BYE sent for a call the far end hung up")
	}
}

// A refused hold or resume leaves the call as it was.
func TestHoldRefused(t *testing.T) {
	h := newHarness(t, nil, nil)
	sid, _, d := h.connect(nil)
	d.SetReoffer(func(context.Context, []byte) ([]byte, error) {
		return nil, &signal.StatusError{Code: 488, Reason: "Not Acceptable Here"}
	})
	_ = h.p.Hold(sid)
	h.rec.wait(t, sid, event.Warning, 1)
	h.waitState(sid, StateConnected) // holding → connected
	d.SetReoffer(nil)
	_ = h.p.Hold(sid)
	h.waitState(sid, StateHeld)
	d.SetReoffer(func(context.Context, []byte) ([]byte, error) { return nil, &signal.StatusError{Code: 500} })
	_ = h.p.Unhold(sid)
	h.rec.wait(t, sid, event.Warning, 2)
	h.waitState(sid, StateHeld) // resuming → held
	if err := h.p.Hold(sid); err != nil {
		t.Errorf("Hold while held: %v", err)
	}
}

// The far end holds and resumes us; a session refresh repeats our answer
// exactly and is not a hold. Our SDP version goes up by one at each change.
func TestRemoteHold(t *testing.T) {
	h := newHarness(t, nil, nil)
	sid, o, d := h.connect(nil)
	lastVer, lastAnswer := sdpVersion(t, o.Req.SDP), o.Req.SDP // our initial offer
	for i, step := range []struct {
		offerDir, answerDir string
		state               CallState
		holds               int // onHold events so far
		same                bool
	}{
		{media.SendRecv, media.SendRecv, StateConnected, 0, true}, // refresh: our offer again
		{media.SendOnly, media.RecvOnly, StateRemoteHeld, 1, false},
		{media.SendOnly, media.RecvOnly, StateRemoteHeld, 1, true}, // refresh
		{media.SendRecv, media.SendRecv, StateConnected, 2, false},
		{media.SendRecv, media.SendRecv, StateConnected, 2, true}, // refresh
		{media.Inactive, media.Inactive, StateRemoteHeld, 3, false},
		{media.SendRecv, media.SendRecv, StateConnected, 4, false},
		{media.RecvOnly, media.SendOnly, StateConnected, 4, false}, // it only listens
		{media.SendRecv, media.SendRecv, StateConnected, 4, false},
	} {
		ans, code := d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, step.offerDir))
		if code != 200 || sigtest.Direction(ans) != step.answerDir {
			t.Fatalf("step %d: far %s → %d %q, want 200 %s", i, step.offerDir, code, sigtest.Direction(ans), step.answerDir)
		}
		if s := h.state(sid); s != step.state {
			t.Errorf("step %d: state %s, want %s", i, s, step.state)
		}
		if step.same && string(ans) != string(lastAnswer) {
			t.Errorf("step %d: a refresh changed our answer:\n%s\nthen\n%s", i, lastAnswer, ans)
		}
		v := sdpVersion(t, ans)
		if want := lastVer + map[bool]uint64{true: 0, false: 1}[step.same]; v != want {
			t.Errorf("step %d: o= version %d, want %d (previous %d)", i, v, want, lastVer)
		}
		lastVer, lastAnswer = v, ans
		h.rec.flush(t, h.p.bus) // OnOffer publishes before it returns
		if n := len(h.rec.of(sid, event.Hold)); n != step.holds {
			t.Errorf("step %d: %d onHold, want %d", i, n, step.holds)
		}
	}
	holds := h.rec.of(sid, event.Hold)
	if holds[0].Data != (HoldInfo{sid, true, "remote"}) || holds[1].Data != (HoldInfo{sid, false, "remote"}) {
		t.Errorf("onHold: %+v %+v", holds[0].Data, holds[1].Data)
	}

	// remote-held → holding → held (inactive) → resuming → remote-held.
	d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendOnly))
	h.waitState(sid, StateRemoteHeld)
	_ = h.p.Hold(sid)
	h.waitState(sid, StateHeld)
	r := d.WaitReq(t, "INVITE", 1, wait)
	if sigtest.Direction(r.SDP) != media.Inactive {
		t.Errorf("hold while remote-held offers %q, want inactive", sigtest.Direction(r.SDP))
	}
	if v := sdpVersion(t, r.SDP); v <= lastVer {
		t.Errorf("hold offer o= version %d after %d", v, lastVer)
	}
	_ = h.p.Unhold(sid)
	h.waitState(sid, StateRemoteHeld)
	if sigtest.Direction(d.WaitReq(t, "INVITE", 2, wait).SDP) != media.RecvOnly {
		t.Error("resume while remote-held should offer recvonly")
	}
	// A garbled offer is refused with 488 and changes nothing.
	if _, code := d.FarOffer([]byte("v=0\r\nnonsense")); code != 488 {
		t.Errorf("garbled offer: %d, want 488", code)
	}
	if h.state(sid) != StateRemoteHeld {
		t.Errorf("after a garbled offer: %s", h.state(sid))
	}
}

// Blind transfer: the NOTIFYs decide whether our leg ends or stays up.
func TestTransfer(t *testing.T) {
	for _, c := range []struct {
		name     string
		from     CallState // connected, held or remote-held
		referErr error     // the far end refuses the REFER
		notify   int       // final NOTIFY
		state    CallState
		errCode  int // onError code (0: none)
	}{
		{name: "done", from: StateConnected, notify: 200, state: StateEnded},
		{name: "done from held", from: StateHeld, notify: 200, state: StateEnded},
		{name: "target missing", from: StateConnected, notify: 404, state: StateConnected, errCode: 404},
		{name: "target busy while held", from: StateHeld, notify: 486, state: StateHeld, errCode: 486},
		{name: "failed while remote-held", from: StateRemoteHeld, notify: 480, state: StateRemoteHeld, errCode: 480},
		{name: "REFER refused", from: StateConnected, referErr: &signal.StatusError{Code: 603, Reason: "Decline"}, state: StateConnected, errCode: ErrSIPBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			sid, _, d := h.connect(nil)
			switch c.from {
			case StateHeld:
				_ = h.p.Hold(sid)
			case StateRemoteHeld:
				d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendOnly))
			default: // connected already
			}
			h.waitState(sid, c.from)
			d.SetReferErr(c.referErr)
			if err := timedErr(t, "Transfer", func() error { return h.p.Transfer(sid, "3000") }); err != nil {
				t.Fatal(err)
			}
			// A refused REFER may have put the call back already.
			if s := h.state(sid); s != StateTransferring && c.referErr == nil {
				t.Fatalf("after Transfer: %s", s)
			}
			if c.referErr == nil {
				if err := h.p.Transfer(sid, "3000"); err == nil {
					t.Error("a second Transfer while transferring was accepted")
				}
			}
			if r := d.WaitReq(t, "REFER", 1, wait); r.Target != "3000" || r.Replaces != "" {
				t.Errorf("REFER %+v", r)
			}
			if c.referErr == nil {
				d.FarNotify(100, "Trying")
				d.FarNotify(c.notify, "Whatever")
			}
			h.waitState(sid, c.state)
			xfers := h.rec.wait(t, sid, event.Transfer, map[bool]int{true: 2, false: 3}[c.referErr != nil])
			if c.state == StateEnded {
				wantEnded(t, h.rec, sid, EndLocalBye, 0)
				d.WaitReq(t, "BYE", 1, wait)
				if xfers.Data.(TransferInfo).Status != "done" {
					t.Errorf("last onTransfer %+v", xfers.Data)
				}
				return
			}
			if ti := xfers.Data.(TransferInfo); ti.Status != "failed" {
				t.Errorf("last onTransfer %+v", ti)
			}
			if e := h.rec.wait(t, sid, event.Error, 1).Data.(ErrorInfo); e.ErrCode != c.errCode {
				t.Errorf("onError %+v, want code %d", e, c.errCode)
			}
			if d.Count("BYE") != 0 || len(h.rec.of(sid, event.Ended)) != 0 {
				t.Error("a failed transfer ended the call")
			}
			// The call is still usable.
			d.FarNotify(200, "OK") // late, ignored: no transfer is going on
			if h.state(sid) != c.state {
				t.Errorf("a stray NOTIFY moved the call to %s", h.state(sid))
			}
			if err := h.p.Transfer(sid, "3001"); err != nil {
				t.Errorf("second transfer: %v", err)
			}
		})
	}
}

// Inbound: ringing → answering → connected, and the ways a ringing call ends.
func TestInbound(t *testing.T) {
	h := newHarness(t, nil, nil)
	in := sigtest.NewIncoming("5551234", "1001", "", map[string]string{"User-to-User": "6f726465723d3432;encoding=hex"})
	sid := h.ring(in)
	if in.Rings() != 1 || h.state(sid) != StateRinging {
		t.Fatalf("rings %d state %s", in.Rings(), h.state(sid))
	}
	if si := h.rec.of(sid, event.NewSession)[0].Data.(SessionInfo); si.SessionDirection != CallIn || si.UUI != "order=42" || si.CalleePhoneNumber != "1001" {
		t.Errorf("onNewSession %+v", si)
	}
	var during CallState
	in.SetAnswerHook(func() { during = h.state(sid) })
	if err := timedErr(t, "Answer", func() error { return h.p.Answer(sid) }); err != nil {
		t.Fatal(err)
	}
	if during != StateAnswering {
		t.Errorf("while the 200 OK went out the call was %s, want answering", during)
	}
	h.waitState(sid, StateConnected)
	if a := in.Answers(); len(a) != 1 || sigtest.Direction(a[0]) != media.SendRecv {
		t.Errorf("200 OK bodies: %q", a)
	}
	d := in.Dialog()
	if ans, code := d.FarOffer(in.SDP()); code != 200 || string(ans) != string(in.Answers()[0]) {
		t.Errorf("a session refresh got %d and a different answer:\n%s\nthen\n%s", code, in.Answers()[0], ans)
	}
	d.FarDTMF('5')
	if e := h.rec.wait(t, sid, event.DTMFReceived, 1).Data.(DTMFInfo); e.Digit != "5" {
		t.Errorf("onDTMF %+v", e)
	}
	if err := h.p.Terminate(sid); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, h.rec, sid, EndLocalBye, 0)
	d.WaitReq(t, "BYE", 1, wait)
	wantNames(t, h, sid, event.NewSession, event.Accepted, event.DTMFReceived, event.Ended)
}

func TestRingingEnds(t *testing.T) {
	for _, c := range []struct {
		name   string
		end    func(h *harness, sid string, in *sigtest.Incoming)
		reason string
		code   int
		reject int // final response sent (0: none)
	}{
		{"caller cancels", func(_ *harness, _ string, in *sigtest.Incoming) { in.Cancel() }, EndRemoteCancel, 487, 0},
		{"ring timeout", func(*harness, string, *sigtest.Incoming) {}, EndTimeout, 480, 480},
		{"agent rejects", func(h *harness, sid string, _ *sigtest.Incoming) { _ = h.p.Reject(sid) }, EndLocalBye, 603, 603},
		{"agent terminates", func(h *harness, sid string, _ *sigtest.Incoming) { _ = h.p.Terminate(sid) }, EndLocalBye, 603, 603},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, func(cfg *config.Config) {
				if c.reason == EndTimeout {
					cfg.Calls.RingTimeout = 50 * time.Millisecond
				}
			})
			in := sigtest.NewIncoming("5551234", "1001", "", nil)
			sid := h.ring(in)
			c.end(h, sid, in)
			wantEnded(t, h.rec, sid, c.reason, c.code)
			if c.reject != 0 {
				if code := in.WaitReject(t, wait); code != c.reject {
					t.Errorf("final response %d, want %d", code, c.reject)
				}
			}
			h.waitState(sid, StateEnded)
			if r := in.Rejects(); len(r) > 1 || (c.reject == 0 && len(r) != 0) {
				t.Errorf("final responses %v", r)
			}
			if len(in.Answers()) != 0 {
				t.Error("answered")
			}
			wantNames(t, h, sid, event.NewSession, event.Ended)
			if err := h.p.Answer(sid); err == nil {
				t.Error("Answer after the end succeeded")
			}
		})
	}
}

// Every live state ends by the agent's Terminate (LocalBye, BYE) or the far
// end's BYE (RemoteBye, no BYE from us).
func TestEndFromEveryState(t *testing.T) {
	setups := []struct {
		state CallState
		setup func(h *harness, sid string, d *sigtest.Dialog, hang chan struct{})
	}{
		{StateConnected, func(*harness, string, *sigtest.Dialog, chan struct{}) {}},
		{StateHolding, func(h *harness, sid string, d *sigtest.Dialog, hang chan struct{}) {
			d.SetHang(hang)
			_ = h.p.Hold(sid)
		}},
		{StateHeld, func(h *harness, sid string, _ *sigtest.Dialog, _ chan struct{}) { _ = h.p.Hold(sid) }},
		{StateResuming, func(h *harness, sid string, d *sigtest.Dialog, hang chan struct{}) {
			_ = h.p.Hold(sid)
			h.waitState(sid, StateHeld)
			d.SetHang(hang)
			_ = h.p.Unhold(sid)
		}},
		{StateRemoteHeld, func(_ *harness, _ string, d *sigtest.Dialog, _ chan struct{}) {
			d.FarOffer(sigtest.SDPOffer(sigtest.FarPort, media.SendOnly))
		}},
		{StateTransferring, func(h *harness, sid string, _ *sigtest.Dialog, _ chan struct{}) { _ = h.p.Transfer(sid, "3000") }},
	}
	for _, c := range setups {
		for _, agent := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/agent=%v", c.state, agent), func(t *testing.T) {
				h := newHarness(t, nil, nil)
				hang := make(chan struct{})
				t.Cleanup(func() { close(hang) })
				sid, _, d := h.connect(nil)
				c.setup(h, sid, d, hang)
				h.waitState(sid, c.state)
				if agent {
					if err := timedErr(t, "Terminate", func() error { return h.p.Terminate(sid) }); err != nil {
						t.Fatal(err)
					}
					wantEnded(t, h.rec, sid, EndLocalBye, 0)
					d.WaitReq(t, "BYE", 1, wait)
				} else {
					d.FarBye()
					wantEnded(t, h.rec, sid, EndRemoteBye, 0)
					if n := d.Count("BYE"); n != 0 {
						t.Errorf("%d BYE for a call the far end hung up", n)
					}
				}
				h.waitState(sid, StateEnded)
				h.rec.flush(t, h.p.bus)
				if n := len(h.rec.of(sid, event.Ended)); n != 1 {
					t.Errorf("%d onEnded", n)
				}
			})
		}
	}
}

// The agent hangs up while the 200 OK is going out: BYE follows it.
func TestTerminateWhileAnswering(t *testing.T) {
	h := newHarness(t, nil, nil)
	in := sigtest.NewIncoming("5551234", "1001", "", nil)
	sid := h.ring(in)
	in.SetAnswerHook(func() {
		if err := h.p.Terminate(sid); err != nil {
			t.Errorf("Terminate while answering: %v", err)
		}
	})
	_ = h.p.Answer(sid)
	wantEnded(t, h.rec, sid, EndLocalBye, 0)
	in.Dialog().WaitReq(t, "BYE", 1, wait)
	h.waitState(sid, StateEnded)
	wantNames(t, h, sid, event.NewSession, event.Ended)
}

// No SDK function waits for the network, even when the far end never answers.
func TestSDKReturnsAtOnce(t *testing.T) {
	h := newHarness(t, nil, func(cfg *config.Config) { cfg.Audio.DTMFMode = "both" })
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) }) // before the harness's clean-up waits for BYEs

	// An INVITE nobody answers.
	sid, o := h.dial()
	if err := timedErr(t, "Terminate (dialing)", func() error { return h.p.Terminate(sid) }); err != nil {
		t.Error(err)
	}
	if !o.IsCanceled() {
		t.Error("no CANCEL")
	}

	// A call whose far end stops answering anything.
	sid, _, d := h.connect(nil)
	d.SetHang(hang)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"SendDTMF", func() error { return h.p.SendDTMF(sid, "12#") }},
		{"Mute", func() error { return h.p.Mute(sid) }},
		{"Unmute", func() error { return h.p.Unmute(sid) }},
		{"Hold", func() error { return h.p.Hold(sid) }},
		{"Hold again", func() error { return h.p.Hold(sid) }},
		{"Unhold (holding)", func() error { _ = h.p.Unhold(sid); return nil }},
		{"Transfer (holding)", func() error { _ = h.p.Transfer(sid, "3000"); return nil }},
		{"State", func() error { h.p.State(); return nil }},
		{"Terminate", func() error { return h.p.Terminate(sid) }},
	} {
		if err := timedErr(t, c.name, c.f); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	wantEnded(t, h.rec, sid, EndLocalBye, 0)
	d.WaitReq(t, "BYE", 1, wait)

	// Transfer to a far end that never accepts the REFER.
	sid, _, d = h.connect(nil)
	d.SetHang(hang)
	if err := timedErr(t, "Transfer", func() error { return h.p.Transfer(sid, "3000") }); err != nil {
		t.Error(err)
	}
	_ = timedErr(t, "Terminate (transferring)", func() error { return h.p.Terminate(sid) })

	// Inbound.
	in := sigtest.NewIncoming("5551234", "1001", "", nil)
	sid = h.ring(in)
	if err := timedErr(t, "Answer", func() error { return h.p.Answer(sid) }); err != nil {
		t.Error(err)
	}
	in.Dialog().SetHang(hang)
	in2 := sigtest.NewIncoming("5559876", "1001", "", nil)
	sid2 := h.ring(in2)
	if err := timedErr(t, "Reject", func() error { return h.p.Reject(sid2) }); err != nil {
		t.Error(err)
	}
	_ = timedErr(t, "Terminate (inbound)", func() error { return h.p.Terminate(sid) })
}

// Pressing twice never blocks and never ends a call twice.
func TestSecondPress(t *testing.T) {
	h := newHarness(t, nil, nil)
	in := sigtest.NewIncoming("5551234", "1001", "", nil)
	sid := h.ring(in)
	if err := h.p.Answer(sid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		f       func() error
		wantErr bool
	}{
		{"Answer again", func() error { return h.p.Answer(sid) }, true},
		{"Reject after answer", func() error { return h.p.Reject(sid) }, true},
		{"Terminate", func() error { return h.p.Terminate(sid) }, false},
		{"Terminate again", func() error { return h.p.Terminate(sid) }, true},
		{"Answer after end", func() error { return h.p.Answer(sid) }, true},
		{"Hold after end", func() error { return h.p.Hold(sid) }, true},
	} {
		if err := timedErr(t, c.name, c.f); (err != nil) != c.wantErr {
			t.Errorf("%s: err %v, want error %v", c.name, err, c.wantErr)
		}
	}
	in.Dialog().WaitReq(t, "BYE", 1, wait)
	h.rec.flush(t, h.p.bus)
	if n := len(h.rec.of(sid, event.Ended)); n != 1 || len(in.Answers()) != 1 {
		t.Errorf("%d onEnded, %d answers", n, len(in.Answers()))
	}
}

// Call waiting: a second call rings beside the first; answering it holds
// the first, unholding the first holds the second; a third gets 486.
func TestCallWaiting(t *testing.T) {
	h := newHarness(t, nil, func(cfg *config.Config) { cfg.Calls.MaxLines = 2 })
	a, _, da := h.connect(nil)

	inB := sigtest.NewIncoming("5550002", "1001", "", nil)
	b := h.ring(inB)
	if h.state(b) != StateRinging || h.state(a) != StateConnected {
		t.Fatalf("a %s, b %s", h.state(a), h.state(b))
	}
	if err := h.p.Answer(b); err != nil {
		t.Fatal(err)
	}
	if dir := sigtest.Direction(da.WaitReq(t, "INVITE", 1, wait).SDP); dir != media.SendOnly {
		t.Errorf("first call re-offered %q, want sendonly", dir)
	}
	h.waitState(a, StateHeld)
	h.waitState(b, StateConnected)
	db := inB.Dialog()

	// Swap.
	if err := h.p.Unhold(a); err != nil {
		t.Fatal(err)
	}
	if dir := sigtest.Direction(db.WaitReq(t, "INVITE", 1, wait).SDP); dir != media.SendOnly {
		t.Errorf("second call re-offered %q, want sendonly", dir)
	}
	h.waitState(b, StateHeld)
	h.waitState(a, StateConnected)

	// No third line.
	inC := sigtest.NewIncoming("5550003", "1001", "", nil)
	c := h.ring(inC)
	if code := inC.WaitReject(t, wait); code != 486 {
		t.Errorf("third call got %d, want 486", code)
	}
	wantEnded(t, h.rec, c, EndTimeout, 486)
	wantNames(t, h, c, event.NewSession, event.Ended)
	if inC.Rings() != 0 || len(h.p.State().Sessions) != 2 {
		t.Errorf("third call: rings %d, sessions %d", inC.Rings(), len(h.p.State().Sessions))
	}

	// An outbound call beyond the lines is refused at once.
	if _, err := h.p.Call("2001", "", ""); err == nil {
		t.Error("a third line was dialled")
	}
}

// A 200 OK, or a failure, arriving after the agent hung up.
func TestLateFinal(t *testing.T) {
	for _, c := range []struct {
		name  string
		late  func(o *sigtest.Outgoing)
		byeOK bool
	}{
		{"200 OK crossing CANCEL", func(o *sigtest.Outgoing) { o.Answer(nil) }, true},
		{"487 after CANCEL", func(o *sigtest.Outgoing) { o.Fail(signal.ErrCanceled) }, false},
		{"500 after CANCEL", func(o *sigtest.Outgoing) { o.Fail(&signal.StatusError{Code: 500, Reason: "Oops"}) }, false},
		{"bad URI after CANCEL", func(o *sigtest.Outgoing) { o.Fail(signal.ErrBadURI) }, false},
		{"network error after CANCEL", func(o *sigtest.Outgoing) { o.Fail(errors.New("no route")) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			sid, o := h.dial()
			o.Progress(180)
			if err := h.p.Terminate(sid); err != nil {
				t.Fatal(err)
			}
			wantEnded(t, h.rec, sid, EndLocalBye, 487)
			if !o.IsCanceled() {
				t.Error("no CANCEL")
			}
			c.late(o)
			if d := o.Dialog(); c.byeOK {
				d.WaitReq(t, "BYE", 1, wait)
			}
			if n := len(h.p.State().Sessions); n != 0 {
				t.Errorf("%d sessions left", n)
			}
			h.rec.flush(t, h.p.bus)
			wantNames(t, h, sid, event.NewSession, event.Ringing, event.Ended)
		})
	}
}

// Outbound failures end the call with the right reason.
func TestOutboundFails(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string
		code   int
		onErr  bool
	}{
		{&signal.StatusError{Code: 486, Reason: "Busy Here"}, EndRejected, 486, false},
		{&signal.StatusError{Code: 603, Reason: "Decline"}, EndRejected, 603, false},
		{&signal.StatusError{Code: 480, Reason: "Temporarily Unavailable"}, EndTimeout, 480, false},
		{&signal.StatusError{Code: 404, Reason: "Not Found"}, EndError, 404, true},
		{signal.ErrTimeout, EndTimeout, 0, false},
		{errors.New("network is unreachable"), EndError, 0, true},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			h := newHarness(t, nil, nil)
			sid, o := h.dial()
			o.Fail(c.err)
			wantEnded(t, h.rec, sid, c.reason, c.code)
			want := []string{event.NewSession, event.Ended}
			if c.onErr {
				want = []string{event.NewSession, event.Error, event.Ended}
			}
			wantNames(t, h, sid, want...)
			h.waitState(sid, StateEnded)
		})
	}
}

// fakeAudio counts open sound devices: a microphone left open after a
// call ended is a live microphone.
type fakeAudio struct{ mics, speakers atomic.Int64 }

type fakeDev struct {
	n    *atomic.Int64
	once sync.Once
	done chan struct{}
}

func (a *fakeAudio) OpenCapture(int, int) (hal.Capture, error) {
	a.mics.Add(1)
	return &fakeDev{n: &a.mics, done: make(chan struct{})}, nil
}

func (a *fakeAudio) OpenPlayback(int, int) (hal.Playback, error) {
	a.speakers.Add(1)
	return &fakeDev{n: &a.speakers, done: make(chan struct{})}, nil
}

func (d *fakeDev) Read(f []int16) error { clear(f); return d.tick() }
func (d *fakeDev) Write([]int16) error  { return d.tick() }

func (d *fakeDev) tick() error {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-d.done:
		return hal.ErrClosed
	case <-t.C:
		return nil
	}
}

func (d *fakeDev) Close() error {
	d.once.Do(func() { close(d.done); d.n.Add(-1) })
	return nil
}

// workers runs n iterations of f on k goroutines; f must not call t.Fatal.
func workers(n, k int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range k {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// outgoing is the INVITE of session sid (Dial is recorded before Call returns).
func (h *harness) outgoing(sid string) *sigtest.Outgoing {
	for _, o := range h.f.Dials() {
		if s, ok := o.Req.Handler.(*Session); ok && s.ID == sid {
			return o
		}
	}
	return nil
}

// raceLog collects what the race tests check at the end.
type raceLog struct {
	mu      sync.Mutex
	sids    []string
	dialogs []*sigtest.Dialog
}

func (l *raceLog) add(sid string, d *sigtest.Dialog) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sids = append(l.sids, sid)
	if d != nil {
		l.dialogs = append(l.dialogs, d)
	}
}

// Call, then Terminate at 0–10 ms while the far end rings and answers at
// random moments (four calls at a time, so call waiting holds and resumes
// among them): one onEnded each, nothing left behind, every answered
// dialog hung up, every microphone closed.
func TestRaceCallTerminate(t *testing.T) {
	audio := &fakeAudio{}
	h := newHarness(t, audio, func(cfg *config.Config) { cfg.Calls.MaxLines = 8 })
	var log raceLog
	workers(100, 4, func(i int) {
		sid, err := timed(t, "Call", func() (string, error) { return h.p.Call("2000", "", "") })
		o := h.outgoing(sid)
		if err != nil || o == nil {
			t.Errorf("iteration %d: Call: %v (INVITE %v)", i, err, o)
			return
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			time.Sleep(rand.N(6 * time.Millisecond))
			o.Progress(180)
			time.Sleep(rand.N(6 * time.Millisecond))
			if o.IsCanceled() && rand.IntN(2) == 0 {
				o.Fail(signal.ErrCanceled)
				return
			}
			o.Answer(nil)
		})
		time.Sleep(time.Duration(i%11) * time.Millisecond)
		if err := timedErr(t, "Terminate", func() error { return h.p.Terminate(sid) }); err != nil {
			t.Errorf("iteration %d: %v", i, err)
		}
		wg.Wait()
		log.add(sid, o.Dialog())
	})
	checkNothingLeft(t, h, audio, log.sids, log.dialogs)
}

// Answer and Terminate at the same instant, both directions.
func TestRaceAnswerTerminate(t *testing.T) {
	audio := &fakeAudio{}
	h := newHarness(t, audio, func(cfg *config.Config) { cfg.Calls.MaxLines = 8 })
	var log raceLog
	workers(100, 4, func(i int) {
		var (
			sid    string
			answer func()
			dialog func() *sigtest.Dialog
		)
		if i%2 == 0 {
			var err error
			if sid, err = h.p.Call("2000", "", ""); err != nil {
				t.Errorf("Call: %v", err)
				return
			}
			o := h.outgoing(sid)
			if i%4 == 0 {
				o.Progress(180)
			}
			answer = func() { o.Answer(nil) }
			dialog = o.Dialog
		} else {
			in := sigtest.NewIncoming(fmt.Sprintf("555%04d", i), "1001", "", nil)
			h.f.Ring(in) // the session is in the phone once Ring returns
			for _, s := range h.p.sessionList() {
				if s.in == in {
					sid = s.ID
				}
			}
			answer = func() { _ = h.p.Answer(sid) }
			dialog = in.Dialog
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; answer() })
		wg.Go(func() {
			<-start
			if err := h.p.Terminate(sid); err != nil {
				t.Errorf("Terminate: %v", err)
			}
		})
		close(start)
		wg.Wait()
		log.add(sid, dialog())
	})
	checkNothingLeft(t, h, audio, log.sids, log.dialogs)
}

func checkNothingLeft(t *testing.T, h *harness, audio *fakeAudio, sids []string, dialogs []*sigtest.Dialog) {
	t.Helper()
	eventually(t, "no session left", func() bool { return len(h.p.State().Sessions) == 0 })
	for _, d := range dialogs {
		eventually(t, "BYE for an answered dialog", func() bool { return d.Count("BYE") > 0 })
	}
	eventually(t, "every microphone and speaker closed", func() bool { return audio.mics.Load() == 0 && audio.speakers.Load() == 0 })
	h.rec.flush(t, h.p.bus)
	for _, sid := range sids {
		names := h.rec.names(sid)
		if k := len(h.rec.of(sid, event.Ended)); k != 1 || names[len(names)-1] != event.Ended {
			t.Errorf("session %s: events %v; want exactly one onEnded, last", sid, names)
		}
	}
}

// In-dialog OPTIONS: a far end that forgot the call ends it with Error.
func TestKeepalive(t *testing.T) {
	h := newHarness(t, nil, func(cfg *config.Config) { cfg.Calls.Keepalive = 50 * time.Millisecond })
	sid, o := h.dial()
	ans, err := sigtest.SDPAnswer(o.Req.SDP)
	if err != nil {
		t.Fatal(err)
	}
	d := sigtest.NewDialog(ans).SetPingErr(&signal.StatusError{Code: 481, Reason: "Call/Transaction Does Not Exist"})
	o.Answer(d)
	wantEnded(t, h.rec, sid, EndError, 408)
	d.WaitReq(t, "BYE", 1, wait)
	if d.Count("OPTIONS") != 1 {
		t.Errorf("%d OPTIONS, want 1 (481 is final)", d.Count("OPTIONS"))
	}
	wantNames(t, h, sid, event.NewSession, event.Accepted, event.Error, event.Ended)
}

// The contact center's session id, when the INVITE carries a usable one.
func TestInboundSessionID(t *testing.T) {
	for _, c := range []struct {
		name, value string
		used        bool
	}{
		{"X-Session-Id", "cc-4711", true},
		{"x-session-id", "  cc-4712 ", true}, // header names are case-insensitive; trimmed
		{"X-Session-Id", "has space", false},
		{"X-Session-Id", "", false},
		{"X-Other", "cc-4713", false},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			in := sigtest.NewIncoming("5551234", "1001", "", map[string]string{c.name: c.value})
			sid := h.ring(in)
			if got := sid == "cc-4711" || sid == "cc-4712"; got != c.used || len(sid) == 0 {
				t.Errorf("session id %q (header %s: %q)", sid, c.name, c.value)
			}
			// A second INVITE with a taken id gets a fresh one.
			if c.used {
				sid2 := h.ring(sigtest.NewIncoming("5559999", "1001", "", map[string]string{c.name: c.value}))
				if sid2 == sid {
					t.Error("two sessions share an id")
				}
			}
		})
	}
}

func TestBadTarget(t *testing.T) {
	h := newHarness(t, nil, nil)
	for _, to := range []string{"", "2000\r\n", "2000\r\nVia: evil", "20 00"} {
		if _, err := h.p.Call(to, "", ""); CodeOf(err) != ErrSIPURIWrongFormat {
			t.Errorf("Call(%q): %v, want code %d", to, err, ErrSIPURIWrongFormat)
		}
	}
	sid, _, _ := h.connect(nil)
	if err := h.p.Transfer(sid, "3000\r\n"); CodeOf(err) != ErrSIPURIWrongFormat {
		t.Errorf("Transfer to CR/LF: %v", err)
	}
	if _, err := h.p.Call("2000", "two\nlines", ""); CodeOf(err) != ErrSIPBadRequest {
		t.Errorf("remark with LF: %v", err)
	}
	if n := len(h.f.Dials()); n != 1 {
		t.Errorf("%d INVITEs sent, want 1", n)
	}
}

// We are the transferee: REFER → NOTIFY 100, a call to the target, NOTIFY 200.
func TestOnRefer(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer bool
		final  int
	}{
		{"answered", true, 200},
		{"busy", false, 486}, // the target's own answer is passed on
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			sid, _, d := h.connect(nil)
			if !d.FarRefer("sip:3000@127.0.0.1", "") {
				t.Fatal("REFER refused")
			}
			if r := d.WaitReq(t, "NOTIFY", 1, wait); r.Code != 100 || r.Final {
				t.Errorf("first NOTIFY %+v", r)
			}
			o := h.f.WaitDial(t, wait)
			if o.Req.To != "sip:3000@127.0.0.1" {
				t.Errorf("called %q", o.Req.To)
			}
			h.waitState(sid, StateHeld) // the transferor waits on hold
			if c.answer {
				o.Answer(nil)
			} else {
				o.Fail(&signal.StatusError{Code: 486, Reason: "Busy Here"})
			}
			if r := d.WaitReq(t, "NOTIFY", 2, wait); !r.Final || (c.final != 0 && r.Code != c.final) || (c.final == 0 && r.Code < 300) {
				t.Errorf("final NOTIFY %+v, want %d (0: a failure)", r, c.final)
			}
			if d.Count("NOTIFY") != 2 {
				t.Errorf("%d NOTIFYs", d.Count("NOTIFY"))
			}
			d.FarBye() // the transferor hangs up our first leg
			wantEnded(t, h.rec, sid, EndRemoteBye, 0)
		})
	}
}

// An INVITE with Replaces swaps one of our calls for itself.
func TestReplaces(t *testing.T) {
	h := newHarness(t, nil, nil)
	sid, _, d := h.connect(nil)
	in := sigtest.NewIncoming("5550042", "1001", "", map[string]string{"Replaces": d.ReplacesParam()})
	h.f.Ring(in)
	wantEnded(t, h.rec, sid, EndLocalBye, 0)
	d.WaitReq(t, "BYE", 1, wait)
	in.WaitAnswer(t, wait)
	eventually(t, "the new call connected", func() bool {
		st := h.p.State().Sessions
		return len(st) == 1 && st[0].State == StateConnected && st[0].Caller == "5550042"
	})
	bad := sigtest.NewIncoming("5550043", "1001", "", map[string]string{"Replaces": "nope@x;to-tag=1;from-tag=2"})
	h.f.Ring(bad)
	if code := bad.WaitReject(t, wait); code != 481 {
		t.Errorf("Replaces of nothing: %d, want 481", code)
	}
}

// Locks: the phone's and a session's are taken in either order by no two
// paths (the default-session lookup vs. music on hold under a session lock).
func TestNoLockOrderDeadlock(t *testing.T) {
	h := newHarness(t, nil, nil)
	sid, _, _ := h.connect(nil)
	_ = h.p.Hold(sid)
	h.waitState(sid, StateHeld)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			_ = h.p.setMuted(sid, i%2 == 0) // s.mu, then p.mu for the hold music
		}
	})
	wg.Go(func() {
		for range 2000 {
			_, _ = h.p.session("", StateConnected) // p.mu, then each s.mu
		}
	})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		// t.Fatal would hang in the clean-up, which needs the locks.
		panic("deadlock: Phone.session(\"\") against a session holding its lock while it asks for the hold music")
	}
}
