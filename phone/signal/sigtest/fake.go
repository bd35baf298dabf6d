// Package sigtest is a fake SIP stack for testing the call state machine:
// it implements signal.Calls, records everything the phone asks of it, and
// lets the test play the network and the far end. Nothing is sent anywhere
// and nothing happens on its own: every DialEvents and DialogHandler
// callback is made when the test calls a driving method (Progress, Answer,
// Fail, FarOffer, FarBye, ...), on the goroutine that calls it.
package sigtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// Host is the address the fake reports for SDP.
const Host = "127.0.0.1"

// FarPort is the far end's RTP port in the SDP the fake builds.
const FarPort = 40000

// broadcast is a "something changed" signal: wait on ch(), then re-check.
type broadcast struct{ c chan struct{} }

func (b *broadcast) ch() chan struct{} { // caller holds the owner's mutex
	if b.c == nil {
		b.c = make(chan struct{})
	}
	return b.c
}

func (b *broadcast) fire() { // caller holds the owner's mutex
	if b.c != nil {
		close(b.c)
		b.c = nil
	}
}

// waitFor polls cond (under mu) until it holds or timeout passes.
func waitFor(mu *sync.Mutex, b *broadcast, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		mu.Lock()
		if cond() {
			mu.Unlock()
			return true
		}
		ch := b.ch()
		mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			mu.Lock()
			ok := cond()
			mu.Unlock()
			return ok
		}
	}
}

// ---------------------------------------------------------------- SDP

func pcmu() media.Codec {
	c, err := media.CodecByName("PCMU")
	if err != nil {
		panic(err)
	}
	return c
}

// SDPOffer is a far end's offer: PCMU and telephone-event 101 at
// Host:port, with direction dir (sendrecv, sendonly, recvonly, inactive).
func SDPOffer(port int, dir string) []byte {
	body, err := media.Offer(Host, port, []media.Codec{pcmu()}, 101, 1)
	if err == nil && dir != media.SendRecv {
		body, err = media.Reshape(body, dir, 1)
	}
	if err != nil {
		panic(err)
	}
	return body
}

// SDPAnswer is a far end's answer to offer (PCMU at Host:FarPort),
// mirroring its direction.
func SDPAnswer(offer []byte) ([]byte, error) {
	desc, err := media.ParseDescription(offer)
	if err != nil {
		return nil, err
	}
	body, _, err := media.Answer(desc, []media.Codec{pcmu()}, Host, FarPort, 101, 2)
	return body, err
}

// Direction is the audio direction of an SDP body ("" if it does not parse).
func Direction(body []byte) string {
	d, err := media.ParseDescription(body)
	if err != nil {
		return ""
	}
	return d.Direction
}

// ---------------------------------------------------------------- Calls

// Calls is a fake signal.Calls.
type Calls struct {
	mu       sync.Mutex
	changed  broadcast
	dials    []*Outgoing
	next     int // the next dial WaitDial returns
	incoming func(signal.Incoming)
	dialErr  error
}

var _ signal.Calls = (*Calls)(nil)

// Host returns Host.
func (c *Calls) Host() string { return Host }

// CheckTarget refuses an empty target and one with CR, LF or a space.
func (c *Calls) CheckTarget(to string) error {
	if to == "" || strings.ContainsAny(to, "\r\n ") {
		return fmt.Errorf("%w: %q", signal.ErrBadURI, to)
	}
	return nil
}

// SetDialErr makes the next Dials fail at once with err (nil: succeed).
func (c *Calls) SetDialErr(err error) {
	c.mu.Lock()
	c.dialErr = err
	c.mu.Unlock()
}

// Dial records the request and returns at once; nothing is reported until
// the test drives the returned *Outgoing.
func (c *Calls) Dial(r signal.DialRequest, ev signal.DialEvents) (signal.Outgoing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dialErr != nil {
		return nil, c.dialErr
	}
	o := &Outgoing{Req: r, ev: ev, canceled: make(chan struct{})}
	c.dials = append(c.dials, o)
	c.changed.fire()
	return o, nil
}

// OnIncoming stores the phone's handler for Ring.
func (c *Calls) OnIncoming(f func(signal.Incoming)) {
	c.mu.Lock()
	c.incoming = f
	c.mu.Unlock()
}

// Dials is every call placed so far.
func (c *Calls) Dials() []*Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Outgoing(nil), c.dials...)
}

// NextDial returns the next call placed that NextDial or WaitDial has not
// returned yet, waiting up to timeout; nil if none came.
func (c *Calls) NextDial(timeout time.Duration) *Outgoing {
	var o *Outgoing
	waitFor(&c.mu, &c.changed, timeout, func() bool {
		if c.next < len(c.dials) {
			o = c.dials[c.next]
			c.next++
			return true
		}
		return false
	})
	return o
}

// WaitDial is NextDial failing the test if no call comes. Call it from the
// test's goroutine.
func (c *Calls) WaitDial(t testing.TB, timeout time.Duration) *Outgoing {
	t.Helper()
	o := c.NextDial(timeout)
	if o == nil {
		t.Fatalf("sigtest: no call placed within %v", timeout)
	}
	return o
}

// Ring delivers an inbound INVITE to the phone's handler, on the calling
// goroutine.
func (c *Calls) Ring(in *Incoming) {
	c.mu.Lock()
	f := c.incoming
	c.mu.Unlock()
	if f == nil {
		panic("sigtest: Ring before OnIncoming")
	}
	f(in)
}

// ---------------------------------------------------------------- Outgoing

// Outgoing is a fake outbound INVITE.
type Outgoing struct {
	Req signal.DialRequest // what the phone asked for
	ev  signal.DialEvents

	cancelFlag atomic.Bool
	cancelOnce sync.Once
	canceled   chan struct{}

	mu     sync.Mutex
	final  string // "answer" or "fail" once delivered
	dialog *Dialog
}

var _ signal.Outgoing = (*Outgoing)(nil)

// Cancel records that the phone gave up; it reports nothing by itself.
func (o *Outgoing) Cancel() {
	o.cancelFlag.Store(true)
	o.cancelOnce.Do(func() { close(o.canceled) })
}

// IsCanceled reports whether the phone called Cancel.
func (o *Outgoing) IsCanceled() bool { return o.cancelFlag.Load() }

// Canceled is closed when the phone calls Cancel.
func (o *Outgoing) Canceled() <-chan struct{} { return o.canceled }

// Progress delivers a provisional response (180, 183).
func (o *Outgoing) Progress(code int) {
	o.ev.OnProgress(code, map[int]string{180: "Ringing", 183: "Session Progress"}[code])
}

// Answer delivers a 200 OK with dialog d (nil: a new Dialog whose remote
// SDP answers the phone's offer) and returns the dialog. A second final
// (Answer or Fail) is not delivered: the stack reports exactly one.
// Answer after Cancel is delivered: it is a 200 OK that crossed the CANCEL.
func (o *Outgoing) Answer(d *Dialog) *Dialog {
	if d == nil {
		ans, err := SDPAnswer(o.Req.SDP)
		if err != nil {
			panic(fmt.Sprintf("sigtest: cannot answer the phone's offer: %v", err))
		}
		d = NewDialog(ans)
	}
	o.mu.Lock()
	if o.final != "" {
		o.mu.Unlock()
		return nil
	}
	o.final, o.dialog = "answer", d
	o.mu.Unlock()
	d.SetHandler(o.Req.Handler)
	o.ev.OnAnswer(d)
	return d
}

// Fail delivers a final failure (e.g. &signal.StatusError{Code: 486},
// signal.ErrCanceled). It reports false if a final was already delivered.
func (o *Outgoing) Fail(err error) bool {
	o.mu.Lock()
	if o.final != "" {
		o.mu.Unlock()
		return false
	}
	o.final = "fail"
	o.mu.Unlock()
	o.ev.OnFail(err)
	return true
}

// Dialog is the dialog delivered by Answer (nil before).
func (o *Outgoing) Dialog() *Dialog {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dialog
}

// ---------------------------------------------------------------- Dialog

// Req is one request the phone sent in a dialog.
type Req struct {
	Method      string // INVITE (re-offer), INFO, REFER, NOTIFY, OPTIONS, BYE
	SDP         []byte // INVITE
	ContentType string // INFO
	Body        []byte // INFO
	Target      string // REFER
	Replaces    string // REFER
	Code        int    // NOTIFY
	Reason      string // NOTIFY
	Final       bool   // NOTIFY
}

// Dialog is a fake established dialog. By default every request succeeds
// and a re-offer is answered like a plain far end would (mirrored
// direction); the Set* methods change that.
type Dialog struct {
	mu       sync.Mutex
	changed  broadcast
	remote   []byte
	handler  signal.DialogHandler
	reqs     []Req
	reoffer  func(ctx context.Context, sdp []byte) ([]byte, error)
	referErr error
	pingErr  error
	errs     map[string]error // INFO, NOTIFY, BYE
	hang     <-chan struct{}
	ended    bool
	done     chan struct{}
	id       string
}

var _ signal.Dialog = (*Dialog)(nil)

var dialogSeq atomic.Uint64

// NewDialog is a dialog whose far end's SDP is remote.
func NewDialog(remote []byte) *Dialog {
	return &Dialog{
		remote: remote, done: make(chan struct{}), errs: map[string]error{},
		id: fmt.Sprintf("fake-%d@127.0.0.1", dialogSeq.Add(1)),
	}
}

// SetHandler sets who receives the far end's requests (Answer does it).
func (d *Dialog) SetHandler(h signal.DialogHandler) {
	d.mu.Lock()
	d.handler = h
	d.mu.Unlock()
}

func (d *Dialog) getHandler() signal.DialogHandler {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handler == nil {
		panic("sigtest: the dialog has no handler")
	}
	return d.handler
}

// SetReoffer decides the outcome of the phone's re-offers (nil: answer it).
// f may block (until ctx ends) to play a far end that never answers.
func (d *Dialog) SetReoffer(f func(ctx context.Context, sdp []byte) ([]byte, error)) *Dialog {
	d.mu.Lock()
	d.reoffer = f
	d.mu.Unlock()
	return d
}

// SetReferErr makes Refer fail with err.
func (d *Dialog) SetReferErr(err error) *Dialog {
	d.mu.Lock()
	d.referErr = err
	d.mu.Unlock()
	return d
}

// SetPingErr makes Ping (OPTIONS) fail with err.
func (d *Dialog) SetPingErr(err error) *Dialog {
	d.mu.Lock()
	d.pingErr = err
	d.mu.Unlock()
	return d
}

// SetErr makes the requests of method (INFO, NOTIFY, BYE) fail with err.
func (d *Dialog) SetErr(method string, err error) *Dialog {
	d.mu.Lock()
	d.errs[method] = err
	d.mu.Unlock()
	return d
}

// SetHang plays a far end that never answers: every request blocks until
// ch is closed or its context ends (then it fails with the context's error).
func (d *Dialog) SetHang(ch <-chan struct{}) *Dialog {
	d.mu.Lock()
	d.hang = ch
	d.mu.Unlock()
	return d
}

// record notes r, then blocks as SetHang says.
func (d *Dialog) record(ctx context.Context, r Req) error {
	d.mu.Lock()
	d.reqs = append(d.reqs, r)
	d.changed.fire()
	hang := d.hang
	d.mu.Unlock()
	if hang == nil {
		return nil
	}
	select {
	case <-hang:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reqs is every request of method the phone sent ("" for all), in order.
func (d *Dialog) Reqs(method string) []Req {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Req
	for _, r := range d.reqs {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Count is how many requests of method the phone sent.
func (d *Dialog) Count(method string) int { return len(d.Reqs(method)) }

// WaitReq waits until the phone has sent n requests of method and returns
// the nth; it fails the test otherwise. Call it from the test's goroutine.
func (d *Dialog) WaitReq(t testing.TB, method string, n int, timeout time.Duration) Req {
	t.Helper()
	var r Req
	count := func() bool {
		k := 0
		for _, x := range d.reqs {
			if x.Method == method {
				if k++; k == n {
					r = x
					return true
				}
			}
		}
		return false
	}
	if !waitFor(&d.mu, &d.changed, timeout, count) {
		t.Fatalf("sigtest: %d %s not sent within %v (sent: %v)", n, method, timeout, d.methods())
	}
	return r
}

func (d *Dialog) methods() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var m []string
	for _, r := range d.reqs {
		m = append(m, r.Method)
	}
	return m
}

func (d *Dialog) end(cause error, notify bool) {
	d.mu.Lock()
	if d.ended {
		d.mu.Unlock()
		return
	}
	d.ended = true
	h := d.handler
	close(d.done)
	d.changed.fire()
	d.mu.Unlock()
	if notify && h != nil {
		h.OnEnd(cause)
	}
}

// Ended reports whether the dialog is over.
func (d *Dialog) Ended() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ended
}

// RemoteSDP is the far end's latest SDP.
func (d *Dialog) RemoteSDP() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remote
}

// Reoffer records the re-INVITE and answers it as SetReoffer says.
func (d *Dialog) Reoffer(ctx context.Context, sdp []byte) ([]byte, error) {
	if err := d.record(ctx, Req{Method: "INVITE", SDP: sdp}); err != nil {
		return nil, err
	}
	d.mu.Lock()
	f := d.reoffer
	d.mu.Unlock()
	if f == nil {
		f = func(_ context.Context, sdp []byte) ([]byte, error) { return SDPAnswer(sdp) }
	}
	ans, err := f(ctx, sdp)
	if err == nil {
		d.mu.Lock()
		d.remote = ans
		d.mu.Unlock()
	}
	return ans, err
}

// Info records an INFO.
func (d *Dialog) Info(ctx context.Context, contentType string, body []byte) error {
	if err := d.record(ctx, Req{Method: "INFO", ContentType: contentType, Body: body}); err != nil {
		return err
	}
	return d.errFor("INFO")
}

// Refer records a REFER and returns SetReferErr's error.
func (d *Dialog) Refer(ctx context.Context, target, replaces string) error {
	if err := d.record(ctx, Req{Method: "REFER", Target: target, Replaces: replaces}); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.referErr
}

// Notify records a NOTIFY (sipfrag status).
func (d *Dialog) Notify(ctx context.Context, code int, reason string, final bool) error {
	if err := d.record(ctx, Req{Method: "NOTIFY", Code: code, Reason: reason, Final: final}); err != nil {
		return err
	}
	return d.errFor("NOTIFY")
}

// Ping records an OPTIONS and returns SetPingErr's error.
func (d *Dialog) Ping(ctx context.Context) error {
	if err := d.record(ctx, Req{Method: "OPTIONS"}); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pingErr
}

// Bye records a BYE and ends the dialog; the handler gets
// OnEnd(signal.ErrLocalBye) as from the real stack.
func (d *Dialog) Bye(ctx context.Context) error {
	err := d.record(ctx, Req{Method: "BYE"})
	d.end(signal.ErrLocalBye, true)
	if err != nil {
		return err
	}
	return d.errFor("BYE")
}

func (d *Dialog) errFor(method string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errs[method]
}

// ReplacesParam is the dialog's id as a Replaces value.
func (d *Dialog) ReplacesParam() string { return d.id + ";to-tag=a;from-tag=b" }

// Target is the far end's URI.
func (d *Dialog) Target() string { return "sip:far@" + Host }

// Done is closed once the dialog is over.
func (d *Dialog) Done() <-chan struct{} { return d.done }

// FarOffer plays the far end's re-INVITE: the phone's OnOffer answer.
func (d *Dialog) FarOffer(sdp []byte) ([]byte, int) {
	ans, code := d.getHandler().OnOffer(signal.Offer{SDP: sdp, Method: "INVITE"})
	if code >= 200 && code < 300 && len(sdp) > 0 {
		d.mu.Lock()
		d.remote = sdp
		d.mu.Unlock()
	}
	return ans, code
}

// FarBye plays the far end's BYE: the dialog ends and the handler gets
// OnEnd(nil).
func (d *Dialog) FarBye() { d.end(nil, true) }

// FarEnd ends the dialog with cause (e.g. signal.ErrNoAck,
// signal.ErrDialogGone).
func (d *Dialog) FarEnd(cause error) { d.end(cause, true) }

// FarNotify plays a NOTIFY for the REFER the phone sent.
func (d *Dialog) FarNotify(code int, reason string) { d.getHandler().OnNotify(code, reason) }

// FarDTMF plays a digit sent by SIP INFO.
func (d *Dialog) FarDTMF(r rune) { d.getHandler().OnDTMF(r) }

// FarRefer plays a REFER from the far end: whether the phone accepted it.
func (d *Dialog) FarRefer(target, replaces string) bool {
	return d.getHandler().OnRefer(target, replaces)
}

// ---------------------------------------------------------------- Incoming

// Incoming is a fake inbound INVITE.
type Incoming struct {
	caller, callee signal.Party
	headers        map[string]string
	sdp            []byte

	cancelOnce sync.Once
	canceled   chan struct{}

	mu        sync.Mutex
	changed   broadcast
	rings     int
	answers   [][]byte
	rejects   []int
	dialog    *Dialog
	answerErr error
	onAnswer  func()
}

var _ signal.Incoming = (*Incoming)(nil)

// NewIncoming is an INVITE from caller to callee (numbers) with an SDP
// offer ("" for SDPOffer(FarPort, sendrecv)) and extra headers, looked up
// case-insensitively ("Replaces" is the Replaces header).
func NewIncoming(caller, callee, sdp string, headers map[string]string) *Incoming {
	body := []byte(sdp)
	if sdp == "" {
		body = SDPOffer(FarPort, media.SendRecv)
	}
	h := map[string]string{}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	return &Incoming{
		caller:  signal.Party{User: caller, URI: "sip:" + caller + "@" + Host},
		callee:  signal.Party{User: callee, URI: "sip:" + callee + "@" + Host},
		headers: h, sdp: body, canceled: make(chan struct{}),
	}
}

// Caller is the From party.
func (in *Incoming) Caller() signal.Party { return in.caller }

// Callee is the To party.
func (in *Incoming) Callee() signal.Party { return in.callee }

// Header returns a header given to NewIncoming.
func (in *Incoming) Header(name string) string { return in.headers[strings.ToLower(name)] }

// SDP is the caller's offer.
func (in *Incoming) SDP() []byte { return in.sdp }

// Replaces is the Replaces header.
func (in *Incoming) Replaces() string { return in.Header("Replaces") }

// Ring records a 180.
func (in *Incoming) Ring() {
	in.mu.Lock()
	in.rings++
	in.changed.fire()
	in.mu.Unlock()
}

// SetAnswerErr makes Answer fail with err.
func (in *Incoming) SetAnswerErr(err error) {
	in.mu.Lock()
	in.answerErr = err
	in.mu.Unlock()
}

// SetAnswerHook makes Answer call f (on the phone's goroutine, while the
// 200 OK is "going out") before it returns.
func (in *Incoming) SetAnswerHook(f func()) {
	in.mu.Lock()
	in.onAnswer = f
	in.mu.Unlock()
}

// Answer records the 200 OK and returns a Dialog whose remote SDP is the
// caller's offer and whose handler is h.
func (in *Incoming) Answer(sdp []byte, h signal.DialogHandler) (signal.Dialog, error) {
	in.mu.Lock()
	if in.answerErr != nil {
		defer in.mu.Unlock()
		return nil, in.answerErr
	}
	in.answers = append(in.answers, sdp)
	if in.dialog == nil {
		in.dialog = NewDialog(in.sdp)
	}
	d, hook := in.dialog, in.onAnswer
	in.changed.fire()
	in.mu.Unlock()
	d.SetHandler(h)
	if hook != nil {
		hook()
	}
	return d, nil
}

// Reject records a final error response.
func (in *Incoming) Reject(code int, _ string) {
	in.mu.Lock()
	in.rejects = append(in.rejects, code)
	in.changed.fire()
	in.mu.Unlock()
}

// Canceled is closed by Cancel.
func (in *Incoming) Canceled() <-chan struct{} { return in.canceled }

// Cancel plays the caller's CANCEL.
func (in *Incoming) Cancel() { in.cancelOnce.Do(func() { close(in.canceled) }) }

// Rings is how many 180s the phone sent.
func (in *Incoming) Rings() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rings
}

// Answers is every 200 OK body the phone sent.
func (in *Incoming) Answers() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.answers...)
}

// Rejects is every final error code the phone sent.
func (in *Incoming) Rejects() []int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]int(nil), in.rejects...)
}

// Dialog is the dialog Answer created (nil before).
func (in *Incoming) Dialog() *Dialog {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.dialog
}

// WaitReject waits for the phone's final error response and returns its
// code; it fails the test if none comes in time.
func (in *Incoming) WaitReject(t testing.TB, timeout time.Duration) int {
	t.Helper()
	var code int
	if !waitFor(&in.mu, &in.changed, timeout, func() bool {
		if len(in.rejects) > 0 {
			code = in.rejects[0]
			return true
		}
		return false
	}) {
		t.Fatalf("sigtest: no final error response within %v", timeout)
	}
	return code
}

// WaitAnswer waits for the phone's 200 OK and returns the dialog.
func (in *Incoming) WaitAnswer(t testing.TB, timeout time.Duration) *Dialog {
	t.Helper()
	var d *Dialog
	if !waitFor(&in.mu, &in.changed, timeout, func() bool { d = in.dialog; return d != nil }) {
		t.Fatalf("sigtest: not answered within %v", timeout)
	}
	return d
}
