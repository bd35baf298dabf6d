package phone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// HoldInfo is onHold's payload (phone).
type HoldInfo struct {
	SessionID string `json:"sessionId"`
	Held      bool   `json:"held"`
	By        string `json:"by"` // "local": the agent held the far end; "remote": the far end held us
}

// reofferTimeout bounds a hold or resume re-INVITE.
const reofferTimeout = 10 * time.Second

// Hold puts a call on hold: a re-INVITE with sendonly, and the far end
// hears calls.hold_music. It returns at once; onHold follows.
func (p *Phone) Hold(sessionID string) error {
	s, err := p.session(sessionID, StateConnected)
	if err != nil {
		return err
	}
	return s.reoffer(true)
}

// Unhold resumes a held call (sendrecv). Another call being talked on is
// held first, so unhold swaps between two lines.
func (p *Phone) Unhold(sessionID string) error {
	s, err := p.session(sessionID, StateHeld)
	if err != nil {
		return err
	}
	if st := s.State(); st == StateHeld {
		p.holdOthers(s)
	}
	return s.reoffer(false)
}

// holdOthers holds every call the agent is talking on except keep.
func (p *Phone) holdOthers(keep *Session) {
	for _, o := range p.sessionList() {
		if o == keep {
			continue
		}
		if st := o.State(); st == StateConnected || st == StateRemoteHeld {
			_ = o.reoffer(true)
		}
	}
}

// reoffer sends our hold (or resume) offer and applies the answer.
func (s *Session) reoffer(hold bool) error {
	s.mu.Lock()
	prev := s.state
	var next CallState
	switch {
	case hold && (prev == StateHeld || prev == StateHolding), !hold && (prev == StateConnected || prev == StateRemoteHeld || prev == StateResuming):
		s.mu.Unlock()
		return nil // already there: a second press is a no-op
	case hold && (prev == StateConnected || prev == StateRemoteHeld):
		next = StateHolding
	case !hold && prev == StateHeld:
		next = StateResuming
	default:
		s.mu.Unlock()
		return newError(ErrSIPBadRequest, "session %s cannot be %s while %s", s.ID, map[bool]string{true: "held", false: "resumed"}[hold], prev)
	}
	_ = s.moveLocked(next)
	s.sdpVersion++ // a new offer, even one repeating a refused one
	body, err := s.sdpLocked(s.ourDirectionLocked(hold))
	if err == nil {
		s.lastSent = body
	}
	dlg := s.dlg
	s.mu.Unlock()
	if err != nil || dlg == nil {
		s.mu.Lock()
		if s.state == next {
			s.state = prev
		}
		s.mu.Unlock()
		return newError(ErrSIPBadRequest, "cannot build the hold offer: %v", err)
	}
	// The sound devices follow the agent's attention at once, not when the
	// far end answers: the call taking over may open them right away.
	if hold {
		s.releaseAudio()
	} else {
		s.claimAudio()
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), reofferTimeout)
		answer, err := dlg.Reoffer(ctx, body)
		cancel()
		s.mu.Lock()
		if s.state != next { // ended meanwhile
			s.mu.Unlock()
			return
		}
		if err != nil {
			s.state = prev // the call stays as it was
			s.applyMediaLocked()
			s.p.publishWarning(ErrSIPBadRequest, "the far end refused the "+map[bool]string{true: "hold", false: "resume"}[hold]+": "+err.Error(), s.ID)
			s.mu.Unlock()
			if hold {
				s.claimAudio()
			} else {
				s.releaseAudio()
			}
			return
		}
		s.applyAnswerLocked(answer)
		switch {
		case hold:
			_ = s.moveLocked(StateHeld)
		case s.remoteHold:
			_ = s.moveLocked(StateRemoteHeld)
		default:
			_ = s.moveLocked(StateConnected)
		}
		s.applyMediaLocked()
		s.p.bus.Publish(event.Hold, HoldInfo{SessionID: s.ID, Held: hold, By: "local"}) // under s.mu: see publishLive
		s.mu.Unlock()
	}()
	return nil
}

// applyAnswerLocked takes the far end's answer to our re-offer (hold,
// resume, a new address): the media goes where it says — a held far end
// may answer with port 0 or no address, which leaves it — and its SRTP key
// is checked.
func (s *Session) applyAnswerLocked(answer []byte) {
	if neg, err := negotiateAnswer(answer, s.p.codecs); err == nil && s.stream != nil && neg.Remote != nil && neg.Remote.Port != 0 {
		s.stream.SetRemote(s.p.viaRelay(neg.Remote))
	}
	s.checkKeyLocked(answer) // srtp.go
}

// ourDirectionLocked is the SDP direction we offer for our hold state.
func (s *Session) ourDirectionLocked(weHold bool) string {
	switch {
	case weHold && s.remoteHold:
		return media.Inactive
	case weHold:
		return media.SendOnly
	case s.remoteHold:
		return media.RecvOnly
	}
	return media.SendRecv
}

// answerDirection is our answer's direction (RFC 3264 §6.1): what we want
// (to send always, to receive unless we hold the far end) within what the
// offer allows (offered, ours as media.Negotiate reports it).
func answerDirection(weHold bool, offered string) string {
	send := offered == media.SendRecv || offered == media.SendOnly
	recv := !weHold && (offered == media.SendRecv || offered == media.RecvOnly)
	switch {
	case send && recv:
		return media.SendRecv
	case send:
		return media.SendOnly
	case recv:
		return media.RecvOnly
	}
	return media.Inactive
}

// OnOffer answers the far end's re-INVITE or UPDATE (signal.DialogHandler):
// hold and resume, a session refresh (same SDP: same answer, no warning),
// or a new address.
func (s *Session) OnOffer(o signal.Offer) ([]byte, int) {
	s.mu.Lock()
	if s.state == StateHolding || s.state == StateResuming {
		s.mu.Unlock()
		return nil, 491 // glare (RFC 3261 §14.2): our own offer is out
	}
	if !s.state.live() {
		s.mu.Unlock()
		return nil, 488
	}
	weHold := s.weHoldLocked()
	if len(o.SDP) == 0 { // an offerless re-INVITE: we offer our current SDP
		body, err := s.nextSDPLocked(s.ourDirectionLocked(weHold))
		s.mu.Unlock()
		if err != nil {
			return nil, 500
		}
		return body, 200
	}
	desc, err := media.ParseDescription(o.SDP)
	var neg media.Negotiated
	if err == nil {
		neg, err = media.Negotiate(desc, s.p.codecs)
	}
	if err == nil && !s.keepsKeyLocked(desc) { // srtp.go
		err = fmt.Errorf("%w: the new offer drops or changes the call's SRTP key; the phone keeps one key per call", media.ErrSRTPPolicy)
	}
	if err != nil {
		s.mu.Unlock()
		s.p.publishWarning(ErrRTCEnterRoomFailed, "refused the far end's new offer: "+err.Error(), s.ID)
		return nil, 488
	}
	wasHeld := s.remoteHold
	s.remoteHold = neg.Direction == media.RecvOnly || neg.Direction == media.Inactive
	switch {
	case s.remoteHold && s.state == StateConnected:
		_ = s.moveLocked(StateRemoteHeld)
	case !s.remoteHold && s.state == StateRemoteHeld:
		_ = s.moveLocked(StateConnected)
	}
	if s.stream != nil && neg.Remote != nil && neg.Remote.Port != 0 && !neg.Remote.IP.IsUnspecified() {
		s.stream.SetRemote(s.p.viaRelay(neg.Remote))
	}
	s.applyMediaLocked()
	body, err := s.nextSDPLocked(answerDirection(weHold, neg.Direction))
	if err == nil && wasHeld != s.remoteHold {
		s.p.bus.Publish(event.Hold, HoldInfo{SessionID: s.ID, Held: s.remoteHold, By: "remote"}) // under s.mu: see publishLive
	}
	s.mu.Unlock()
	if err != nil {
		return nil, 500
	}
	return body, 200
}

// OnDTMF is a digit the far end sent by SIP INFO.
func (s *Session) OnDTMF(d rune) {
	s.p.bus.Publish(event.DTMFReceived, DTMFInfo{SessionID: s.ID, Digit: string(d)})
}

// OnEnd handles the dialog's end (signal.DialogHandler).
func (s *Session) OnEnd(cause error) {
	switch {
	case cause == nil:
		s.mu.Lock()
		xfer := s.xfer
		s.mu.Unlock()
		if xfer != nil && xfer.done {
			s.finish(EndLocalBye, "transferred to "+xfer.target, 0)
			return
		}
		s.finish(EndRemoteBye, "the other party hung up", 0)
	case errors.Is(cause, signal.ErrLocalBye):
	default:
		s.publishLive(func() { s.p.publishError(ErrSIPRequestTimeout, "the call was lost: "+cause.Error(), s.ID) })
		s.finish(EndError, cause.Error(), 0)
	}
}
