package sipua

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"deskphone/tools/labkit"

	"github.com/miekg/dns"
)

// labZone is a domain with NAPTR → SRV → A for both transports, a domain
// with SRV only, and one with an A record only.
var labZone = []string{
	`lab.test. 300 IN NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.lab.test.`,
	`lab.test. 300 IN NAPTR 20 50 "s" "SIP+D2U" "" _sip._udp.lab.test.`,
	`lab.test. 300 IN NAPTR 30 50 "s" "SIPS+D2T" "" _sips._tcp.lab.test.`,
	`_sip._udp.lab.test. 60 IN SRV 20 0 5080 b.lab.test.`,
	`_sip._udp.lab.test. 60 IN SRV 10 0 5070 a.lab.test.`,
	`_sip._tcp.lab.test. 60 IN SRV 10 0 5090 c.lab.test.`,
	`a.lab.test. 30 IN A 127.0.0.2`,
	`b.lab.test. 300 IN A 127.0.0.3`,
	`c.lab.test. 300 IN A 127.0.0.4`,
	// SRV without NAPTR; the SRV name is not the NAPTR's.
	`_sip._udp.srv.test. 300 IN SRV 10 0 5071 a.lab.test.`,
	`_sip._udp.srv.test. 300 IN SRV 20 0 5072 b.lab.test.`,
	`srv.test. 300 IN A 127.0.0.9`,
	// A only.
	`plain.test. 120 IN A 127.0.0.5`,
	`plain.test. 120 IN A 127.0.0.6`,
	// NAPTR for another transport only, then SRV.
	`tcponly.test. 300 IN NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.lab.test.`,
	`_sip._udp.tcponly.test. 300 IN SRV 10 0 5073 c.lab.test.`,
	// An SRV whose target has no address.
	`_sip._udp.broken.test. 300 IN SRV 10 0 5060 nowhere.test.`,
}

func fakeDNS(t *testing.T, records ...string) *labkit.DNS {
	t.Helper()
	d, err := labkit.StartDNS(records...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestResolveOrder(t *testing.T) {
	d := fakeDNS(t, labZone...)
	for _, c := range []struct {
		entry, transport string
		want             []string
		ttl              time.Duration
	}{
		// NAPTR picks the service of our transport; SRV priority orders.
		{"lab.test", "udp", []string{"127.0.0.2:5070", "127.0.0.3:5080"}, 30 * time.Second},
		{"lab.test", "tcp", []string{"127.0.0.4:5090"}, 60 * time.Second},
		// No NAPTR: the SRV of the transport directly.
		{"srv.test", "udp", []string{"127.0.0.2:5071", "127.0.0.3:5072"}, 30 * time.Second},
		// No NAPTR and no SRV: A at 5060.
		{"plain.test", "udp", []string{"127.0.0.5:5060", "127.0.0.6:5060"}, 120 * time.Second},
		// NAPTR only for TCP: UDP falls back to its SRV.
		{"tcponly.test", "udp", []string{"127.0.0.4:5073"}, 300 * time.Second},
		// A port: A records only, whatever SRV says.
		{"srv.test:5099", "udp", []string{"127.0.0.9:5099"}, 300 * time.Second},
		// An address: no DNS at all, no expiry.
		{"10.1.2.3", "udp", []string{"10.1.2.3:5060"}, 0},
		{"10.1.2.3:5077", "tcp", []string{"10.1.2.3:5077"}, 0},
	} {
		r := newResolver(d.Addr(), c.transport)
		got, ttl, err := r.resolveEntry(context.Background(), c.entry)
		if err != nil {
			t.Errorf("%s over %s: %v", c.entry, c.transport, err)
			continue
		}
		if !slices.Equal(got, c.want) || ttl != c.ttl {
			t.Errorf("%s over %s = %v (ttl %v), want %v (ttl %v)", c.entry, c.transport, got, ttl, c.want, c.ttl)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	d := fakeDNS(t, labZone...)
	r := newResolver(d.Addr(), "udp")
	for entry, want := range map[string]string{
		"none.test":      "no SRV records for _sip._udp.none.test and no A record for none.test: check the DNS or give host:port",
		"none.test:5060": "none.test:5060: no A record for none.test",
		"broken.test":    "SRV target nowhere.test has no A record",
		"pbx:99999":      `"99999" is not a port`,
	} {
		_, _, err := r.resolveEntry(context.Background(), entry)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %q", entry, err, want)
		}
	}
	// A DNS server that does not answer is named, with the key to fix.
	dead := newResolver("127.0.0.1:9", "udp") // discard: nothing answers
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err := dead.resolveEntry(ctx, "lab.test")
	if err == nil || !strings.Contains(err.Error(), "DNS server 127.0.0.1:9") || !strings.Contains(err.Error(), "account.dns") {
		t.Errorf("unanswered DNS: error %v, want it to name the server and account.dns", err)
	}
}

// orderSRV: priority first; within one, RFC 2782's weighted pick, zero
// weights placed first so they keep a small chance.
func TestOrderSRVWeighted(t *testing.T) {
	srv := func(prio, weight uint16, target string) *dns.SRV {
		return &dns.SRV{Priority: prio, Weight: weight, Target: target}
	}
	recs := []*dns.SRV{srv(20, 0, "late."), srv(10, 90, "heavy."), srv(10, 10, "light."), srv(10, 0, "zero.")}
	names := func(rs []*dns.SRV) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Target)
		}
		return out
	}
	for _, c := range []struct {
		draws []int // what the random source returns, in turn
		want  []string
	}{
		// Group [zero 0, heavy 90, light 10] (zero weights first), sum
		// 100: a draw of 0 is the zero-weight record's, 1-90 heavy's,
		// 91-100 light's; then the same over what is left.
		{[]int{0, 0, 0, 0}, []string{"zero.", "heavy.", "light.", "late."}},
		{[]int{5, 0, 0, 0}, []string{"heavy.", "zero.", "light.", "late."}},
		{[]int{90, 10, 0, 0}, []string{"heavy.", "light.", "zero.", "late."}},
		{[]int{95, 0, 0, 0}, []string{"light.", "zero.", "heavy.", "late."}},
		{[]int{100, 10, 0, 0}, []string{"light.", "heavy.", "zero.", "late."}},
	} {
		i := 0
		randN := func(n int) int {
			d := c.draws[i]
			i++
			if d >= n {
				t.Fatalf("draw %d is outside [0,%d)", d, n)
			}
			return d
		}
		if got := names(orderSRV(recs, randN)); !slices.Equal(got, c.want) {
			t.Errorf("draws %v: order %v, want %v", c.draws, got, c.want)
		}
	}
}

// BenchmarkResolveNAPTR measures one full RFC 3263 resolution (NAPTR →
// SRV → two A lookups) against the lab's DNS server on loopback.
func BenchmarkResolveNAPTR(b *testing.B) {
	d, err := labkit.StartDNS(labZone...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	r := newResolver(d.Addr(), "udp")
	ctx := context.Background()
	for b.Loop() {
		if got, _, err := r.resolveEntry(ctx, "lab.test"); err != nil || len(got) != 2 {
			b.Fatalf("resolveEntry = %v, %v", got, err)
		}
	}
}
