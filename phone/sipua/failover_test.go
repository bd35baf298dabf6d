package sipua

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The failover state machine alone, on a fake clock.
func TestFailoverStateMachine(t *testing.T) {
	d := fakeDNS(t, labZone...)
	f := newFailover(slog.New(slog.DiscardHandler), []string{"lab.test", "10.0.0.7:5060"}, newResolver(d.Addr(), "udp"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	if !f.stale() {
		t.Fatal("an unresolved list is not stale")
	}
	if err := f.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.2:5070", "127.0.0.3:5080", "10.0.0.7:5060"}
	for i, tg := range f.targets {
		if tg.addr != want[i] {
			t.Fatalf("targets %v, want %v", f.targets, want)
		}
	}
	if got := f.current().addr; got != want[0] || !f.onPrimary() {
		t.Fatalf("in use %s, want the primary %s", got, want[0])
	}
	// Every target is trusted, the failover entry's too.
	for _, a := range want {
		if !f.trustedAddr(netip.MustParseAddrPort(a).Addr()) {
			t.Errorf("%s is not trusted", a)
		}
	}
	if f.trustedAddr(netip.MustParseAddr("127.0.0.9")) {
		t.Error("an address that is no target is trusted")
	}

	// No answer: the next target, then the next.
	if next, moved := f.failed(want[0]); !moved || next.addr != want[1] {
		t.Fatalf("after the primary failed: %v moved=%v, want %s", next, moved, want[1])
	}
	// A stale failure (from a target no longer in use) does not move on.
	if next, moved := f.failed(want[0]); !moved || next.addr != want[1] {
		t.Fatalf("a late failure of the old target moved to %v", next)
	}
	if next, moved := f.failed(want[1]); !moved || next.addr != want[2] {
		t.Fatalf("after the second failed: %v moved=%v, want %s", next, moved, want[2])
	}
	// All failed in a row: back off, start again at the primary, resolved anew.
	if next, moved := f.failed(want[2]); moved || next.addr != want[0] {
		t.Fatalf("after every target failed: %v moved=%v, want the primary and no move", next, moved)
	}
	if !f.stale() {
		t.Fatal("after a full round of failures the list is not re-resolved")
	}
	if err := f.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A success restarts the count: the secondary failing later goes on
	// to the third, not back to the back-off.
	f.failed(want[0])
	f.succeeded()
	if next, moved := f.failed(want[1]); !moved || next.addr != want[2] {
		t.Fatalf("after a success the count did not restart: %v moved=%v", next, moved)
	}
	f.failback()
	if !f.onPrimary() {
		t.Fatal("failback did not return to the primary")
	}

	// The DNS TTL (30 s: a.lab.test's A record) makes it stale, keeping
	// the target in use when it is still listed.
	f.failed(want[0]) // now on the second
	now = now.Add(29 * time.Second)
	if f.stale() {
		t.Fatal("stale before the TTL ran out")
	}
	now = now.Add(time.Second)
	if !f.stale() {
		t.Fatal("not stale when the TTL ran out")
	}
	if err := d.Set(append(labZone[:3:3], // b leaves the SRV
		`_sip._udp.lab.test. 60 IN SRV 10 0 5070 a.lab.test.`, `a.lab.test. 30 IN A 127.0.0.2`)...); err != nil {
		t.Fatal(err)
	}
	if err := f.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.current().addr; got != want[0] {
		t.Fatalf("the target in use left the DNS: in use %s, want the primary %s", got, want[0])
	}
	if f.trustedAddr(netip.MustParseAddr("127.0.0.3")) {
		t.Error("a target that left the DNS is still trusted")
	}
}

// No flapping: only answers in a row count.
func TestFailbackNeedsAnswersInARow(t *testing.T) {
	s := streak{need: 3}
	var fired []int
	for i, ok := range []bool{true, true, false, true, false, true, true, true, true} {
		if s.observe(ok) {
			fired = append(fired, i)
		}
	}
	if len(fired) != 1 || fired[0] != 7 {
		t.Fatalf("failback after probes %v, want only after the 3rd answer in a row (probe 7)", fired)
	}
}

// fakeRegistrar answers REGISTER and OPTIONS while up; while down it
// drops them (a dead server), or answers every REGISTER with refuse.
type fakeRegistrar struct {
	addr    string
	up      atomic.Bool
	refuse  atomic.Int32 // a status for REGISTER instead of 200 (0: none)
	regs    atomic.Int32
	options atomic.Int32
	mu      sync.Mutex
	vias    []string
	expires []string // each REGISTER's Expires
	// contacts is each REGISTER's Contact headers, joined by " | ".
	contacts []string
	natAs    string // if set, the received:rport put in the answers' Via (a NAT in between)
}

func newFakeRegistrar(t *testing.T) *fakeRegistrar {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fake-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRegistrar{addr: pc.LocalAddr().String()}
	f.up.Store(true)
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		if !f.up.Load() {
			return
		}
		f.regs.Add(1)
		f.mu.Lock()
		f.vias = append(f.vias, req.Via().Value())
		if h := req.GetHeader("Expires"); h != nil {
			f.expires = append(f.expires, h.Value())
		}
		var cs []string
		for _, h := range req.GetHeaders("Contact") {
			cs = append(cs, h.Value())
		}
		f.contacts = append(f.contacts, strings.Join(cs, " | "))
		f.mu.Unlock()
		if code := f.refuse.Load(); code != 0 {
			_ = tx.Respond(sip.NewResponseFromRequest(req, int(code), "Forbidden", nil))
			return
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		f.mu.Lock()
		natAs := f.natAs
		f.mu.Unlock()
		if h, p, err := net.SplitHostPort(natAs); err == nil {
			res.Via().Params.Add("received", h)
			res.Via().Params.Add("rport", p)
		}
		c := req.Contact().Clone()
		c.Params = sip.NewParams()
		c.Params.Add("expires", "2")
		res.AppendHeader(c)
		_ = tx.Respond(res)
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		if !f.up.Load() {
			return
		}
		f.options.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(pc) }()
	t.Cleanup(func() { _ = pc.Close(); _ = ua.Close() })
	return f
}

func (f *fakeRegistrar) unregistered() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.expires) > 0 && f.expires[len(f.expires)-1] == "0"
}

func (f *fakeRegistrar) lastVia() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.vias) == 0 {
		return ""
	}
	return f.vias[len(f.vias)-1]
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func failoverUA(t *testing.T, primary, secondary *fakeRegistrar) *UA {
	t.Helper()
	u, err := New(Config{
		Registrar: primary.addr, Failover: []string{secondary.addr}, Domain: "127.0.0.1",
		User: "1001", AuthUser: "1001", Password: "pw", Listen: "127.0.0.1:0", Expires: 2,
		Logger: slog.New(slog.DiscardHandler), RetryMin: 100 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		FailoverTimeout: 300 * time.Millisecond, FailbackProbe: 50 * time.Millisecond, FailbackAfter: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// The whole path against two fake registrars: registered on the primary;
// its refresh goes unanswered → registered on the secondary, the
// connection events' registration states in order; the primary answers
// again → after FailbackAfter probes the phone registers there again.
func TestFailoverToSecondaryAndBack(t *testing.T) {
	primary, secondary := newFakeRegistrar(t), newFakeRegistrar(t)
	u := failoverUA(t, primary, secondary)
	var mu sync.Mutex
	var states []RegState
	reg := u.Register(func(_, cur RegStatus) {
		mu.Lock()
		states = append(states, cur.State)
		mu.Unlock()
	})
	t.Cleanup(func() { _ = reg.Stop(context.Background()) })
	waitFor(t, "registered on the primary", 5*time.Second, func() bool {
		return reg.Status().State == Registered && primary.regs.Load() > 0
	})
	if secondary.regs.Load() != 0 {
		t.Fatal("the secondary got a REGISTER while the primary answered")
	}

	// RFC 3581: our Via asks for rport.
	if via := primary.lastVia(); !strings.Contains(via, ";rport") {
		t.Errorf("REGISTER's Via %q has no rport", via)
	}

	mu.Lock()
	states = nil
	mu.Unlock()
	primary.up.Store(false)
	waitFor(t, "registered on the secondary", 10*time.Second, func() bool {
		return reg.Status().State == Registered && secondary.regs.Load() > 0
	})
	if got := u.proxy(); got != secondary.addr {
		t.Fatalf("requests go to %s, want the secondary %s", got, secondary.addr)
	}
	mu.Lock()
	seq := states
	mu.Unlock()
	if len(seq) < 3 || seq[0] != RegFailed || seq[1] != Registering || seq[len(seq)-1] != Registered {
		t.Fatalf("registration states %v, want failed, registering, …, registered", seq)
	}

	// Back: the primary answers again; the phone returns after 3 answered
	// probes and registers there.
	before := primary.regs.Load()
	primary.up.Store(true)
	waitFor(t, "back on the primary", 10*time.Second, func() bool {
		return u.proxy() == primary.addr && primary.regs.Load() > before && reg.Status().State == Registered
	})
	if n := primary.options.Load(); n < 3 {
		t.Errorf("failed back after %d answered probes, want at least 3", n)
	}
	// The binding on the secondary is removed once the primary has us.
	waitFor(t, "an un-REGISTER on the secondary", 5*time.Second, secondary.unregistered)
}

// A refusal is the account's problem: the phone stays on the primary.
func TestNoFailoverOnRefusal(t *testing.T) {
	primary, secondary := newFakeRegistrar(t), newFakeRegistrar(t)
	primary.refuse.Store(403)
	u := failoverUA(t, primary, secondary)
	reg := u.Register(nil)
	t.Cleanup(func() { _ = reg.Stop(context.Background()) })
	waitFor(t, "two refused REGISTERs", 5*time.Second, func() bool { return primary.regs.Load() >= 2 })
	if st := reg.Status(); st.State != RegFailed || st.Code != 403 {
		t.Fatalf("status %+v, want failed with 403", st)
	}
	if n := secondary.regs.Load(); n != 0 || u.proxy() != primary.addr {
		t.Fatalf("a 403 moved the phone: %d REGISTERs on the secondary, requests go to %s", n, u.proxy())
	}
}

// RFC 3581: the phone's Via asks for rport (a bare parameter), the
// registrar's answer carries received and rport, and the phone reads its
// address as the registrar saw it from them.
func TestViaAsksForRport(t *testing.T) {
	reg, other := newFakeRegistrar(t), newFakeRegistrar(t)
	const public = "203.0.113.7:40001"
	reg.mu.Lock()
	reg.natAs = public
	reg.mu.Unlock()
	u := failoverUA(t, reg, other)
	r := u.Register(nil)
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	waitFor(t, "registered", 5*time.Second, func() bool { return r.Status().State == Registered })
	via := reg.lastVia()
	var v sip.ViaHeader
	if err := parseVia(via, &v); err != nil {
		t.Fatalf("Via %q: %v", via, err)
	}
	if val, ok := v.Params.Get("rport"); !ok || val != "" {
		t.Fatalf("Via %q: want a bare rport parameter", via)
	}
	if got := u.PublicAddr(); got != public {
		t.Fatalf("address as the registrar saw it: %q, want %q (from received/rport)", got, public)
	}
	// The answer still reached the phone: sipgo sent it to the request's
	// source port, as rport asks (RFC 3581 §4).
	if u.Port() == 0 || !strings.Contains(via, strconv.Itoa(u.Port())) {
		t.Fatalf("Via %q does not name our port %d", via, u.Port())
	}
}

func parseVia(s string, v *sip.ViaHeader) error {
	msg, err := sip.ParseMessage([]byte("SIP/2.0 200 OK\r\nVia: " + s + "\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		return err
	}
	h := msg.(*sip.Response).Via()
	if h == nil {
		return errors.New("no Via")
	}
	*v = *h
	return nil
}

// A keepalive that failed on a target the phone has since left (sent
// before a move) does not move it again; one that failed on the target in
// use does.
func TestStaleKeepaliveKickIgnored(t *testing.T) {
	primary, secondary := newFakeRegistrar(t), newFakeRegistrar(t)
	u := failoverUA(t, primary, secondary)
	var failed atomic.Int32
	reg := u.Register(func(_, cur RegStatus) {
		if cur.State == RegFailed {
			failed.Add(1)
		}
	})
	t.Cleanup(func() { _ = reg.Stop(context.Background()) })
	waitFor(t, "registered on the primary", 5*time.Second, func() bool { return reg.Status().State == Registered })

	before := primary.regs.Load()
	stale := secondary.addr
	u.pingFailed.Store(&stale)
	reg.Kick("keepalive OPTIONS unanswered")
	waitFor(t, "the REGISTER after the kick", 5*time.Second, func() bool { return primary.regs.Load() > before })
	if n := failed.Load(); n != 0 || u.proxy() != primary.addr {
		t.Fatalf("a stale keepalive failure counted: %d failures, requests go to %s", n, u.proxy())
	}

	primary.up.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := u.Ping(ctx); err == nil {
		t.Fatal("a dead primary answered the keepalive")
	}
	reg.Kick("keepalive OPTIONS unanswered")
	waitFor(t, "registered on the secondary", 5*time.Second, func() bool {
		return u.proxy() == secondary.addr && secondary.regs.Load() > 0 && reg.Status().State == Registered
	})
	if failed.Load() == 0 {
		t.Fatal("the loss was not reported")
	}
}
