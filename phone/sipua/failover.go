package sipua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Failover: the account's registrar (Config.Registrar) and its failover
// entries (Config.Failover), in priority order, each resolved by RFC 3263
// (resolve.go), make one ordered target list. Requests outside dialogs
// (REGISTER, keepalive OPTIONS, new calls, SUBSCRIBE, PUBLISH) go to the
// current target.
//
//   - A REGISTER that gets no answer (or a transport error; a 401/403 is
//     the account's problem, not the server's) or an unanswered keepalive
//     moves to the next target at once; when every target failed in a
//     row, the back-off applies and the list starts again at the primary,
//     re-resolved.
//   - On a target other than the primary, the primary is probed (OPTIONS
//     every Config.FailbackProbe); after Config.FailbackAfter answers in a
//     row the phone registers there again. One miss restarts the count,
//     so a primary that comes and goes does not make the phone flap.
//   - The list is re-resolved when its DNS TTL runs out and after a full
//     round of failures.
//
// The Contact stays the same on every target. Failing over, the binding on
// the target left behind is not removed: it stopped answering. Failing
// back, it is (REGISTER with Expires: 0 once the primary has accepted us),
// so calls do not come from two places; if that fails it lapses at its
// expiry, and a call through it still reaches the phone because every
// target is trusted (guard.go).

// Failover defaults.
const (
	DefaultFailoverTimeout = 5 * time.Second
	DefaultFailbackAfter   = 3
)

// failover owns the ordered target list and which one is in use.
type failover struct {
	entries []string // Registrar, then Failover
	res     *resolver
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	targets []target
	expires time.Time // re-resolve after (zero: never)
	cur     int
	tried   int // targets failed in a row since the last success

	trusted atomic.Pointer[[]netip.Addr] // every target's address, for the guard
}

type target struct {
	addr  string // ip:port
	entry string // the configured entry it came from
}

func newFailover(log *slog.Logger, entries []string, res *resolver) *failover {
	f := &failover{entries: entries, res: res, log: log, now: time.Now}
	f.trusted.Store(&[]netip.Addr{})
	return f
}

// startFailover builds the account's target list and resolves it once. A
// failure is not fatal: the DNS may come up later; registration resolves
// again and reports it as its failure.
func startFailover(cfg Config) *failover {
	f := newFailover(cfg.Logger, append([]string{cfg.Registrar}, cfg.Failover...), newResolver(cfg.DNS, cfg.Transport))
	ctx, cancel := context.WithTimeout(context.Background(), 2*dnsTimeout)
	defer cancel()
	if err := f.refresh(ctx); err != nil {
		cfg.Logger.Warn("cannot resolve the registrar yet", "error", err)
	}
	return f
}

// refresh resolves every entry again. Entries that fail are left out;
// only when all fail is it an error (and the old list is kept). The target
// in use stays in use if it is still listed, else the primary is.
func (f *failover) refresh(ctx context.Context) error {
	var list []target
	var errs []error
	var ttl time.Duration
	for _, e := range f.entries {
		addrs, t, err := f.res.resolveEntry(ctx, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ttl = minTTL(ttl, t)
		for _, a := range addrs {
			list = append(list, target{addr: a, entry: e})
		}
	}
	if len(list) == 0 {
		return fmt.Errorf("no registrar address: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		f.log.Warn("a registrar entry is left out until it resolves", "error", err)
	}
	ips := make([]netip.Addr, 0, len(list))
	for _, t := range list {
		if ap, err := netip.ParseAddrPort(t.addr); err == nil {
			ips = append(ips, ap.Addr())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := 0
	if f.cur < len(f.targets) {
		for i, t := range list {
			if t.addr == f.targets[f.cur].addr {
				cur = i
				break
			}
		}
	}
	if len(list) != len(f.targets) {
		f.tried = 0
	}
	f.targets, f.cur = list, cur
	f.expires = time.Time{}
	if ttl > 0 {
		f.expires = f.now().Add(ttl)
	}
	f.trusted.Store(&ips)
	return nil
}

// stale reports whether the list must be resolved (again) before use.
func (f *failover) stale() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.targets) == 0 || !f.expires.IsZero() && !f.now().Before(f.expires)
}

// resolved reports whether a resolution has given targets.
func (f *failover) resolved() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.targets) > 0
}

// current is the target in use; before the first resolution, the
// registrar entry as configured (with SIP's port if it has none).
func (f *failover) current() target {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.targets) == 0 {
		return target{addr: withDefaultPort(f.entries[0]), entry: f.entries[0]}
	}
	return f.targets[f.cur]
}

func withDefaultPort(entry string) string {
	if _, _, err := net.SplitHostPort(entry); err == nil {
		return entry
	}
	return net.JoinHostPort(entry, "5060")
}

// onPrimary reports whether the target in use is the first one.
func (f *failover) onPrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur == 0
}

// primary is the first target.
func (f *failover) primary() target {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.targets) == 0 {
		return target{addr: withDefaultPort(f.entries[0]), entry: f.entries[0]}
	}
	return f.targets[0]
}

// multi reports whether there is anywhere to fail over to.
func (f *failover) multi() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.targets) > 1 || len(f.entries) > 1
}

// failed records that addr did not answer. If addr is the target in use
// and another target has not failed yet in this round, that one is in use
// now (moved: true). Otherwise the round is over: the primary is in use
// again, the list is marked for re-resolution and the caller backs off.
func (f *failover) failed(addr string) (next target, moved bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.targets) == 0 || f.targets[f.cur].addr != addr {
		if len(f.targets) == 0 {
			return target{}, false
		}
		return f.targets[f.cur], f.targets[f.cur].addr != addr // someone moved already
	}
	f.tried++
	if f.tried < len(f.targets) {
		f.cur = (f.cur + 1) % len(f.targets)
		return f.targets[f.cur], true
	}
	f.tried, f.cur = 0, 0
	f.expires = f.now() // resolve again before the next round
	return f.targets[0], false
}

// succeeded records that the target in use answered.
func (f *failover) succeeded() {
	f.mu.Lock()
	f.tried = 0
	f.mu.Unlock()
}

// failback makes the primary the target in use.
func (f *failover) failback() {
	f.mu.Lock()
	f.cur, f.tried = 0, 0
	f.mu.Unlock()
}

// trustedAddr reports whether a is a target's address (guard.go).
func (f *failover) trustedAddr(a netip.Addr) bool {
	for _, t := range *f.trusted.Load() {
		if t == a {
			return true
		}
	}
	return false
}

// streak counts answers in a row: the no-flap rule of failing back.
type streak struct {
	need, n int
}

// observe takes one probe result and reports whether enough answers came
// in a row (then it starts counting again).
func (s *streak) observe(answered bool) bool {
	if !answered {
		s.n = 0
		return false
	}
	s.n++
	if s.n >= s.need {
		s.n = 0
		return true
	}
	return false
}

// failbackLoop probes the primary while registered elsewhere and, after
// enough answers in a row, moves the registration back to it.
func (r *Registration) failbackLoop(ctx context.Context) {
	u := r.ua
	every := u.cfg.FailbackProbe
	if every <= 0 || !u.fo.multi() {
		return
	}
	need := u.cfg.FailbackAfter
	if need <= 0 {
		need = DefaultFailbackAfter
	}
	s := streak{need: need}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if u.fo.onPrimary() || r.Status().State != Registered {
			s.n = 0
			continue
		}
		p := u.fo.primary()
		pctx, cancel := context.WithTimeout(ctx, min(every, 4*time.Second))
		err := u.pingTo(pctx, p.addr)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if !s.observe(err == nil) {
			continue
		}
		u.log.Info("the primary registrar answers again: registering there", "primary", p.addr, "answers", need)
		u.fo.failback()
		select {
		case r.move <- struct{}{}:
		default:
		}
	}
}
