package phone

import (
	"net"
	"testing"
)

// The pool binds RTP on an even port and RTCP on the next, both inside
// the range, and skips a pair whose RTCP port is taken.
func TestPortPoolBindsPairs(t *testing.T) {
	lo := freeRange(t, 6)
	hi := lo + 5 // three pairs
	pp := newPortPool(lo, hi)
	port := func(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }
	var got []*rtpSockets
	defer func() {
		for _, s := range got {
			_ = s.Close()
		}
	}()
	for range 3 {
		s, err := pp.listen("127.0.0.1")
		if err != nil {
			t.Fatalf("pair %d: %v", len(got)+1, err)
		}
		got = append(got, s)
		r, c := port(s.rtp), port(s.rtcp)
		if r%2 != 0 || c != r+1 || r < lo || c > hi {
			t.Fatalf("pair RTP %d RTCP %d: want an even RTP port and RTCP on the next, inside %d-%d", r, c, lo, hi)
		}
	}
	if _, err := pp.listen("127.0.0.1"); err == nil {
		t.Fatal("a fourth pair from a range of three")
	}
	// Free one pair but keep its RTCP port busy: it is not handed out.
	r := port(got[0].rtp)
	_ = got[0].Close()
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	got = got[1:]
	if s, err := pp.listen("127.0.0.1"); err == nil {
		got = append(got, s)
		t.Fatalf("got RTP %d / RTCP %d although RTCP port %d is taken", port(s.rtp), port(s.rtcp), r+1)
	}
	// The RTP port of the half-free pair was let go again.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r})
	if err != nil {
		t.Fatalf("RTP port %d still bound after its pair was refused: %v", r, err)
	}
	_ = c.Close()
}

// freeRange finds n free UDP ports in a row on 127.0.0.1, from an even one.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for base := 42000; base < 60000; base += 2 * n {
		free := true
		for p := base; p < base+n && free; p++ {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				free = false
				continue
			}
			_ = c.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free range of UDP ports")
	return 0
}
