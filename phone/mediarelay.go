package phone

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// relayAddr is the relay's address; nil = none.
type relayAddr struct{ atomic.Pointer[netip.Addr] }

// SetMediaRelay puts a mirroring RTP relay between the phone and every far
// end (tests and labs: tools/impair): our SDP advertises ip with our own
// RTP port, and we send to ip with the far end's port. The relay, holding
// both ports on ip, forwards what it gets from one port of the far end's
// host to the same port number there (see tools/impair). An invalid ip
// turns it off. Calls set up before keep their addresses.
func (p *Phone) SetMediaRelay(ip netip.Addr) {
	if !ip.IsValid() {
		p.mediaRelay.Store(nil)
		return
	}
	p.mediaRelay.Store(&ip)
}

// sdpHost is the address our SDP advertises: the relay's, or host.
func (p *Phone) sdpHost(host string) string {
	if r := p.mediaRelay.Load(); r != nil {
		return r.String()
	}
	return host
}

// viaRelay is where RTP for the far end at addr goes: the relay, at the
// far end's port, or addr itself.
func (p *Phone) viaRelay(addr *net.UDPAddr) *net.UDPAddr {
	r := p.mediaRelay.Load()
	if r == nil || addr == nil {
		return addr
	}
	return &net.UDPAddr{IP: r.AsSlice(), Port: addr.Port}
}
