package impair

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	relayIP = netip.MustParseAddr("127.0.0.77")
	peerIP  = netip.MustParseAddr("127.0.0.1")
)

// peer is a UDP socket on 127.0.0.1 collecting what it receives.
type peer struct {
	c    *net.UDPConn
	port int
	got  chan got
}

type got struct {
	n    uint32
	from netip.AddrPort
}

// newPeer binds an even port, as RTP does (the relay seeds RTP and RTCP
// apart by port parity).
func newPeer(t *testing.T) *peer {
	t.Helper()
	var c *net.UDPConn
	for c == nil {
		var err error
		if c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		if c.LocalAddr().(*net.UDPAddr).Port&1 != 0 {
			c.Close()
			c = nil
		}
	}
	p := &peer{c: c, port: c.LocalAddr().(*net.UDPAddr).Port, got: make(chan got, 10000)}
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n >= 4 {
				p.got <- got{binary.BigEndian.Uint32(buf), from}
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return p
}

// sendN sends datagrams numbered 0..n-1 to dst, paced.
func (p *peer) sendN(t *testing.T, dst netip.AddrPort, n int) {
	t.Helper()
	buf := make([]byte, 20)
	for i := range n {
		binary.BigEndian.PutUint32(buf, uint32(i))
		if _, err := p.c.WriteToUDPAddrPort(buf, dst); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			time.Sleep(time.Millisecond) // pacing, not waiting for a result
		}
	}
}

// collect waits until want datagrams came (or the deadline passes).
func (p *peer) collect(t *testing.T, want int, within time.Duration) []got {
	t.Helper()
	var out []got
	deadline := time.After(within)
	for len(out) < want {
		select {
		case g := <-p.got:
			out = append(out, g)
		case <-deadline:
			t.Fatalf("received %d of %d datagrams", len(out), want)
		}
	}
	return out
}

// toB is where A sends for B (the relay's stand-in for B); toA where B
// sends for A (A's port on the relay: A advertises it).
func toB(r *Relay, b *peer) netip.AddrPort {
	return r.Via(netip.AddrPortFrom(peerIP, uint16(b.port)))
}

func toA(a *peer) netip.AddrPort { return netip.AddrPortFrom(relayIP, uint16(a.port)) }

func startRelay(t *testing.T, a, _ *peer, seed uint64, s Settings) *Relay {
	t.Helper()
	r, err := Start(Config{
		Addr: relayIP, Target: peerIP, Seed: seed, Settings: s,
		Ports: []PortRange{{a.port, a.port}}, SideA: PortRange{a.port, a.port},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitSent waits until the relay has sent everything it kept: the send
// loop is done with the stream.
func waitSent(t *testing.T, r *Relay, toB bool, received uint64) Counts {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.Stats()
		c := st.ToA
		if toB {
			c = st.ToB
		}
		if c.Received == received && c.Sent == c.Received-c.Dropped+c.Duplicated {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay counts %+v; want %d received, all kept ones sent", c, received)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMirrorBothWays(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	r := startRelay(t, a, b, 1, Settings{})
	a.sendN(t, toB(r, b), 50)
	gotB := b.collect(t, 50, 5*time.Second)
	b.sendN(t, toA(a), 50)
	gotA := a.collect(t, 50, 5*time.Second)
	for i := range 50 {
		if gotB[i].n != uint32(i) || gotB[i].from != netip.AddrPortFrom(relayIP, uint16(a.port)) {
			t.Fatalf("B's datagram %d: %+v; want %d from the relay at A's port %d", i, gotB[i], i, a.port)
		}
		if gotA[i].n != uint32(i) || gotA[i].from != toB(r, b) {
			t.Fatalf("A's datagram %d: %+v; want %d from the relay at B's port %d", i, gotA[i], i, b.port)
		}
	}
}

// The same seed gives the same losses, duplicates and reorderings.
func TestImpairmentsAreReproducible(t *testing.T) {
	s := Settings{Loss: 0.1, Duplicate: 0.05, Reorder: 0.05, Jitter: 3 * time.Millisecond}
	run := func() ([]uint32, Counts) {
		a, b := newPeer(t), newPeer(t)
		r := startRelay(t, a, b, 42, s)
		a.sendN(t, toB(r, b), 400)
		c := waitSent(t, r, true, 400)
		gs := b.collect(t, int(c.Sent), 5*time.Second)
		var ns []uint32
		for _, g := range gs {
			ns = append(ns, g.n)
		}
		return ns, c
	}
	first, c1 := run()
	second, c2 := run()
	t.Logf("counts: %+v", c1)
	if c1 != c2 {
		t.Errorf("two runs with one seed: %+v, then %+v", c1, c2)
	}
	slices.Sort(first)
	slices.Sort(second)
	if !slices.Equal(first, second) {
		t.Error("two runs with one seed delivered different datagrams")
	}
	if c1.Dropped < 20 || c1.Dropped > 70 || c1.Duplicated < 5 || c1.Duplicated > 40 || c1.Reordered < 5 || c1.Reordered > 40 {
		t.Errorf("counts %+v far from 10 %% loss, 5 %% duplicates, 5 %% reordered of 400", c1)
	}
}

func TestReorderSwapsNeighbours(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	r := startRelay(t, a, b, 7, Settings{Reorder: 0.2})
	a.sendN(t, toB(r, b), 200)
	c := waitSent(t, r, true, 200)
	gs := b.collect(t, 200, 5*time.Second)
	swapped := 0
	for i := 1; i < len(gs); i++ {
		if gs[i].n < gs[i-1].n {
			swapped++
		}
	}
	if swapped == 0 || uint64(swapped) > c.Reordered {
		t.Errorf("%d datagrams came before an earlier one; the relay reordered %d", swapped, c.Reordered)
	}
}

func TestSettingsChangeLive(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	r := startRelay(t, a, b, 1, Settings{})
	if err := r.Set(Settings{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	a.sendN(t, toB(r, b), 20)
	if c := waitSent(t, r, true, 20); c.Dropped != 20 {
		t.Errorf("with loss 1: %+v", c)
	}
	if err := r.Set(Settings{Loss: 2}); err == nil {
		t.Error("loss 2 accepted")
	}
	if err := r.Set(Settings{}); err != nil {
		t.Fatal(err)
	}
	a.sendN(t, toB(r, b), 20)
	b.collect(t, 20, 5*time.Second)
}

// A peer bound to the wildcard address holds its port number on the
// relay's address too: the relay stands in for it at a pair of its own.
func TestStandInForWildcardPeer(t *testing.T) {
	a := newPeer(t)
	c, err := net.ListenUDP("udp", &net.UDPAddr{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	b := &peer{c: c, port: c.LocalAddr().(*net.UDPAddr).Port, got: make(chan got, 100)}
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n >= 4 {
				b.got <- got{binary.BigEndian.Uint32(buf), netip.AddrPortFrom(from.Addr().Unmap(), from.Port())}
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	r := startRelay(t, a, b, 1, Settings{})
	via := toB(r, b)
	if via.Addr() != relayIP || int(via.Port()) == b.port || int(via.Port())&1 != b.port&1 {
		t.Fatalf("Via(B) = %v; want a port of the relay's own, of B's parity (%d)", via, b.port)
	}
	a.sendN(t, via, 5)
	if g := b.collect(t, 5, 5*time.Second); g[4].from != toA(a) {
		t.Errorf("B got %+v from %v; want from %v", g[4], g[4].from, toA(a))
	}
	b.sendN(t, toA(a), 5)
	if g := a.collect(t, 5, 5*time.Second); g[4].from != via {
		t.Errorf("A got %+v from %v; want from %v", g[4], g[4].from, via)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Addr: peerIP, Target: peerIP},
		{Addr: relayIP, Target: peerIP, Ports: []PortRange{{10, 5}}},
		{Addr: relayIP, Target: peerIP, Settings: Settings{Dist: "pareto"}},
	} {
		if r, err := Start(cfg); err == nil {
			r.Close()
			t.Errorf("Start(%+v) accepted", cfg)
		}
	}
}
