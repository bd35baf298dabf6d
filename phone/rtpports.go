package phone

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// portPool hands out even RTP ports from the configured range. It starts
// at a random place so a restarted phone does not reuse a port the far end
// may still be sending to.
type portPool struct {
	mu     sync.Mutex
	lo, hi int
	next   int
}

func newPortPool(lo, hi int) *portPool {
	if lo <= 0 || hi < lo {
		lo, hi = 16384, 16583
	}
	n := (hi-lo)/2 + 1
	return &portPool{lo: lo, hi: hi, next: lo + 2*rand.IntN(n)}
}

// listen binds the next free even port on ip.
func (pp *portPool) listen(ip string) (*net.UDPConn, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	n := (pp.hi-pp.lo)/2 + 1
	for range n {
		port := pp.next
		pp.next += 2
		if pp.next > pp.hi {
			pp.next = pp.lo
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no free RTP port in %d-%d on %s: widen audio.rtp_ports", pp.lo, pp.hi, ip)
}
