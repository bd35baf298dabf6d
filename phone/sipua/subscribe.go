package sipua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// SubscribeOptions configures a Subscription (RFC 6665).
type SubscribeOptions struct {
	Target  sip.Uri  // whose state; zero: the account's AOR
	Event   string   // event package, e.g. "presence"
	Accept  []string // body types we read, e.g. application/pidf+xml
	Expires int      // seconds asked for; 0: 600
	// OnNotify hears every NOTIFY of the subscription, in CSeq order, from
	// one goroutine. It may block briefly; NOTIFYs queue meanwhile.
	OnNotify func(Notify)
}

// Notify is one NOTIFY of a subscription.
type Notify struct {
	Body        []byte
	ContentType string
	State       string // Subscription-State: active, pending or terminated
	Reason      string // why it was terminated (deactivated, timeout, …)
	Expires     int    // seconds left, as the notifier says (0 if not said)
}

// Subscription keeps a subscription alive: it refreshes before expiry and,
// when the notifier ends it or a refresh fails, subscribes again (after a
// back-off). It gives up only when the notifier refuses outright.
type Subscription struct {
	u      *UA
	opts   SubscribeOptions
	cancel context.CancelFunc
	done   chan struct{} // closed when it is over (Close, or given up)
	ended  chan string   // the notifier terminated the dialog
	notes  chan Notify   // to the delivery goroutine
	wake   chan struct{} // a NOTIFY shortened the expiry
	quit   chan struct{} // stops the delivery goroutine
	err    error         // why it gave up (valid after done)
	once   sync.Once

	mu      sync.Mutex
	d       *dialog // nil between subscriptions
	key     string  // Call-ID|local tag, the key in UA.subs
	seen    uint32  // highest NOTIFY CSeq delivered
	granted int
	expiry  time.Time
	closing bool
}

// subTable routes NOTIFYs to subscriptions by Call-ID and our tag: the
// notifier's tag may not be known yet (a NOTIFY may beat the 2xx).
type subTable struct {
	mu sync.Mutex
	m  map[string]*Subscription
}

func (t *subTable) put(key string, s *Subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*Subscription{}
	}
	t.m[key] = s
}

func (t *subTable) get(key string) *Subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key]
}

func (t *subTable) del(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// Subscribe sends the first SUBSCRIBE and returns once it is accepted
// (2xx), then keeps the subscription alive in the background. A refusal is
// a *StatusError, no answer an error wrapping ErrTimeout.
func (u *UA) Subscribe(ctx context.Context, opts SubscribeOptions) (*Subscription, error) {
	if opts.Target.Host == "" {
		opts.Target = u.AOR()
	}
	if opts.Expires <= 0 {
		opts.Expires = 600
	}
	if opts.Event == "" {
		return nil, errors.New("subscribe: no event package")
	}
	s := &Subscription{
		u: u, opts: opts, done: make(chan struct{}), ended: make(chan string, 1),
		notes: make(chan Notify, 32), wake: make(chan struct{}, 1), quit: make(chan struct{}),
	}
	go s.deliver()
	if err := s.initial(ctx); err != nil {
		close(s.quit)
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.loop(lctx)
	return s, nil
}

// Done is closed when the subscription is over: closed, or refused for good.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the subscription gave up (nil after Close).
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close un-subscribes (Expires: 0) and stops. The notifier's last NOTIFY
// is answered but not delivered.
func (s *Subscription) Close(ctx context.Context) error {
	s.cancel()
	<-s.done
	s.mu.Lock()
	already := s.closing
	s.closing = true
	d, key := s.d, s.key
	s.mu.Unlock()
	if d == nil || already {
		return nil
	}
	_, err := s.send(ctx, d, 0)
	// Keep answering the final NOTIFY for a while, then forget the dialog.
	time.AfterFunc(5*time.Second, func() { s.u.subs.del(key) })
	return err
}

func (s *Subscription) finish(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		close(s.quit)
	})
}

func (s *Subscription) loop(ctx context.Context) {
	backoff := RetryMin
	wait := s.refreshIn()
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.finish(nil)
			return
		case <-s.wake:
			t.Stop()
			wait = s.refreshIn()
			continue
		case why := <-s.ended:
			t.Stop()
			s.drop()
			wait = jitter(backoff)
			backoff = min(backoff*2, RetryMax)
			s.u.log.Info("the notifier ended the subscription: subscribing again", "event", s.opts.Event, "reason", why, "after", wait)
			s.sleep(ctx, wait)
			wait = 0
			continue
		case <-t.C:
		}
		var err error
		if d := s.dialog(); d != nil {
			if _, err = s.send(ctx, d, s.opts.Expires); err != nil {
				s.u.log.Info("refreshing the subscription failed: subscribing again", "event", s.opts.Event, "error", err)
				s.drop()
				err = s.initial(ctx)
			}
		} else {
			err = s.initial(ctx)
		}
		if ctx.Err() != nil {
			s.finish(nil)
			return
		}
		if err == nil {
			backoff = RetryMin
			wait = s.refreshIn()
			continue
		}
		if refusedForGood(err) {
			s.u.log.Warn("the notifier refused the subscription: giving up", "event", s.opts.Event, "error", err)
			s.finish(err)
			return
		}
		wait = jitter(backoff)
		backoff = min(backoff*2, RetryMax)
		s.u.log.Warn("subscribing failed", "event", s.opts.Event, "error", err, "retry", wait)
	}
}

func (s *Subscription) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// refusedForGood: a final answer that retrying will not change.
func refusedForGood(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case 408, 423, 480, 481, 482, 491, 500, 503, 504:
		return false
	}
	return se.Code >= 400
}

func (s *Subscription) dialog() *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// refreshIn is how long until the next refresh.
func (s *Subscription) refreshIn() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return 0
	}
	left := time.Until(s.expiry)
	return max(refreshAfter(int(left/time.Second)), 0)
}

// drop forgets the current dialog (its state is gone at the notifier).
func (s *Subscription) drop() {
	s.mu.Lock()
	key := s.key
	s.d, s.key = nil, ""
	s.mu.Unlock()
	if key != "" {
		s.u.subs.del(key)
	}
}

// initial sends an initial SUBSCRIBE on a new dialog.
func (s *Subscription) initial(ctx context.Context) error {
	u := s.u
	from := u.fromHeader()
	localTag, _ := from.Params.Get("tag")
	d := &dialog{
		u: u, callID: uuid.NewString(), local: from.Address, localName: from.DisplayName, localTag: localTag,
		remote: s.opts.Target, transport: u.transport(), done: make(chan struct{}),
		target: s.opts.Target,
	}
	key := d.callID + "|" + localTag
	s.mu.Lock()
	s.d, s.key, s.seen = d, key, 0
	s.mu.Unlock()
	u.subs.put(key, s) // before sending: the first NOTIFY may beat the 2xx
	res, err := s.send(ctx, d, s.opts.Expires)
	if err != nil {
		s.drop()
		return err
	}
	d.mu.Lock()
	if c := res.Contact(); c != nil {
		d.target = c.Address
	}
	if d.remoteTag == "" { // else a NOTIFY came first and set them
		d.remoteTag, _ = res.To().Params.Get("tag")
		rr := res.GetHeaders("Record-Route")
		for i := len(rr) - 1; i >= 0; i-- { // reversed by the UAC (RFC 3261 §12.1.2)
			d.routes = append(d.routes, rr[i].Value())
		}
	}
	d.mu.Unlock()
	return nil
}

// send does one SUBSCRIBE in d (initial while d has no remote tag) and
// notes the expiry granted.
func (s *Subscription) send(ctx context.Context, d *dialog, expires int) (*sip.Response, error) {
	d.mu.Lock()
	initial := d.remoteTag == ""
	d.mu.Unlock()
	var req *sip.Request
	if initial {
		req = sip.NewRequest(sip.SUBSCRIBE, s.opts.Target)
		from := &sip.FromHeader{DisplayName: d.localName, Address: d.local, Params: sip.NewParams()}
		from.Params.Add("tag", d.localTag)
		callID := sip.CallIDHeader(d.callID)
		maxFwd := sip.MaxForwardsHeader(70)
		d.mu.Lock()
		d.localSeq++
		seq := d.localSeq
		d.mu.Unlock()
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: s.opts.Target, Params: sip.NewParams()})
		req.AppendHeader(&callID)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.SUBSCRIBE})
		req.AppendHeader(&maxFwd)
		req.AppendHeader(s.u.contactHeader())
		req.SetDestination(s.u.proxy())
		req.SetTransport(s.u.transport())
	} else {
		req = d.request(sip.SUBSCRIBE, 0, "", nil)
	}
	req.AppendHeader(sip.NewHeader("Event", s.opts.Event))
	if len(s.opts.Accept) > 0 {
		req.AppendHeader(sip.NewHeader("Accept", strings.Join(s.opts.Accept, ", ")))
	}
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := s.u.doAuth(ctx, req)
	d.mu.Lock()
	d.localSeq = max(d.localSeq, req.CSeq().SeqNo) // the challenge answer took a CSeq
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return res, statusError(res)
	}
	if expires > 0 {
		s.mu.Lock()
		s.granted = expiresOf(res, expires)
		s.expiry = time.Now().Add(time.Duration(s.granted) * time.Second)
		s.mu.Unlock()
	}
	return res, nil
}

// handleNotify serves a NOTIFY of one of our subscriptions; any other
// (REFER progress in a call) goes to the call dialogs.
func (u *UA) handleNotify(req *sip.Request, tx sip.ServerTransaction) {
	var key string
	if c, to := req.CallID(), req.To(); c != nil && to != nil && to.Params != nil {
		tag, _ := to.Params.Get("tag")
		key = c.Value() + "|" + tag
	}
	s := u.subs.get(key)
	if s == nil {
		u.handleInDialog(req, tx)
		return
	}
	// Subscriptions go through the registrar, so their NOTIFYs come from a
	// trusted peer; anyone else is refused like an out-of-dialog request.
	if !u.admitOutOfDialog(req, tx) {
		return
	}
	s.handleNotify(req, tx)
}

func (s *Subscription) handleNotify(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string) {
		if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
			s.u.log.Debug("answering NOTIFY failed", "error", err)
		}
	}
	ev := req.GetHeader("Event")
	if ev == nil || !sameEvent(ev.Value(), s.opts.Event) {
		respond(489, "Bad Event")
		return
	}
	n := Notify{}
	if h := req.GetHeader("Subscription-State"); h != nil {
		n.State, n.Reason, n.Expires = parseSubState(h.Value())
	}
	if n.State == "" {
		respond(400, "Bad Request (no Subscription-State)")
		return
	}
	if ct := req.ContentType(); ct != nil {
		n.ContentType = strings.TrimSpace(ct.Value())
	}
	n.Body = req.Body()
	respond(200, "OK")

	seq := req.CSeq().SeqNo
	s.mu.Lock()
	d := s.d
	if s.closing || d == nil || seq <= s.seen && s.seen != 0 {
		s.mu.Unlock()
		return // after Close, or a stale retransmission
	}
	s.seen = seq
	if n.Expires > 0 && n.State != "terminated" {
		if e := time.Now().Add(time.Duration(n.Expires) * time.Second); e.Before(s.expiry) {
			s.expiry = e // the notifier shortened it
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	select { // queued under mu, so deliveries keep CSeq order
	case s.notes <- n:
	default:
		s.u.log.Warn("NOTIFY queue full: dropping one", "event", s.opts.Event)
	}
	s.mu.Unlock()

	d.mu.Lock()
	if d.remoteTag == "" { // the NOTIFY beat the 2xx: it sets up the dialog
		d.remoteTag, _ = req.From().Params.Get("tag")
		if c := req.Contact(); c != nil {
			d.target = c.Address
		}
		for _, rr := range req.GetHeaders("Record-Route") { // in order on this side (§12.1.1)
			d.routes = append(d.routes, rr.Value())
		}
	}
	d.mu.Unlock()
	if n.State == "terminated" {
		select {
		case s.ended <- n.Reason:
		default:
		}
	}
}

func (s *Subscription) deliver() {
	for {
		select {
		case n := <-s.notes:
			if s.opts.OnNotify != nil {
				s.opts.OnNotify(n)
			}
		case <-s.quit:
			return
		}
	}
}

// sameEvent compares event packages without their parameters (RFC 6665 §8.2.1).
func sameEvent(got, want string) bool {
	g, _, _ := strings.Cut(got, ";")
	w, _, _ := strings.Cut(want, ";")
	return strings.EqualFold(strings.TrimSpace(g), strings.TrimSpace(w))
}

// parseSubState reads "active;expires=600" or "terminated;reason=timeout".
func parseSubState(v string) (state, reason string, expires int) {
	parts := strings.Split(v, ";")
	state = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "reason":
			reason = strings.TrimSpace(val)
		case "expires":
			expires, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	return state, reason, expires
}

// String names the subscription for logs.
func (s *Subscription) String() string {
	return fmt.Sprintf("%s of %s", s.opts.Event, s.opts.Target.String())
}
