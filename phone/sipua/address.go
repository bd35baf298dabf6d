package sipua

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/emiago/sipgo/sip"
)

// The phone's own address changes under it: a DHCP lease renewed with
// another address, a Wi-Fi roam, a cable moved to another VLAN. The
// supervision (phone/address.go) watches LocalHost and calls SetHost; the
// next REGISTER then carries the new Contact and removes the old one, and
// the calls are re-INVITEd from the new address.

// ErrNoAddress is a network with no address to reach the registrar from:
// the interface went down, or its address was taken away.
var ErrNoAddress = errors.New("no local address to reach the registrar from")

// LocalHost is the address the phone reaches the registrar in use from,
// as the kernel routes it now. With account.listen's host unspecified it
// is the route's source address; with a fixed one, that address as long
// as an interface has it. ErrNoAddress when there is none.
func (u *UA) LocalHost() (string, error) {
	if u.bindHost != "" {
		ok, err := hasAddress(u.bindHost)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("%w: no interface has %s (account.listen)", ErrNoAddress, u.bindHost)
		}
		return u.bindHost, nil
	}
	dest := u.proxy()
	c, err := net.Dial("udp4", dest)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoAddress, err)
	}
	defer func() { _ = c.Close() }() // sent nothing: only the local address was wanted
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

// hasAddress reports whether an interface has ip.
func hasAddress(ip string) (bool, error) {
	want := net.ParseIP(ip)
	if want == nil || want.IsLoopback() {
		return true, nil // loopback does not go away
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false, fmt.Errorf("listing the interfaces' addresses: %w", err)
	}
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		n, ok := a.(*net.IPNet)
		return ok && n.IP.Equal(want)
	}), nil
}

// SetHost makes host the address others reach the phone at: the Contact
// of every later request and answer, the Via, and (phone/) the SDP of new
// calls. It reports whether the address changed. The old Contact is kept
// until a REGISTER removes its binding (send), so the registrar does not
// fork calls to an address the phone no longer has — or that another
// device now holds. Over TCP and TLS the connection to the registrar left
// from the old address: it is closed, and the next request opens one from
// the new address.
func (u *UA) SetHost(host string) (bool, error) {
	old := u.local.Load()
	if old.host == host {
		return false, nil
	}
	l, err := u.newLocal(host)
	if err != nil {
		return false, err
	}
	u.local.Store(l)
	if u.stale.Load() == nil {
		u.stale.Store(old.contact.Clone()) // the first of several moves is the one registered
	}
	u.log.Info("the phone's address changed", "from", old.host, "to", host)
	if u.cfg.Transport != "udp" {
		if c, err := u.srv.TransportLayer().GetConnection(u.cfg.Transport, u.proxy()); err == nil && c != nil {
			_ = c.Close() // it is useless now; the next request dials again
		}
	}
	return true, nil
}

// staleContact is the Contact of an address the phone left, with
// expires=0, for the next REGISTER to remove, and the stale value to clear
// once it did (clearStale); nil when there is none.
func (u *UA) staleContact() (c, stale *sip.ContactHeader) {
	s := u.stale.Load()
	if s == nil || s.Address.Host == u.Host() {
		return nil, s
	}
	c = s.Clone()
	if c.Params == nil {
		c.Params = sip.NewParams()
	}
	c.Params.Add("expires", "0")
	return c, s
}

// clearStale forgets a stale Contact a REGISTER removed (or that is the
// current one again), unless the phone moved again meanwhile.
func (u *UA) clearStale(s *sip.ContactHeader) {
	if s != nil {
		u.stale.CompareAndSwap(s, nil)
	}
}
