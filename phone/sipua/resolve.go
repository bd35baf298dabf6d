package sipua

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RFC 3263 §4: where to send requests for a registrar or proxy entry.
//
//   - an IP address: that address, at the given port or 5060;
//   - a host name with a port: its A records (RFC 3263 §4.2);
//   - a host name without a port: NAPTR (SIP+D2U for udp, SIP+D2T for tcp),
//     whose replacement names an SRV; without NAPTR, the SRV
//     _sip._udp.<name> or _sip._tcp.<name> directly; targets in priority
//     order, weighted at random within a priority (RFC 2782); without SRV,
//     the name's A records at 5060.
//
// The phone's SIP socket is IPv4 (ua.go), so AAAA records are not asked
// for: an IPv6 target could not be reached from it.

// defaultSIPPort is SIP's port over UDP and TCP (RFC 3261 §19.1.2).
const defaultSIPPort = 5060

// dnsTimeout bounds one DNS exchange.
const dnsTimeout = 2 * time.Second

// resolver asks one DNS server (or /etc/resolv.conf's) the RFC 3263
// questions.
type resolver struct {
	server    string // host:port; "" means /etc/resolv.conf's servers
	transport string // "udp" or "tcp": which NAPTR service and SRV name
	conf      string // resolv.conf path (tests)
	rand      func(n int) int
}

func newResolver(server, transport string) *resolver {
	return &resolver{server: server, transport: transport, conf: "/etc/resolv.conf", rand: rand.IntN}
}

// resolveEntry returns the ordered targets ("ip:port") of one entry and
// how long they may be kept (0: for ever, an IP address).
func (r *resolver) resolveEntry(ctx context.Context, entry string) ([]string, time.Duration, error) {
	host, port, hasPort, err := splitEntry(entry)
	if err != nil {
		return nil, 0, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !hasPort {
			port = defaultSIPPort
		}
		return []string{netip.AddrPortFrom(a.Unmap(), port).String()}, 0, nil
	}
	if hasPort {
		ips, ttl, err := r.lookupA(ctx, host)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", entry, err)
		}
		if len(ips) == 0 {
			return nil, 0, fmt.Errorf("%s: no A record for %s: check the DNS or give the registrar's IP address", entry, host)
		}
		return withPort(ips, port), ttl, nil
	}
	srvName, ttl, err := r.naptr(ctx, host)
	if err != nil {
		return nil, 0, err
	}
	if srvName == "" {
		srvName = r.srvPrefix() + dns.Fqdn(host)
	}
	targets, srvTTL, err := r.srv(ctx, srvName)
	if err != nil {
		return nil, 0, err
	}
	if len(targets) > 0 {
		return targets, minTTL(ttl, srvTTL), nil
	}
	ips, aTTL, err := r.lookupA(ctx, host)
	if err != nil {
		return nil, 0, fmt.Errorf("no SRV records for %s, and the A lookup failed: %w", strings.TrimSuffix(srvName, "."), err)
	}
	if len(ips) == 0 {
		return nil, 0, fmt.Errorf("no SRV records for %s and no A record for %s: check the DNS or give host:port", strings.TrimSuffix(srvName, "."), host)
	}
	return withPort(ips, defaultSIPPort), minTTL(ttl, aTTL), nil
}

// splitEntry reads "host" or "host:port" (IPv6 in brackets).
func splitEntry(entry string) (host string, port uint16, hasPort bool, err error) {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return "", 0, false, errors.New("a registrar entry is empty: give host or host:port")
	}
	if h, ps, err := net.SplitHostPort(entry); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return "", 0, false, fmt.Errorf("registrar %q: %q is not a port (1-65535)", entry, ps)
		}
		return h, uint16(n), true, nil
	}
	return strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]"), 0, false, nil
}

func withPort(ips []netip.Addr, port uint16) []string {
	out := make([]string, len(ips))
	for i, a := range ips {
		out[i] = netip.AddrPortFrom(a, port).String()
	}
	return out
}

func minTTL(a, b time.Duration) time.Duration {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

func ttlOf(h dns.RR_Header) time.Duration { return time.Duration(h.Ttl) * time.Second }

func (r *resolver) srvPrefix() string {
	switch r.transport {
	case "tcp":
		return "_sip._tcp."
	case "tls":
		return "_sips._tcp." // RFC 3263 §4.1: SIP over TLS
	}
	return "_sip._udp."
}

// naptr returns the SRV name the best NAPTR record for our transport
// points at, or "" when the domain has none (RFC 3263 §4.1).
func (r *resolver) naptr(ctx context.Context, host string) (string, time.Duration, error) {
	ans, err := r.query(ctx, host, dns.TypeNAPTR)
	if err != nil {
		return "", 0, err
	}
	service := "SIP+D2U"
	switch r.transport {
	case "tcp":
		service = "SIP+D2T"
	case "tls":
		service = "SIPS+D2T"
	}
	var recs []*dns.NAPTR
	for _, rr := range ans {
		if n, ok := rr.(*dns.NAPTR); ok && strings.EqualFold(n.Service, service) && strings.EqualFold(n.Flags, "s") && n.Replacement != "." {
			recs = append(recs, n)
		}
	}
	if len(recs) == 0 {
		return "", 0, nil
	}
	slices.SortStableFunc(recs, func(a, b *dns.NAPTR) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Preference, b.Preference))
	})
	return recs[0].Replacement, ttlOf(recs[0].Hdr), nil
}

// srv returns the targets of an SRV name in RFC 2782 order: priority,
// then a weighted random pick within each priority. No records: nil.
func (r *resolver) srv(ctx context.Context, name string) ([]string, time.Duration, error) {
	ans, err := r.query(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, 0, err
	}
	var recs []*dns.SRV
	var ttl time.Duration
	for _, rr := range ans {
		if s, ok := rr.(*dns.SRV); ok {
			recs = append(recs, s)
			ttl = minTTL(ttl, ttlOf(s.Hdr))
		}
	}
	if len(recs) == 1 && recs[0].Target == "." {
		return nil, 0, fmt.Errorf("%s says SIP is not offered there (SRV target \".\"): check the DNS or give host:port", strings.TrimSuffix(name, "."))
	}
	var out []string
	var lookupErrs []error
	for _, s := range orderSRV(recs, r.rand) {
		if s.Target == "." {
			continue
		}
		ips, aTTL, err := r.lookupA(ctx, s.Target)
		if err != nil {
			lookupErrs = append(lookupErrs, fmt.Errorf("SRV target %s: %w", strings.TrimSuffix(s.Target, "."), err))
			continue
		}
		if len(ips) == 0 {
			lookupErrs = append(lookupErrs, fmt.Errorf("SRV target %s has no A record", strings.TrimSuffix(s.Target, ".")))
			continue
		}
		ttl = minTTL(ttl, aTTL)
		out = append(out, withPort(ips, s.Port)...)
	}
	if len(out) == 0 && len(lookupErrs) > 0 {
		return nil, 0, fmt.Errorf("%s: %w: check the DNS", strings.TrimSuffix(name, "."), errors.Join(lookupErrs...))
	}
	return out, ttl, nil
}

// orderSRV sorts by priority and, within a priority, picks by weight
// (RFC 2782): each record in turn with probability weight/sum of the
// weights left, zero-weight records having a small chance.
func orderSRV(recs []*dns.SRV, randN func(int) int) []*dns.SRV {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b *dns.SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]*dns.SRV, 0, len(recs))
	for i := 0; i < len(recs); {
		j := i
		for j < len(recs) && recs[j].Priority == recs[i].Priority {
			j++
		}
		group := recs[i:j]
		// RFC 2782: zero weights first, so they keep a small chance.
		slices.SortStableFunc(group, func(a, b *dns.SRV) int { return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1)) })
		for len(group) > 0 {
			sum := 0
			for _, s := range group {
				sum += int(s.Weight)
			}
			pick, n := 0, randN(sum+1)
			for k, s := range group {
				n -= int(s.Weight)
				if n <= 0 {
					pick = k
					break
				}
			}
			out = append(out, group[pick])
			group = slices.Delete(group, pick, pick+1)
		}
		i = j
	}
	return out
}

// lookupA returns a name's IPv4 addresses.
func (r *resolver) lookupA(ctx context.Context, host string) ([]netip.Addr, time.Duration, error) {
	ans, err := r.query(ctx, host, dns.TypeA)
	if err != nil {
		return nil, 0, err
	}
	var ips []netip.Addr
	var ttl time.Duration
	for _, rr := range ans {
		if a, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				ips = append(ips, ip)
				ttl = minTTL(ttl, ttlOf(a.Hdr))
			}
		}
	}
	return ips, ttl, nil
}

// query asks the server(s) one question and returns the answer section;
// NXDOMAIN and an empty answer are no records, not an error.
func (r *resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	var errs []error
	for _, s := range servers {
		qctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		res, _, err := (&dns.Client{Net: "udp"}).ExchangeContext(qctx, m, s)
		if err == nil && res.Truncated {
			res, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(qctx, m, s)
		}
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("DNS server %s: %w", s, err))
			continue
		}
		switch res.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return res.Answer, nil
		}
		errs = append(errs, fmt.Errorf("DNS server %s answered %s for %s %s", s, dns.RcodeToString[res.Rcode], dns.TypeToString[qtype], name))
	}
	return nil, fmt.Errorf("cannot resolve %s: %w (check account.dns)", name, errors.Join(errs...))
}

func (r *resolver) servers() ([]string, error) {
	if r.server != "" {
		return []string{r.server}, nil
	}
	cc, err := dns.ClientConfigFromFile(r.conf)
	if err != nil {
		return nil, fmt.Errorf("no DNS server: %s: %w (set account.dns to host:port)", r.conf, err)
	}
	if len(cc.Servers) == 0 {
		return nil, fmt.Errorf("no DNS server in %s: set account.dns to host:port", r.conf)
	}
	out := make([]string, len(cc.Servers))
	for i, s := range cc.Servers {
		out[i] = net.JoinHostPort(s, cc.Port)
	}
	return out, nil
}
