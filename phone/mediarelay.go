package phone

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// MediaRelay is a relay put between the phone and every far end's RTP
// (tests and labs: tools/impair's Relay).
type MediaRelay interface {
	// Addr is the address our SDP advertises, with our own RTP port: the
	// relay passes what comes there on to us.
	Addr() netip.Addr
	// Via is where RTP for the far end at far is sent instead.
	Via(far netip.AddrPort) netip.AddrPort
}

// relayAddr holds SetMediaRelay's relay; nil = none.
type relayAddr struct{ atomic.Pointer[relayHolder] }

type relayHolder struct{ r MediaRelay }

// SetMediaRelay sends the RTP of calls set up from now on through r (nil:
// directly again). Calls set up before keep their addresses.
func (p *Phone) SetMediaRelay(r MediaRelay) {
	if r == nil {
		p.mediaRelay.Store(nil)
		return
	}
	p.mediaRelay.Store(&relayHolder{r})
}

// sdpHost is the address our SDP advertises: the relay's, or host.
func (p *Phone) sdpHost(host string) string {
	if h := p.mediaRelay.Load(); h != nil {
		return h.r.Addr().String()
	}
	return host
}

// viaRelay is where RTP for the far end at addr goes: the relay's stand-in
// for it, or addr itself.
func (p *Phone) viaRelay(addr *net.UDPAddr) *net.UDPAddr {
	h := p.mediaRelay.Load()
	if h == nil || addr == nil {
		return addr
	}
	ap := addr.AddrPort()
	return net.UDPAddrFromAddrPort(h.r.Via(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())))
}
