package phone

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"deskphone/phone/media"
	"deskphone/phone/netwatch"
	"deskphone/phone/signal"
	"deskphone/phone/sipua"
)

// The phone's address can change under it (a new DHCP lease, a Wi-Fi
// roam) or go away (a cable pulled, an interface down). Connection
// supervision follows it: the address the registrar is reached from is
// looked up again on every network change the kernel reports and every
// account.address_check. A new one is a lost connection — the phone is
// reachable only at its new Contact once it registered it — so the
// registration goes again at once (removing the old binding), and once it
// is back every call still up is re-INVITEd with the new address, so its
// media follows. No address at all is a lost connection too; the phone
// registers as soon as one is back.

// addressCheck is what watchAddress needs of the SIP stack.
type addressCheck interface {
	LocalHost() (string, error)
	Host() string
	SetHost(host string) (bool, error)
}

// registration is what watchAddress needs of the registration loop.
type registration interface {
	Retry(reason string)
	Moved(reason string)
}

// watchAddress starts following the phone's address until ctx ends. Its
// goroutines exist when it returns (Login's callers count them).
func (p *Phone) watchAddress(ctx context.Context, ua addressCheck, reg registration) {
	every := p.cfg.Account.AddressCheck
	if every <= 0 {
		return
	}
	news := netwatch.Watch(ctx, every, p.log)
	go func() {
		gone := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-news:
			}
			if ctx.Err() != nil {
				return
			}
			gone = p.checkAddress(ua, reg, gone)
		}
	}()
}

// checkAddress looks at the phone's address once; gone says it had none at
// the last look, and the result whether it has none now.
func (p *Phone) checkAddress(ua addressCheck, reg registration, gone bool) bool {
	old := ua.Host()
	host, err := ua.LocalHost()
	if err != nil {
		if !gone {
			p.log.Warn("the phone has no network address to reach the registrar from", "was", old, "error", err)
			reg.Retry(fmt.Sprintf("the network address %s is gone (%v)", old, err))
		}
		return true
	}
	changed, err := ua.SetHost(host)
	switch {
	case err != nil:
		p.log.Error("cannot move to the phone's new address", "from", old, "to", host, "error", err)
	case changed:
		p.log.Warn("the phone's network address changed: registering the new one; the calls follow it", "from", old, "to", host)
		reg.Moved(fmt.Sprintf("the network address changed from %s to %s", old, host))
	case gone:
		p.log.Info("the phone has a network address again", "address", host)
		reg.Retry("the network address " + host + " is back")
	}
	return false
}

// rtpBindHost is the address RTP sockets are bound to: account.listen's
// host when one is set, else every address, so that a call's media keeps
// arriving when the phone's address changes (its SDP then names the new
// one: followAddress).
func (p *Phone) rtpBindHost(sdpHost string) string {
	h, _, err := net.SplitHostPort(p.cfg.Account.Listen)
	if ip := net.ParseIP(h); err != nil || h == "" || ip != nil && ip.IsUnspecified() {
		return "0.0.0.0"
	}
	return sdpHost
}

// followAddress re-INVITEs every call still up whose SDP names another
// address than host (the registration is back after an address change).
func (p *Phone) followAddress(host string) {
	for _, s := range p.sessionList() {
		s.readdress(p.sdpHost(host))
	}
}

// readdressTries bounds the re-INVITEs that move one call: a 491 (the far
// end's own re-INVITE crossed ours) or no answer is tried again.
const readdressTries = 3

// readdress moves the call's SDP to host. A call still ringing here only
// has its answer changed; one that is up is re-INVITEd (in the
// background), as it stands: hold and resume keep their direction.
func (s *Session) readdress(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateEnded || s.localSDP == nil {
		return
	}
	body, changed, err := media.Readdress(s.localSDP, host)
	if err != nil || !changed {
		return
	}
	s.localSDP = body
	switch s.state {
	case StateConnected, StateHeld, StateRemoteHeld:
	default:
		// Ringing: the answer carries the new address. Holding, resuming
		// or transferring: that offer is out with the old one, and the
		// next (resume, a session refresh) carries the new one.
		return
	}
	offer, err := s.nextSDPLocked(s.ourDirectionLocked(s.weHoldLocked()))
	if err != nil || s.dlg == nil {
		return
	}
	s.p.log.Info("re-INVITE: the call follows the phone's new address", "session", s.ID, "address", host)
	go s.sendReaddress(s.dlg, offer)
}

// sendReaddress sends the re-INVITE that moves the call and applies the
// answer: the far end may answer from a new address too.
func (s *Session) sendReaddress(dlg signal.Dialog, offer []byte) {
	var err error
	for try := 1; try <= readdressTries; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), reofferTimeout)
		var answer []byte
		answer, err = dlg.Reoffer(ctx, offer)
		cancel()
		if err == nil {
			s.mu.Lock()
			s.applyAnswerLocked(answer)
			s.mu.Unlock()
			return
		}
		if s.State() == StateEnded || !isStatus(err, 491) && !errors.Is(err, context.DeadlineExceeded) {
			break
		}
		// RFC 3261 §14.1: wait 2.1–4 s before offering again after a 491.
		time.Sleep(2100*time.Millisecond + rand.N(1900*time.Millisecond))
	}
	if s.State() != StateEnded {
		s.p.publishWarning(ErrSIPBadRequest, "the call could not follow the phone's new address (re-INVITE: "+err.Error()+"); its audio may not reach the phone", s.ID)
	}
}

var _ addressCheck = (*sipua.UA)(nil)
var _ registration = (*sipua.Registration)(nil)
