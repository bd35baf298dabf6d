package sipua

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The SIP port is reachable by anyone on the network, and SIP scanners
// probe for phones that ring or relay calls. Like commercial phones'
// "accept SIP from trusted servers only", the guard lets through:
//
//   - everything from a trusted peer: every registrar/outbound proxy
//     target, failover ones included (by IP address, any port) and
//     Config.TrustedPeers;
//   - in-dialog requests from the dialog's own far end (dialog.go);
//   - with Config.AcceptDirect, anyone (labs).
//
// Out-of-dialog requests from anyone else are refused: an INVITE with 403
// (so a misconfigured peer learns why), anything else with silence (a
// scanner learns nothing; nothing is retransmitted by us). Datagrams from
// untrusted sources are also rate-limited per IP before sipgo parses them,
// so a flood costs a map lookup per datagram, not a transaction.

// Rate limit for untrusted sources, per source IP: beyond it datagrams are
// dropped unparsed.
const (
	untrustedRate  = 20 // datagrams per second
	untrustedBurst = 40
	// maxBuckets caps the per-source table, so spoofed sources cannot
	// grow it without bound; sources beyond it share one bucket.
	maxBuckets = 4096
	// refusalLogEvery is how often a refused source is logged again.
	refusalLogEvery = time.Minute
)

// trustedPeer is one entry of Config.TrustedPeers: a prefix (a single
// address is a /32 or /128), and a port, 0 meaning any.
type trustedPeer struct {
	prefix netip.Prefix
	port   uint16
}

// parseTrustedPeer reads "host", "host:port" or a CIDR ("10.0.0.0/24"). A
// host name is resolved now; lookup, if nil, is net.DefaultResolver's.
func parseTrustedPeer(ctx context.Context, s string, lookup func(context.Context, string) ([]netip.Addr, error)) ([]trustedPeer, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return []trustedPeer{{prefix: p.Masked()}}, nil
	}
	host, port := s, uint16(0)
	if h, ps, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("trusted peer %q: %q is not a port (1-65535)", s, ps)
		}
		host, port = h, uint16(n)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return nil, fmt.Errorf("trusted peer %q has no host: give host, host:port or a CIDR such as 10.0.0.0/24", s)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return []trustedPeer{{prefix: netip.PrefixFrom(a, a.BitLen()), port: port}}, nil
	}
	if lookup == nil {
		lookup = func(ctx context.Context, h string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		}
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("trusted peer %q: cannot resolve %q: %w", s, host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("trusted peer %q: %q has no address", s, host)
	}
	out := make([]trustedPeer, 0, len(addrs))
	for _, a := range addrs {
		a = a.Unmap()
		out = append(out, trustedPeer{prefix: netip.PrefixFrom(a, a.BitLen()), port: port})
	}
	return out, nil
}

// guard holds the trust list, the per-source rate limiter and the
// once-a-minute refusal log.
type guard struct {
	log          *slog.Logger
	acceptDirect bool
	registrar    string // host:port, resolved lazily when it is a name
	// targets, when set, says whether an address is one of the registrar
	// targets (failover.go, RFC 3263-resolved); the UA sets it and
	// leaves registrar empty.
	targets     func(netip.Addr) bool
	names       []string
	now         func() time.Time
	rate, burst float64

	mu       sync.Mutex
	peers    []trustedPeer // registrar's addresses (any port) and the configured peers
	resolved time.Time     // when the names were last resolved
	buckets  map[netip.Addr]*bucket
	shared   bucket // for sources beyond maxBuckets
	logged   map[netip.Addr]time.Time
	pruned   time.Time // last pruneLocked

	resolving atomic.Bool
	dropped   atomic.Uint64 // datagrams dropped by the rate limit
	refused   atomic.Uint64 // requests refused (403 or silence)
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newGuard builds the guard from the account's registrar and trusted
// peers. A peer that does not parse is an error; a host name that does not
// resolve yet is retried later, as is the registrar's name.
func newGuard(log *slog.Logger, registrar string, trusted []string, acceptDirect bool) (*guard, error) {
	g := &guard{log: log, acceptDirect: acceptDirect, registrar: registrar, now: time.Now,
		rate: untrustedRate, burst: untrustedBurst,
		buckets: map[netip.Addr]*bucket{}, logged: map[netip.Addr]time.Time{}}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, fmt.Errorf("an entry of the trusted peers is empty: give host, host:port or a CIDR")
		}
		if _, err := netip.ParsePrefix(t); err == nil {
			continue
		}
		if h, _, err := net.SplitHostPort(t); err == nil && h == "" {
			return nil, fmt.Errorf("trusted peer %q has no host: give host, host:port or a CIDR such as 10.0.0.0/24", t)
		}
	}
	g.names = trusted
	g.resolve()
	return g, nil
}

// resolve (re)builds the trust list; names that do not resolve are left
// out until the next try. Called with g.mu not held.
func (g *guard) resolve() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var peers []trustedPeer
	if h, _, err := net.SplitHostPort(g.registrar); err == nil && h != "" {
		if ps, err := parseTrustedPeer(ctx, h, nil); err == nil { // the registrar: any port
			peers = append(peers, ps...)
		} else {
			g.log.Warn("cannot resolve the registrar's address to trust it; retrying later", "registrar", g.registrar, "error", err)
		}
	}
	for _, n := range g.names {
		ps, err := parseTrustedPeer(ctx, n, nil)
		if err != nil {
			g.log.Warn("a trusted peer is left out until it resolves", "error", err)
			continue
		}
		peers = append(peers, ps...)
	}
	g.mu.Lock()
	g.peers, g.resolved = peers, g.now()
	g.mu.Unlock()
}

// trusted reports whether ap is a trusted peer.
func (g *guard) trusted(ap netip.AddrPort) bool {
	if g.acceptDirect {
		return true
	}
	a := ap.Addr().Unmap()
	if g.targets != nil && g.targets(a) {
		return true
	}
	g.mu.Lock()
	for _, p := range g.peers {
		if p.prefix.Contains(a) && (p.port == 0 || p.port == ap.Port()) {
			g.mu.Unlock()
			return true
		}
	}
	stale := g.now().Sub(g.resolved) >= refusalLogEvery
	g.mu.Unlock()
	// Names (the registrar's among them) may resolve to other addresses
	// now: look again, once a minute at most, off the read path.
	if stale && g.resolving.CompareAndSwap(false, true) {
		g.mu.Lock()
		g.resolved = g.now()
		g.mu.Unlock()
		go func() {
			defer g.resolving.Store(false)
			g.resolve()
		}()
	}
	return false
}

// trustedSource is trusted for a request's source ("ip:port").
func (g *guard) trustedSource(src string) bool {
	ap, ok := parseSource(src)
	return ok && g.trusted(ap)
}

func parseSource(src string) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// allow takes a token for a datagram from an untrusted source; false
// means drop it.
func (g *guard) allow(a netip.Addr) bool {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[a]
	if b == nil {
		if len(g.buckets) >= maxBuckets {
			g.pruneLocked(now)
		}
		if len(g.buckets) >= maxBuckets {
			b = &g.shared
		} else {
			b = &bucket{tokens: g.burst, last: now}
			g.buckets[a] = b
		}
	}
	b.tokens = min(g.burst, b.tokens+now.Sub(b.last).Seconds()*g.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pruneLocked forgets sources whose bucket has refilled: they are idle.
// Once a second at most, so a full table does not cost a scan per datagram.
func (g *guard) pruneLocked(now time.Time) {
	if now.Sub(g.pruned) < time.Second {
		return
	}
	g.pruned = now
	full := time.Duration(g.burst / g.rate * float64(time.Second))
	for a, b := range g.buckets {
		if now.Sub(b.last) >= full {
			delete(g.buckets, a)
		}
	}
	for a, t := range g.logged {
		if now.Sub(t) >= refusalLogEvery {
			delete(g.logged, a)
		}
	}
}

// readFilter is sipgo's transport read filter: datagrams (or TCP reads)
// from untrusted sources beyond their rate are dropped before parsing.
// For UDP it must never return an error: that would stop the listener.
func (g *guard) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	ap, ok := addrPortOf(p.RemoteAddr)
	udp := p.Transport == "udp" || p.Transport == "UDP"
	if !ok || g.trusted(ap) {
		return data, nil
	}
	// sipgo matches a CANCEL to the INVITE it cancels by branch alone, and
	// answers it before any handler sees it. An INVITE the phone took came
	// from a trusted source, and a CANCEL travels the INVITE's hop (RFC
	// 3261 §9.1): one from elsewhere is forged, and dropped here.
	if udp && bytes.HasPrefix(data, []byte("CANCEL ")) {
		g.refused.Add(1)
		return nil, nil
	}
	if g.allow(ap.Addr()) {
		return data, nil
	}
	g.dropped.Add(1)
	if udp {
		return nil, nil
	}
	return nil, fmt.Errorf("sip: %s exceeds %d requests/s: closing its connection", ap.Addr(), untrustedRate)
}

func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	case nil:
		return netip.AddrPort{}, false
	}
	return parseSource(a.String())
}

// refuse counts a refused request and logs it at most once per source per
// refusalLogEvery.
func (g *guard) refuse(req *sip.Request, why string) {
	g.refused.Add(1)
	ap, _ := parseSource(req.Source())
	now := g.now()
	g.mu.Lock()
	last, seen := g.logged[ap.Addr()]
	log := !seen || now.Sub(last) >= refusalLogEvery
	if log {
		if len(g.logged) >= maxBuckets {
			g.pruneLocked(now)
		}
		if len(g.logged) < maxBuckets {
			g.logged[ap.Addr()] = now
		}
	}
	g.mu.Unlock()
	if log {
		g.log.Warn("refusing SIP from an untrusted source (logged once a minute per source; add it to account.trusted_peers if it is yours)",
			"from", req.Source(), "method", req.Method.String(), "why", why)
	}
}

// GuardStats counts what the guard kept out.
type GuardStats struct {
	Dropped uint64 // datagrams from untrusted sources dropped by the rate limit
	Refused uint64 // requests refused: 403 to an INVITE, silence otherwise
}

// GuardStats returns what the SIP port refused so far.
func (u *UA) GuardStats() GuardStats {
	return GuardStats{Dropped: u.guard.dropped.Load(), Refused: u.guard.refused.Load()}
}

// admitOutOfDialog reports whether a request outside any dialog may be
// served; if not, it has been refused (INVITE: 403; others: silence).
func (u *UA) admitOutOfDialog(req *sip.Request, tx sip.ServerTransaction) bool {
	if u.guard.trustedSource(req.Source()) {
		return true
	}
	u.guard.refuse(req, "not from the registrar or a trusted peer")
	if req.IsInvite() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
	}
	return false
}

// fromPeer reports whether src ("ip:port") is where this dialog's requests
// may come from: the address that created it (the INVITE's source, or our
// INVITE's 2xx's), the far end's Contact, or a hop of its route set. IP
// addresses only: a far end's requests may leave from another port than
// its Contact's (TCP), and a host name in a Contact is not resolved here.
func (d *dialog) fromPeer(src string) bool {
	ap, ok := parseSource(src)
	if !ok {
		return false
	}
	a := ap.Addr()
	d.mu.Lock()
	target, routes := d.target, d.routes
	d.mu.Unlock()
	if d.origin.IsValid() && d.origin.Addr() == a {
		return true
	}
	if sameHost(target.Host, a) {
		return true
	}
	for _, r := range routes {
		var uri sip.Uri
		if _, err := sip.ParseAddressValue(r, &uri, nil); err == nil && sameHost(uri.Host, a) {
			return true
		}
	}
	return false
}

func sameHost(host string, a netip.Addr) bool {
	h, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && h.Unmap() == a
}
