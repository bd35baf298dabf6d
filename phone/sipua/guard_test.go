package sipua

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskphone/phone/signal"
)

// rawPeer is a SIP endpoint made of one UDP socket, so a test chooses the
// source address (127.0.0.9 is "another host": lo answers for 127/8).
type rawPeer struct {
	t  *testing.T
	pc *net.UDPConn
}

func newRawPeer(t *testing.T, ip string) *rawPeer {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatalf("binding a sender on %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return &rawPeer{t: t, pc: pc}
}

func (p *rawPeer) addr() *net.UDPAddr { return p.pc.LocalAddr().(*net.UDPAddr) }

func (p *rawPeer) send(to int, msg string) {
	p.t.Helper()
	if _, err := p.pc.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}); err != nil {
		p.t.Fatal(err)
	}
}

// waitStatus reads until a response with code arrives for method (its
// CSeq), or the deadline; it returns the whole response.
func (p *rawPeer) waitStatus(code int, method string, within time.Duration) (string, bool) {
	buf := make([]byte, 8192)
	deadline := time.Now().Add(within)
	for {
		_ = p.pc.SetReadDeadline(deadline)
		n, err := p.pc.Read(buf)
		if err != nil {
			return "", false
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, fmt.Sprintf("SIP/2.0 %d ", code)) && strings.Contains(msg, " "+method+"\r\n") {
			return msg, true
		}
	}
}

func invite(p *rawPeer, callID, fromTag, branch string) string {
	a := p.addr()
	return fmt.Sprintf("INVITE sip:1001@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n"+
		"From: <sip:2002@127.0.0.1>;tag=%s\r\nTo: <sip:1001@127.0.0.1>\r\n"+
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:2002@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		a, branch, fromTag, callID, a)
}

func inDialog(p *rawPeer, method, callID, fromTag, toTag string, seq int, branch string) string {
	a := p.addr()
	return fmt.Sprintf("%s sip:1001@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n"+
		"From: <sip:2002@127.0.0.1>;tag=%s\r\nTo: <sip:1001@127.0.0.1>;tag=%s\r\n"+
		"Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		method, a, branch, fromTag, toTag, callID, seq, method)
}

// newGuardedUA starts a UA whose registrar is a silent socket on
// 127.0.0.1 (so 127.0.0.1 is trusted, any port).
func newGuardedUA(t *testing.T, mod func(*Config)) *UA {
	t.Helper()
	reg := newRawPeer(t, "127.0.0.1")
	cfg := Config{Registrar: reg.addr().String(), Domain: "127.0.0.1", User: "1001",
		Transport: "udp", Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

type ringCounter struct{ n atomic.Int32 }

func (r *ringCounter) on(in signal.Incoming) { r.n.Add(1); in.Reject(486, "Busy Here") }

func TestInviteFromUntrustedSourceRefused(t *testing.T) {
	var rings ringCounter
	u := newGuardedUA(t, nil)
	u.OnIncoming(rings.on)

	stranger := newRawPeer(t, "127.0.0.9")
	stranger.send(u.Port(), invite(stranger, "c-untrusted", "f1", "u1"))
	if _, ok := stranger.waitStatus(403, "INVITE", 3*time.Second); !ok {
		t.Fatal("an INVITE from 127.0.0.9 got no 403 Forbidden")
	}
	// OPTIONS and MESSAGE from it get silence.
	stranger.send(u.Port(), strings.Replace(strings.Replace(invite(stranger, "c-opt", "f2", "u2"), "INVITE", "OPTIONS", 2), "CSeq: 1 INVITE", "CSeq: 1 OPTIONS", 1))
	if res, ok := stranger.waitStatus(200, "OPTIONS", 500*time.Millisecond); ok {
		t.Fatalf("an OPTIONS from 127.0.0.9 was answered: %q", res)
	}

	// The registrar's host, from any port, is trusted: the call rings.
	friend := newRawPeer(t, "127.0.0.1")
	friend.send(u.Port(), invite(friend, "c-trusted", "f3", "t1"))
	if _, ok := friend.waitStatus(486, "INVITE", 3*time.Second); !ok {
		t.Fatal("an INVITE from the registrar's host was not offered to the phone")
	}
	if n := rings.n.Load(); n != 1 {
		t.Fatalf("the phone rang %d times, want once (the trusted INVITE only)", n)
	}
	if s := u.GuardStats(); s.Refused < 2 {
		t.Errorf("GuardStats = %+v, want at least 2 refused", s)
	}
}

func TestTrustedPeersAndAcceptDirect(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"trusted host":  func(c *Config) { c.TrustedPeers = []string{"127.0.0.9"} },
		"trusted CIDR":  func(c *Config) { c.TrustedPeers = []string{"127.0.0.8/30"} },
		"accept direct": func(c *Config) { c.AcceptDirect = true },
	} {
		t.Run(name, func(t *testing.T) {
			var rings ringCounter
			u := newGuardedUA(t, mod)
			u.OnIncoming(rings.on)
			p := newRawPeer(t, "127.0.0.9")
			p.send(u.Port(), invite(p, "c-"+name, "f", "b1"))
			if _, ok := p.waitStatus(486, "INVITE", 3*time.Second); !ok || rings.n.Load() != 1 {
				t.Fatalf("the INVITE from 127.0.0.9 did not reach the phone (rings %d)", rings.n.Load())
			}
		})
	}
	// A port-qualified peer trusts that port only.
	var rings ringCounter
	u := newGuardedUA(t, func(c *Config) { c.TrustedPeers = []string{"127.0.0.9:1"} })
	u.OnIncoming(rings.on)
	p := newRawPeer(t, "127.0.0.9")
	p.send(u.Port(), invite(p, "c-port", "f", "b2"))
	if _, ok := p.waitStatus(403, "INVITE", 3*time.Second); !ok {
		t.Fatal("127.0.0.9 from a port other than the trusted :1 was not refused")
	}
}

func TestParseTrustedPeer(t *testing.T) {
	lookup := func(_ context.Context, h string) ([]netip.Addr, error) {
		if h == "pbx.example.com" {
			return []netip.Addr{netip.MustParseAddr("192.0.2.7")}, nil
		}
		return nil, fmt.Errorf("no such host")
	}
	for in, want := range map[string]string{
		"10.0.0.0/24":          "10.0.0.0/24 any",
		"10.0.0.7/24":          "10.0.0.0/24 any",
		"192.0.2.1":            "192.0.2.1/32 any",
		"192.0.2.1:5060":       "192.0.2.1/32 5060",
		"[2001:db8::1]:5061":   "2001:db8::1/128 5061",
		"pbx.example.com:5080": "192.0.2.7/32 5080",
	} {
		ps, err := parseTrustedPeer(context.Background(), in, lookup)
		if err != nil || len(ps) != 1 {
			t.Errorf("%q: %v, %v", in, ps, err)
			continue
		}
		port := "any"
		if ps[0].port != 0 {
			port = fmt.Sprint(ps[0].port)
		}
		if got := ps[0].prefix.String() + " " + port; got != want {
			t.Errorf("%q = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"10.0.0.1:0", ":5060", "nowhere.invalid", "10.0.0.1:x"} {
		if _, err := parseTrustedPeer(context.Background(), bad, lookup); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRateLimitTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	g, err := newGuard(slog.New(slog.DiscardHandler), "192.0.2.1:5060", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	g.now = func() time.Time { return now }
	a := netip.MustParseAddr("198.51.100.1")
	passed := 0
	for range 100 {
		if g.allow(a) {
			passed++
		}
	}
	if passed != untrustedBurst {
		t.Fatalf("a burst of 100 let %d through, want %d", passed, untrustedBurst)
	}
	now = now.Add(time.Second) // refills 20
	passed = 0
	for range 100 {
		if g.allow(a) {
			passed++
		}
	}
	if passed != untrustedRate {
		t.Fatalf("one second later %d passed, want %d", passed, untrustedRate)
	}
	if !g.allow(netip.MustParseAddr("198.51.100.2")) {
		t.Fatal("another source was limited by the first one's bucket")
	}
	// The table stays bounded under many (spoofed) sources.
	for i := range maxBuckets * 2 {
		g.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if n := len(g.buckets); n > maxBuckets {
		t.Fatalf("%d buckets, want at most %d", n, maxBuckets)
	}
}

// A flood of INVITEs from an untrusted source is dropped unparsed beyond
// the rate limit, and what passes is answered 403 without leaving any
// goroutine behind (sipgo keeps the 403's retransmission timers, not
// goroutines).
func TestInviteFloodIsBounded(t *testing.T) {
	t.Run("rate-limited", func(t *testing.T) { inviteFlood(t, false) })
	// Without the limit every INVITE is parsed and refused: the work per
	// refusal must still leave no goroutine behind.
	t.Run("unlimited", func(t *testing.T) { inviteFlood(t, true) })
}

func inviteFlood(t *testing.T, unlimited bool) {
	var rings ringCounter
	u := newGuardedUA(t, nil)
	u.OnIncoming(rings.on)
	if unlimited {
		u.guard.mu.Lock()
		u.guard.rate, u.guard.burst = 1e9, 1e9
		u.guard.mu.Unlock()
	}
	stranger := newRawPeer(t, "127.0.0.9")
	base := runtime.NumGoroutine()
	const flood = 2000
	start := time.Now()
	for i := range flood {
		stranger.send(u.Port(), invite(stranger, fmt.Sprintf("flood-%d", i), "f", fmt.Sprintf("fl%d", i)))
	}
	// The socket is read in order: once a trusted OPTIONS sent after the
	// flood is answered, every flood datagram was read (or lost in the
	// kernel's buffer, which a flood overruns).
	friend := newRawPeer(t, "127.0.0.1")
	// The marker itself may be lost in an overrun buffer: resend it (as
	// a SIP UAC would) until answered.
	for try := 0; ; try++ {
		friend.send(u.Port(), strings.Replace(strings.Replace(invite(friend, "c-marker", "f", "mk"), "INVITE", "OPTIONS", 2), "CSeq: 1 INVITE", "CSeq: 1 OPTIONS", 1))
		if _, ok := friend.waitStatus(200, "OPTIONS", 250*time.Millisecond); ok {
			break
		}
		if try == 20 {
			t.Fatal("a trusted OPTIONS after the flood got no answer")
		}
	}
	elapsed := time.Since(start)
	s := u.GuardStats()
	if !unlimited && s.Dropped == 0 {
		t.Fatalf("nothing was dropped by the rate limit (%+v)", s)
	}
	if limit := uint64(untrustedBurst + untrustedRate*(elapsed.Seconds()+1)); !unlimited && s.Refused > limit {
		t.Errorf("%d INVITEs were parsed and refused in %v: the rate limit (%d) let too many through", s.Refused, elapsed, limit)
	}
	var g int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if g = runtime.NumGoroutine(); g <= base+2 || time.Now().After(deadline) {
			break
		}
	}
	s = u.GuardStats()
	t.Logf("flood of %d INVITEs from 127.0.0.9 in %v: %d dropped unparsed, %d refused with 403, %d lost in the kernel; goroutines %d before, %d after",
		flood, elapsed, s.Dropped, s.Refused, flood-s.Dropped-s.Refused, base, g)
	if g > base+2 {
		t.Fatalf("goroutines went from %d to %d after the flood and stayed", base, g)
	}
	if n := rings.n.Load(); n != 0 {
		t.Fatalf("the flood rang the phone %d times", n)
	}
}

type endWatcher struct {
	ended chan error
}

func (e *endWatcher) OnOffer(signal.Offer) ([]byte, int) { return nil, 488 }
func (e *endWatcher) OnDTMF(rune)                        {}
func (e *endWatcher) OnRefer(string, string) bool        { return false }
func (e *endWatcher) OnNotify(int, string)               {}
func (e *endWatcher) OnEnd(cause error)                  { e.ended <- cause }

// A BYE with the right Call-ID and tags from a third address gets 403 and
// the call stays up; the same BYE from the far end ends it.
func TestByeFromThirdPartyRefused(t *testing.T) {
	u := newGuardedUA(t, nil)
	ew := &endWatcher{ended: make(chan error, 1)}
	answered := make(chan signal.Dialog, 1)
	u.OnIncoming(func(in signal.Incoming) {
		go func() {
			d, err := in.Answer([]byte("v=0\r\n"), ew)
			if err != nil {
				t.Error(err)
			}
			answered <- d
		}()
	})
	far := newRawPeer(t, "127.0.0.1")
	far.send(u.Port(), invite(far, "c-bye", "ftag", "b1"))
	ok200, ok := far.waitStatus(200, "INVITE", 3*time.Second)
	if !ok {
		t.Fatal("the call was not answered")
	}
	<-answered
	var toTag string
	for _, l := range strings.Split(ok200, "\r\n") {
		if strings.HasPrefix(l, "To:") {
			_, toTag, _ = strings.Cut(l, "tag=")
		}
	}
	far.send(u.Port(), inDialog(far, "ACK", "c-bye", "ftag", toTag, 1, "b1ack"))

	stranger := newRawPeer(t, "127.0.0.9")
	stranger.send(u.Port(), inDialog(stranger, "BYE", "c-bye", "ftag", toTag, 2, "evil"))
	if _, ok := stranger.waitStatus(403, "BYE", 3*time.Second); !ok {
		t.Fatal("the BYE from 127.0.0.9 got no 403")
	}
	select {
	case err := <-ew.ended:
		t.Fatalf("the BYE from 127.0.0.9 ended the call (%v)", err)
	default:
	}
	far.send(u.Port(), inDialog(far, "BYE", "c-bye", "ftag", toTag, 3, "good"))
	if _, ok := far.waitStatus(200, "BYE", 3*time.Second); !ok {
		t.Fatal("the far end's BYE got no 200")
	}
	select {
	case err := <-ew.ended:
		if err != nil {
			t.Fatalf("the call ended with %v, want the far end's BYE", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the far end's BYE did not end the call")
	}
}

// A CANCEL of a ringing call that does not come from where its INVITE
// came from is forged: sipgo would match it by branch alone and end the
// call; the guard drops it. The caller's own CANCEL ends the ringing.
func TestCancelFromAnotherSourceDropped(t *testing.T) {
	u := newGuardedUA(t, nil)
	ringing := make(chan signal.Incoming, 1)
	u.OnIncoming(func(in signal.Incoming) { ringing <- in })
	friend := newRawPeer(t, "127.0.0.1")
	inv := invite(friend, "c-cancel", "f1", "cb1")
	friend.send(u.Port(), inv)
	var in signal.Incoming
	select {
	case in = <-ringing:
	case <-time.After(3 * time.Second):
		t.Fatal("the trusted INVITE did not ring")
	}
	cancel := strings.Replace(strings.Replace(inv, "INVITE sip:", "CANCEL sip:", 1), "CSeq: 1 INVITE", "CSeq: 1 CANCEL", 1)
	before := u.GuardStats().Refused
	stranger := newRawPeer(t, "127.0.0.9")
	stranger.send(u.Port(), cancel) // the same Via, branch and tags: only the source differs
	if res, ok := stranger.waitStatus(200, "CANCEL", 500*time.Millisecond); ok {
		t.Fatalf("a CANCEL from 127.0.0.9 was answered: %q", res)
	}
	select {
	case <-in.Canceled():
		t.Fatal("a CANCEL from another source ended the ringing call")
	default:
	}
	if got := u.GuardStats().Refused; got != before+1 {
		t.Errorf("refused %d → %d, want one more", before, got)
	}
	friend.send(u.Port(), cancel)
	select {
	case <-in.Canceled():
	case <-time.After(3 * time.Second):
		t.Fatal("the caller's own CANCEL did not end the ringing call")
	}
}
