package sipua

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// RegState is where registration stands.
type RegState string

// The registration states.
const (
	Unregistered RegState = "unregistered"
	Registering  RegState = "registering"
	Registered   RegState = "registered"
	RegFailed    RegState = "failed"
)

// RegStatus is one change of registration state.
type RegStatus struct {
	State   RegState
	Code    int           // last SIP status (0: none, e.g. no answer)
	Reason  string        // reason phrase or network error
	Expires int           // seconds granted by the registrar
	Retry   time.Duration // when failed: wait before the next attempt
	// CertRefused: the registrar's TLS certificate was refused (wrong CA
	// or name, ErrCertificate); nothing was sent to it.
	CertRefused bool
	// Moved: the registration lapsed because the phone's address changed
	// (Moved, not an error): it registers the new one at once.
	Moved bool
}

// Backoff bounds for failed registrations.
var (
	RetryMin = 1 * time.Second //nolint:revive // time-naming: Min is "minimum", beside RetryMax
	RetryMax = 60 * time.Second
)

// Registration keeps the account registered: it refreshes before the
// registrar's granted expiry and retries with back-off after failures.
type Registration struct {
	ua       *UA
	onChange func(prev, cur RegStatus)
	callID   sip.CallIDHeader
	cseq     uint32
	cancel   context.CancelFunc
	done     chan struct{}
	kick     chan kick     // a keepalive found the registrar gone: say so and retry now
	move     chan struct{} // the target changed (failing back): register there now
	// abort cancels the attempt in flight (Retry: the phone's address
	// changed, so a REGISTER sent from the old one will not be answered).
	abort atomic.Pointer[context.CancelFunc]

	mu     sync.Mutex
	status RegStatus
}

// kick is a request to register again now; lost means the target in use
// stopped answering, so the next one is tried (failover.go).
type kick struct {
	why    string
	lost   bool
	moved  bool   // the phone's address changed (Moved)
	target string // the target whose keepalive failed ("": the one in use)
}

// Register starts keeping the account registered. onChange is called on
// every status change with the status before and after it (from the
// registration goroutine), so callers need no copy of the state.
func (u *UA) Register(onChange func(prev, cur RegStatus)) *Registration {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Registration{
		ua:       u,
		onChange: onChange,
		callID:   sip.CallIDHeader(uuid.NewString()),
		cancel:   cancel,
		done:     make(chan struct{}),
		kick:     make(chan kick, 1),
		move:     make(chan struct{}, 1),
		status:   RegStatus{State: Unregistered},
	}
	go r.loop(ctx)
	go r.failbackLoop(ctx)
	return r
}

// Status is the latest registration status.
func (r *Registration) Status() RegStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

func (r *Registration) set(s RegStatus) {
	r.mu.Lock()
	prev := r.status
	r.status = s
	r.mu.Unlock()
	if prev != s && r.onChange != nil {
		r.onChange(prev, s)
	}
}

// refreshAfter is when to refresh a binding the registrar granted for
// `granted` seconds: well before it lapses, with room for a retransmission.
func refreshAfter(granted int) time.Duration {
	g := time.Duration(granted) * time.Second
	switch {
	case granted <= 4:
		return g / 2
	case granted <= 60:
		return g * 3 / 4
	default:
		return g - 30*time.Second
	}
}

// retryBounds are the back-off's bounds: the UA's, else the package's.
func (u *UA) retryBounds() (lo, hi time.Duration) {
	lo, hi = u.cfg.RetryMin, u.cfg.RetryMax
	if lo <= 0 {
		lo = RetryMin
	}
	if hi <= 0 {
		hi = RetryMax
	}
	return lo, max(lo, hi)
}

func (r *Registration) loop(ctx context.Context) {
	defer close(r.done)
	retryMin, retryMax := r.ua.retryBounds()
	backoff := retryMin
	failing, cut := false, false
	leaving := "" // failing back from this target: remove the binding there once moved
	for {
		if r.Status().State != Registered {
			r.set(RegStatus{State: Registering}) // refreshes stay "registered"
		}
		// While failing, a probe runs beside the REGISTER: a registrar
		// that comes back answers it at once, where the REGISTER would
		// wait for its next retransmission (up to 4 s apart). Once per
		// failure, so a registrar that answers OPTIONS but not REGISTER
		// still gets the back-off.
		probeNow := failing && !cut && r.ua.cfg.Probe > 0
		dest, err := r.target(ctx)
		var out outcome
		if err == nil {
			out = r.abortable(ctx, dest, probeNow)
			if out.abandoned && ctx.Err() == nil {
				r.aborted(dest) // Retry: start over now
				continue
			}
			err = out.err
		}
		granted, res := out.granted, out.res
		if ctx.Err() != nil {
			return
		}
		if err != nil && out.probed {
			cut = true
			continue // the registrar is back: send a fresh REGISTER now
		}
		cut = false
		var wait time.Duration
		if err == nil {
			select { // a keepalive's kick from before this success is stale
			case <-r.kick:
			default:
			}
			r.registered(ctx, dest, leaving, granted)
			leaving = ""
			backoff, failing = retryMin, false
			wait = refreshAfter(granted)
		} else {
			var backedOff bool
			if wait, backedOff = r.failed(dest, res, err, backoff); backedOff {
				backoff = min(backoff*2, retryMax)
			}
			failing = true
		}
		var kickedFailing bool
		var ok bool
		if ok, kickedFailing, leaving = r.pause(ctx, wait, err != nil, dest, leaving); !ok {
			return
		}
		failing = failing || kickedFailing
	}
}

// pause waits `wait` before the next attempt, cut short by a kick, a move
// (failing back: leaving is then dest) or, after a failure, the registrar
// answering a probe. ok is false when ctx ended; failing, when a kick
// reported a loss.
func (r *Registration) pause(ctx context.Context, wait time.Duration, failed bool, dest, leaving string) (ok, failing bool, _ string) {
	var answered <-chan struct{}
	if failed && r.ua.cfg.Probe > 0 && wait > r.ua.cfg.Probe {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		answered = r.ua.probe(pctx, r.ua.cfg.Probe)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false, leaving
	case <-t.C:
	case <-answered: // the registrar is back: register now
	case k := <-r.kick:
		failing = r.Status().State == Registered && r.kicked(k, dest)
	case <-r.move: // failing back: the next REGISTER goes to the primary
		leaving = dest
	}
	return true, failing, leaving
}

// registered records a successful REGISTER on dest; failing back from
// leaving (if set), the binding there is removed.
func (r *Registration) registered(ctx context.Context, dest, leaving string, granted int) {
	r.ua.fo.succeeded()
	if leaving != "" && leaving != dest {
		r.unbind(ctx, leaving)
	}
	r.set(RegStatus{State: Registered, Code: 200, Reason: "OK", Expires: granted})
}

// target is where the next REGISTER goes, resolved again first when the
// DNS answer has expired or every target failed.
func (r *Registration) target(ctx context.Context) (string, error) {
	fo := r.ua.fo
	if fo.stale() {
		if err := fo.refresh(ctx); err != nil {
			if !fo.resolved() {
				return fo.current().addr, err
			}
			// The DNS is down: the addresses it gave last still serve.
			r.ua.log.Warn("cannot resolve the registrar again; using the addresses resolved before", "error", err)
		}
	}
	return fo.current().addr, nil
}

// failed reports a failed attempt on dest and returns the wait before the
// next one: none when another target is left to try (no answer from this
// one), else the back-off (backedOff).
func (r *Registration) failed(dest string, res *sip.Response, err error, backoff time.Duration) (wait time.Duration, backedOff bool) {
	st := RegStatus{State: RegFailed, Reason: err.Error(), CertRefused: errors.Is(err, ErrCertificate)}
	next, moved := target{}, false
	if res == nil { // no answer: the server's problem, not the account's
		next, moved = r.ua.fo.failed(dest)
	}
	if moved {
		r.ua.log.Warn("the registrar did not answer: failing over", "from", dest, "to", next.addr, "error", err)
		st.Reason += "; trying " + next.addr
	} else {
		wait = jitter(backoff)
		st.Retry = wait
	}
	if res != nil {
		st.Code, st.Reason = int(res.StatusCode), res.Reason
	}
	r.set(st)
	return wait, !moved
}

// unbind removes our binding on a target the phone failed back from
// (REGISTER, Expires: 0): it still answers, and calls should not come
// from two places. Best effort: its binding lapses at expiry anyway.
func (r *Registration) unbind(ctx context.Context, target string) {
	uctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, _, err := r.send(uctx, target, 0); err != nil {
		r.ua.log.Info("could not remove the binding on the registrar failed back from; it lapses at its expiry", "registrar", target, "error", err)
	}
}

// outcome is one attempt's (abortable).
type outcome struct {
	granted   int
	res       *sip.Response
	err       error
	probed    bool // a probe was answered while the REGISTER was not
	abandoned bool // Retry cancelled it
}

// abortable is attempt, which Retry may abandon.
func (r *Registration) abortable(ctx context.Context, dest string, probe bool) outcome {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.abort.Store(&cancel)
	var o outcome
	o.granted, o.res, o.err, o.probed = r.attempt(actx, dest, probe)
	r.abort.Store(nil)
	o.abandoned = o.err != nil && actx.Err() != nil
	return o
}

// aborted takes the kick of the Retry that cancelled an attempt: a loss
// when the phone was registered (the refresh was cut short), then the loop
// registers again at once.
func (r *Registration) aborted(dest string) {
	select {
	case k := <-r.kick:
		if r.Status().State == Registered {
			r.kicked(k, dest)
		}
	default:
	}
}

// kicked reports a loss found outside the loop (a keepalive); a lost
// target is left for the next one.
// A keepalive that failed on another target than dest (it was sent
// before a move) is stale and ignored: false.
func (r *Registration) kicked(k kick, dest string) bool {
	why := k.why
	if k.lost && k.target != "" && k.target != dest {
		r.ua.log.Debug("a keepalive failure on a registrar no longer in use is ignored", "failed", k.target, "in_use", dest)
		return false
	}
	if k.lost {
		if next, moved := r.ua.fo.failed(dest); moved {
			r.ua.log.Warn("the registrar stopped answering: failing over", "from", dest, "to", next.addr)
			why += "; trying " + next.addr
		}
	}
	r.set(RegStatus{State: RegFailed, Reason: why, Moved: k.moved})
	return true
}

// attempt sends one REGISTER. With probe, OPTIONS pings run beside it and
// an answer to one cancels the REGISTER (probed is then true).
func (r *Registration) attempt(ctx context.Context, dest string, probe bool) (granted int, res *sip.Response, err error, probed bool) { //nolint:revive // error-return: probed qualifies err
	if !probe {
		granted, res, err = r.send(ctx, dest, r.ua.cfg.Expires)
		return granted, res, err, false
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answered := r.ua.probe(sctx, r.ua.cfg.Probe)
	var wasProbed atomic.Bool
	go func() {
		select {
		case <-answered:
			wasProbed.Store(true)
			cancel()
		case <-sctx.Done():
		}
	}()
	granted, res, err = r.send(sctx, dest, r.ua.cfg.Expires)
	cancel()
	return granted, res, err, err != nil && wasProbed.Load() && ctx.Err() == nil
}

// probe pings the registrar every `every` until one ping is answered
// (the returned channel closes) or ctx ends. Any answer counts, even an
// error status (Ping returns nil for every response): the registrar is up
// and the REGISTER will say the rest.
func (u *UA) probe(ctx context.Context, every time.Duration) <-chan struct{} {
	answered := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, cancel := context.WithTimeout(ctx, every)
			err := u.Ping(pctx)
			cancel()
			if err == nil {
				close(answered)
				return
			}
		}
	}()
	return answered
}

// Kick tells the registration that the registrar stopped answering (a
// keepalive went unanswered): it reports the loss and registers again now.
// With failover targets, the next one is tried.
func (r *Registration) Kick(reason string) {
	k := kick{why: reason, lost: true}
	if p := r.ua.pingFailed.Load(); p != nil {
		k.target = *p
	}
	r.kickWith(k)
}

// Retry registers again now, without waiting out the back-off, on the
// same target (the credentials or the phone's address changed): an attempt
// in flight is abandoned.
func (r *Registration) Retry(reason string) { r.retry(kick{why: reason}) }

// Moved registers the phone's new address now (SetHost came first): the
// binding at the old one is lost — reported with reason, as Moved — and an
// attempt in flight from the old address is abandoned.
func (r *Registration) Moved(reason string) { r.retry(kick{why: reason, moved: true}) }

func (r *Registration) retry(k kick) {
	r.kickWith(k)
	if cancel := r.abort.Load(); cancel != nil {
		(*cancel)()
	}
}

func (r *Registration) kickWith(k kick) {
	select {
	case r.kick <- k:
	default: // one is pending already
	}
}

// Stop ends refreshing and removes the binding (REGISTER with Expires: 0).
func (r *Registration) Stop(ctx context.Context) error {
	r.cancel()
	<-r.done
	if r.Status().State != Registered {
		r.set(RegStatus{State: Unregistered})
		return nil
	}
	_, _, err := r.send(ctx, r.ua.proxy(), 0)
	r.set(RegStatus{State: Unregistered})
	if err != nil {
		return fmt.Errorf("un-REGISTER: %w", err)
	}
	return nil
}

// send does one REGISTER transaction, answering a digest challenge, and
// returns the expiry the registrar granted for our contact.
func (r *Registration) send(ctx context.Context, dest string, expires int) (int, *sip.Response, error) {
	u := r.ua
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: u.cfg.Domain})
	req.SetDestination(dest)
	req.SetTransport(u.transport())
	aor := u.AOR()
	from := u.fromHeader()
	to := &sip.ToHeader{DisplayName: u.cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	r.cseq++
	contact := u.contactHeader()
	callID := r.callID
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(contact)
	gone, stale := u.staleContact() // the binding of an address the phone left goes (address.go)
	if gone != nil {
		req.AppendHeader(gone)
	}
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))

	timeout := 32 * time.Second // Timer F
	if u.fo.multi() {
		// Somewhere else to go: do not wait out the whole transaction.
		timeout = cmp.Or(u.cfg.FailoverTimeout, DefaultFailoverTimeout)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := u.cli().Do(tctx, req)
	if err != nil {
		return 0, nil, noAnswer(err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = u.cli().DoDigestAuth(tctx, req, res, sipgo.DigestAuth{Username: u.cfg.AuthUser, Password: u.password()})
		if err != nil {
			return 0, nil, noAnswer(err)
		}
		r.cseq = req.CSeq().SeqNo
	}
	if !res.IsSuccess() {
		return 0, res, statusError(res)
	}
	u.learnPublic(res)
	if gone != nil {
		u.log.Info("the binding of the address the phone left is removed", "contact", gone.Address.String())
	}
	u.clearStale(stale)
	return grantedExpiry(res, contact, expires), res, nil
}

// learnPublic reads where the registrar saw our REGISTER come from: the
// received and rport it put in our Via (RFC 3581). Behind NAT that is the
// public address, which differs from the Contact's; it is logged and kept
// (PublicAddr). The Contact is not rewritten here: the registrar fixes a
// NATed contact itself (Kamailio: fix_nated_register), and the address
// the phone reaches others at is the supervision's to change.
func (u *UA) learnPublic(res *sip.Response) {
	via := res.Via()
	if via == nil || via.Params == nil {
		return
	}
	host, _ := via.Params.Get("received")
	port, _ := via.Params.Get("rport")
	if host == "" {
		host = via.Host
	}
	if port == "" {
		port = strconv.Itoa(via.Port)
	}
	pub := net.JoinHostPort(host, port)
	natted := host != u.Host() || u.cfg.Transport == "udp" && port != strconv.Itoa(u.port) // TCP leaves from an ephemeral port
	if old := u.public.Swap(&pub); (old == nil || *old != pub) && natted {
		u.log.Info("the registrar sees the phone at another address (NAT)", "public", pub, "local", net.JoinHostPort(u.Host(), strconv.Itoa(u.port)))
	}
}

// PublicAddr is our address as the registrar last saw it (the received and
// rport of its answer to REGISTER, RFC 3581), "" before the first answer.
func (u *UA) PublicAddr() string {
	if p := u.public.Load(); p != nil {
		return *p
	}
	return ""
}

// noAnswer words a transaction failure for a person.
func noAnswer(err error) error {
	if cerr := certificateError(err); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
		return fmt.Errorf("%w: the registrar did not answer (check account.registrar and the network)", ErrTimeout)
	}
	return fmt.Errorf("the registrar could not be reached: %w", err)
}

// grantedExpiry finds our contact's expires in a 200 OK, else its Expires
// header, else what we asked for.
func grantedExpiry(res *sip.Response, ours *sip.ContactHeader, asked int) int {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Host != ours.Address.Host || c.Address.Port != ours.Address.Port || c.Address.User != ours.Address.User {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil {
			return n
		}
	}
	return asked
}

// jitter spreads retries ±20 %, so phones that lost the same registrar do
// not all come back in the same instant.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + time.Duration(rand.Int64N(int64(d*2/5)+1))
}

// Ping sends OPTIONS to the registrar (outside any dialog): any answer
// means it is there. The keepalive of connection supervision.
func (u *UA) Ping(ctx context.Context) error {
	dest := u.proxy()
	err := u.pingTo(ctx, dest)
	if err != nil {
		u.pingFailed.Store(&dest) // for Kick: which target stopped answering
	}
	return err
}

// pingTo sends OPTIONS to one target (failover.go probes the primary).
func (u *UA) pingTo(ctx context.Context, dest string) error {
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: u.cfg.Domain})
	req.SetDestination(dest)
	req.SetTransport(u.transport())
	req.AppendHeader(u.fromHeader())
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: u.cfg.Domain}, Params: sip.NewParams()})
	req.AppendHeader(u.contactHeader())
	_, err := u.cli().Do(ctx, req)
	if err != nil {
		return noAnswer(err)
	}
	return nil
}
