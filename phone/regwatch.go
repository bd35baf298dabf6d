package phone

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"deskphone/phone/sipua"

	"github.com/emiago/sipgo/sip"
)

// account.reg_event: the phone SUBSCRIBEs to the registration event
// package (RFC 3680) of its own AOR. A registrar that keeps one device per
// agent replaces this phone's binding when another device registers the
// extension, and its NOTIFY then shows this phone's contact terminated
// (unregistered, deactivated or rejected) beside another, active one:
// that is a kick, noticed at once instead of at the next refresh's 403.

// regWatch is the reg event subscription of one login.
type regWatch struct {
	cancel  context.CancelFunc
	done    chan struct{} // the subscribing goroutine is over
	stopped atomic.Bool   // logging out: NOTIFYs mean nothing any more

	mu  sync.Mutex
	sub *sipua.Subscription
	// contacts is the AOR's bindings as the notifier told them (URI →
	// contact), kept across partial documents.
	contacts map[string]sipua.RegContact
}

// regWatchRetry bounds the wait between failed initial SUBSCRIBEs.
var regWatchRetry = [2]time.Duration{2 * time.Second, 60 * time.Second}

// startRegWatch subscribes to the AOR's reg event in the background, once
// per login, when account.reg_event is on.
func (p *Phone) startRegWatch(ua *sipua.UA) {
	if !p.cfg.Account.RegEvent {
		return
	}
	p.mu.Lock()
	if p.regWatch != nil || p.closed {
		p.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &regWatch{cancel: cancel, done: make(chan struct{}), contacts: map[string]sipua.RegContact{}}
	p.regWatch = w
	p.mu.Unlock()
	go func() {
		defer close(w.done)
		p.subscribeRegEvent(ctx, ua, w)
	}()
}

// subscribeRegEvent SUBSCRIBEs until it is accepted (the subscription then
// keeps itself alive), the notifier refuses for good, or ctx ends.
func (p *Phone) subscribeRegEvent(ctx context.Context, ua *sipua.UA, w *regWatch) {
	log := p.log.With("part", "reg-event")
	wait := regWatchRetry[0]
	for {
		sctx, cancel := context.WithTimeout(ctx, 35*time.Second)
		sub, err := ua.Subscribe(sctx, sipua.SubscribeOptions{
			Event: "reg", Accept: []string{sipua.ReginfoContentType}, Expires: 600,
			OnNotify: func(n sipua.Notify) { p.onRegInfo(ua, w, n) },
		})
		cancel()
		if err == nil {
			w.mu.Lock()
			w.sub = sub
			w.mu.Unlock()
			log.Info("subscribed to the registration events of the account")
			return
		}
		if ctx.Err() != nil {
			return
		}
		var se *sipua.StatusError
		if errors.As(err, &se) {
			switch se.Code {
			case 403, 404, 405, 489, 501:
				log.Warn("the registrar does not serve registration events: a takeover shows only at the next refresh (account.reg_event)", "error", err)
				return
			}
		}
		log.Warn("subscribing to the registration events failed", "error", err, "retry", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, regWatchRetry[1])
	}
}

// stopRegWatch ends the subscription (un-SUBSCRIBE) before the phone
// un-REGISTERs, so its own un-registration is never taken for a kick.
func (p *Phone) stopRegWatch(ctx context.Context) {
	p.mu.Lock()
	w := p.regWatch
	p.regWatch = nil
	p.mu.Unlock()
	if w == nil {
		return
	}
	w.stopped.Store(true)
	w.cancel()
	select {
	case <-w.done:
	case <-ctx.Done():
		return
	}
	w.mu.Lock()
	sub := w.sub
	w.mu.Unlock()
	if sub != nil {
		if err := sub.Close(ctx); err != nil {
			p.log.Debug("un-subscribing from the registration events failed", "error", err)
		}
	}
}

// onRegInfo reads one NOTIFY of the reg event subscription.
func (p *Phone) onRegInfo(ua *sipua.UA, w *regWatch, n sipua.Notify) {
	if w.stopped.Load() || n.State == "terminated" || len(n.Body) == 0 {
		return // logging out; the subscription ends; nothing published yet
	}
	if ct := n.ContentType; ct != "" && !strings.EqualFold(strings.TrimSpace(strings.Split(ct, ";")[0]), sipua.ReginfoContentType) {
		p.log.Warn("reg event NOTIFY with an unexpected body type: ignored", "content_type", ct)
		return
	}
	ri, err := sipua.ParseReginfo(n.Body)
	if err != nil {
		p.log.Warn("reg event NOTIFY: ignored", "error", err)
		return
	}
	w.mu.Lock()
	if ri.State == "full" {
		clear(w.contacts)
	}
	for _, r := range ri.Registrations {
		for _, c := range r.Contacts {
			w.contacts[c.URI] = c
		}
	}
	mine, other, took := takeover(w.contacts, ua.Contact())
	w.mu.Unlock()
	if !took || w.stopped.Load() || p.kickedReason() != "" {
		return
	}
	p.mu.Lock()
	reg := p.reg
	p.mu.Unlock()
	if reg == nil || reg.Status().State != sipua.Registered {
		return // not registered as far as the phone knows: nothing to lose
	}
	p.log.Warn("the registrar replaced this phone's binding", "ours", mine.URI, "event", mine.Event, "now", other.URI)
	p.kickOut("another device registered this extension (reg event)")
}

// takeover finds this phone's contact terminated by the registrar
// (rejected, deactivated, or unregistered while another contact is
// active) and the active contact that took its place.
func takeover(contacts map[string]sipua.RegContact, ours sip.Uri) (mine, other sipua.RegContact, took bool) {
	found := false
	for _, c := range contacts {
		if sameContact(c.URI, ours) {
			mine, found = c, true
		} else if c.Active() && !took {
			other, took = c, true
		}
	}
	if !found || !took || mine.Active() {
		return mine, other, false
	}
	switch mine.Event {
	case "rejected", "deactivated", "unregistered":
		return mine, other, true
	}
	return mine, other, false // expired, probation…: not another device's doing
}

// sameContact compares a contact URI from a reginfo document with ours by
// user, host and port (parameters such as transport aside).
func sameContact(uri string, ours sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return false
	}
	return u.User == ours.User && strings.EqualFold(trimBrackets(u.Host), trimBrackets(ours.Host)) &&
		portOr5060(u.Port) == portOr5060(ours.Port)
}

func trimBrackets(h string) string {
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return ip.String()
	}
	return h
}

func portOr5060(p int) string {
	if p == 0 {
		p = 5060
	}
	return strconv.Itoa(p)
}
