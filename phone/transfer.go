package phone

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/signal"
)

// transfer is a REFER we sent, until its final NOTIFY.
type transfer struct {
	target  string
	prev    CallState     // where the call goes back to if the transfer fails
	done    bool          // a 2xx NOTIFY came: the far end is with the target
	consult *Session      // attended: our leg to the target, ended with the transfer
	over    chan struct{} // closed when the transfer failed
}

// TransferInfo is onTransfer's payload (phone): progress from the
// transferee's NOTIFYs, or why the transfer failed.
type TransferInfo struct {
	SessionID string `json:"sessionId"`
	Target    string `json:"target"`
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
	Status    string `json:"status"` // trying, done, failed
}

// transferTimeout bounds how long a transfer may take to report success.
const transferTimeout = 60 * time.Second

// Transfer hands a call to another number (blind transfer: REFER). It
// returns at once; NOTIFY progress arrives as onTransfer, and on success
// the agent's leg ends with LocalBye. A failed transfer leaves the call up.
func (p *Phone) Transfer(sessionID, to string) error {
	calls := p.signalling()
	if calls == nil {
		return newError(ErrSIPBadRequest, "cannot transfer before login")
	}
	if err := calls.CheckTarget(to); err != nil {
		return newError(ErrSIPURIWrongFormat, "'to': %v", err)
	}
	s, err := p.session(sessionID, StateConnected)
	if err != nil {
		return err
	}
	return s.refer(strings.TrimSpace(to), "", nil)
}

// TransferAttended joins the far end of sessionID with the far end of
// consultSessionID (a consultation call the agent placed): REFER with
// Replaces, so the target swaps the consultation leg for the customer.
func (p *Phone) TransferAttended(sessionID, consultSessionID string) error {
	if sessionID == "" || consultSessionID == "" || sessionID == consultSessionID {
		return newError(ErrSIPBadRequest, "an attended transfer needs two different sessions: sessionId and consultSessionId")
	}
	s, err := p.session(sessionID, "")
	if err != nil {
		return err
	}
	c, err := p.session(consultSessionID, "")
	if err != nil {
		return err
	}
	c.mu.Lock()
	cd, live := c.dlg, c.state.live()
	c.mu.Unlock()
	if !live || cd == nil {
		return newError(ErrSIPBadRequest, "the consultation call %s is not connected", consultSessionID)
	}
	// The consulted party by number, so Refer-To reaches it the way our
	// own calls do (through the registrar).
	return s.refer(c.snapshot().Peer(), cd.ReplacesParam(), c)
}

func (s *Session) refer(target, replaces string, consult *Session) error {
	s.mu.Lock()
	prev := s.state
	if !prev.live() || prev == StateTransferring || prev == StateHolding || prev == StateResuming || s.dlg == nil {
		s.mu.Unlock()
		return newError(ErrSIPBadRequest, "session %s cannot be transferred while %s", s.ID, prev)
	}
	_ = s.moveLocked(StateTransferring)
	x := &transfer{target: target, prev: prev, consult: consult, over: make(chan struct{})}
	s.xfer = x
	s.note = "Transferring..."
	dlg := s.dlg
	s.p.bus.Publish(event.Transfer, TransferInfo{SessionID: s.ID, Target: target, Status: "trying"}) // under s.mu: see publishLive
	s.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), reofferTimeout)
		err := dlg.Refer(ctx, target, replaces)
		cancel()
		if err != nil {
			s.transferFailed(x, 0, "the far end refused the transfer: "+err.Error())
			return
		}
		t := time.NewTimer(transferTimeout)
		defer t.Stop()
		select {
		case <-s.done:
		case <-x.over:
		case <-t.C:
			s.transferFailed(x, 408, "the transfer did not complete in time")
		}
	}()
	return nil
}

// OnNotify is the transferee's report on our REFER (signal.DialogHandler).
func (s *Session) OnNotify(code int, reason string) {
	s.mu.Lock()
	x := s.xfer
	if x == nil || s.state != StateTransferring {
		s.mu.Unlock()
		return
	}
	s.note = fmt.Sprintf("Transfer: %d %s", code, reason)
	dlg := s.dlg
	switch { // under s.mu: see publishLive
	case code < 200:
		s.p.bus.Publish(event.Transfer, TransferInfo{SessionID: s.ID, Target: x.target, Code: code, Reason: reason, Status: "trying"})
	case code < 300:
		x.done = true
		s.p.bus.Publish(event.Transfer, TransferInfo{SessionID: s.ID, Target: x.target, Code: code, Reason: reason, Status: "done"})
		s.p.bus.Publish(event.WebTransfer, WebSession{SessionID: s.ID})
	}
	s.mu.Unlock()
	switch {
	case code >= 300:
		s.transferFailed(x, code, fmt.Sprintf("transfer to %s failed: %d %s", x.target, code, reason))
	case code >= 200:
		if s.finish(EndLocalBye, "transferred to "+x.target, 0) {
			s.bye(dlg)
		}
		if c := x.consult; c != nil {
			// The target should end our consultation leg itself (it was
			// replaced); one that ignores Replaces would leave it up.
			c.mu.Lock()
			cd := c.dlg
			c.mu.Unlock()
			if c.finish(EndLocalBye, "transferred: the consulted party now talks to the customer", 0) {
				c.bye(cd)
			}
		}
	}
}

// transferFailed puts the call back as it was and says why.
func (s *Session) transferFailed(x *transfer, code int, msg string) {
	s.mu.Lock()
	if s.xfer != x || s.state != StateTransferring {
		s.mu.Unlock()
		return
	}
	s.state = x.prev
	s.xfer = nil
	close(x.over)
	s.note = "Transfer failed"
	if code > 0 {
		s.note = fmt.Sprintf("Transfer failed (%d)", code)
	}
	s.applyMediaLocked()
	errCode := code
	if errCode == 0 {
		errCode = ErrSIPBadRequest
	}
	// Under s.mu: see publishLive.
	s.p.bus.Publish(event.Transfer, TransferInfo{SessionID: s.ID, Target: x.target, Code: code, Reason: msg, Status: "failed"})
	s.p.publishError(errCode, msg, s.ID)
	s.mu.Unlock()
}

// OnRefer handles the far end asking us to call someone else (we are the
// transferee). We accept, call the target, and report with NOTIFYs; the
// transferor hangs up our leg when the new call is answered.
func (s *Session) OnRefer(target, replaces string) bool {
	s.mu.Lock()
	live, dlg := s.state.live(), s.dlg
	s.mu.Unlock()
	if !live || dlg == nil {
		return false
	}
	go s.p.followRefer(s, dlg, target, replaces)
	return true
}

func (p *Phone) followRefer(from *Session, dlg signal.Dialog, target, replaces string) {
	notify := func(code int, reason string, final bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := dlg.Notify(ctx, code, reason, final); err != nil {
			p.log.Debug("NOTIFY for a transfer failed", "error", err)
		}
	}
	notify(100, "Trying", false)
	_ = from.reoffer(true) // the transferor's leg waits on hold
	// Watch the new call's events from before it exists, so none is missed.
	events, stop := p.bus.Subscribe(256)
	defer stop()
	id, err := p.call(target, "", "", replaces)
	if err != nil {
		notify(503, "Service Unavailable", true)
		return
	}
	timeout := time.NewTimer(p.cfg.Calls.AnswerTimeout + 5*time.Second)
	defer timeout.Stop()
	for {
		select {
		case e := <-events:
			switch d := e.Data.(type) {
			case SessionRef:
				if d.SessionID == id && e.Name == event.Accepted {
					notify(200, "OK", true)
					return
				}
			case Ended:
				if d.SessionID == id {
					code := d.SIPCode
					if code < 300 {
						code = 487
					}
					notify(code, http.StatusText(code), true)
					return
				}
			}
		case <-timeout.C:
			notify(408, "Request Timeout", true)
			return
		}
	}
}
