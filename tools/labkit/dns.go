package labkit

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// DNS is a tiny authoritative DNS server on 127.0.0.1 (UDP, a free port)
// that answers from the records a test gives it, for RFC 3263 tests
// (NAPTR, SRV, A). A name it has no record of gets NXDOMAIN; a name with
// records of other types only, an empty answer.
type DNS struct {
	srv     *dns.Server
	addr    string
	queries atomic.Int64

	mu      sync.Mutex
	records map[string][]dns.RR // by owner name (lower case, FQDN)
}

// StartDNS starts the server with records in zone-file syntax, one per
// string, e.g. "_sip._udp.lab.test. 60 IN SRV 10 0 5060 a.lab.test.".
func StartDNS(records ...string) (*DNS, error) {
	d := &DNS{records: map[string][]dns.RR{}}
	if err := d.Set(records...); err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	d.addr = pc.LocalAddr().String()
	started := make(chan struct{})
	d.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	failed := make(chan error, 1)
	go func() { failed <- d.srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-failed:
		return nil, fmt.Errorf("dns: %w", err)
	}
	return d, nil
}

// Addr is the server's host:port.
func (d *DNS) Addr() string { return d.addr }

// Queries is how many questions it has answered.
func (d *DNS) Queries() int64 { return d.queries.Load() }

// Set replaces every record with these (zone-file syntax).
func (d *DNS) Set(records ...string) error {
	m := map[string][]dns.RR{}
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			return fmt.Errorf("dns: record %q: %w", s, err)
		}
		if rr == nil {
			return fmt.Errorf("dns: record %q is empty", s)
		}
		name := strings.ToLower(rr.Header().Name)
		m[name] = append(m[name], rr)
	}
	d.mu.Lock()
	d.records = m
	d.mu.Unlock()
	return nil
}

// Close stops the server.
func (d *DNS) Close() error { return d.srv.Shutdown() }

func (d *DNS) serve(w dns.ResponseWriter, q *dns.Msg) {
	d.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m) // the client gave up, or will retry
		return
	}
	qq := q.Question[0]
	d.mu.Lock()
	rrs, known := d.records[strings.ToLower(qq.Name)]
	for _, rr := range rrs {
		if qq.Qtype == dns.TypeANY || rr.Header().Rrtype == qq.Qtype {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	d.mu.Unlock()
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m) // the client gave up, or will retry
}
