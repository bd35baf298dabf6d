package phone

import (
	"context"
	"errors"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
)

// session finds a session by id; "" means the one the agent is on: the
// ringing call for answer, else the active call, else any.
func (p *Phone) session(id string, prefer CallState) (*Session, error) {
	if id != "" {
		p.mu.Lock()
		defer p.mu.Unlock()
		if s, ok := p.sessions[id]; ok {
			return s, nil
		}
		return nil, errNoSession
	}
	// Not under p.mu: a session may hold its own lock while it takes p.mu
	// (the hold music), so p.mu is never held while taking a session's.
	var pick *Session
	for _, s := range p.sessionList() {
		st := s.State()
		switch {
		case st == prefer:
			return s, nil
		case pick == nil, st.active() && !pick.State().active():
			pick = s
		}
	}
	if pick == nil {
		return nil, &Error{Code: ErrSIPBadRequest, Message: "there is no call"}
	}
	return pick, nil
}

// Terminate ends a session whatever its state and returns at once: CANCEL
// while dialling, 603 while ringing, BYE when connected. onEnded (LocalBye)
// is published before it returns; the network clean-up runs behind it.
func (p *Phone) Terminate(sessionID string) error {
	s, err := p.session(sessionID, "")
	if err != nil {
		return err
	}
	// How a call ends depends on its state, which the far end may change
	// meanwhile (a 200 OK, a NOTIFY): each attempt ends the call only in the
	// state it was decided for, and a call that moved on is decided again.
	for {
		switch state := s.State(); state {
		case StateEnded:
			return errNoSession
		case StateRinging:
			if s.finishIf(state, EndLocalBye, "the agent rejected the call", 603) {
				s.in.Reject(603, "Decline")
				return nil
			}
		case StateDialing, StateAlerting:
			if s.finishIf(state, EndLocalBye, "the agent hung up before it was answered", 487) {
				s.mu.Lock()
				out := s.out // nil: Dial has not returned, and Call cancels
				s.mu.Unlock()
				if out != nil {
					out.Cancel() // a 200 OK after this reaches OnAnswer, which sends BYE
				}
				return nil
			}
		case StateAnswering:
			// Answer is sending the 200 OK: it sees the end and sends BYE.
			if s.finishIf(state, EndLocalBye, "the agent hung up", 0) {
				return nil
			}
		default:
			if s.finishIf(state, EndLocalBye, "the agent hung up", 0) {
				s.mu.Lock()
				dlg := s.dlg // set before the call went live, never after the end
				s.mu.Unlock()
				s.bye(dlg)
				return nil
			}
		}
	}
}

// SendDTMF sends digits (0-9 * # A-D) on a connected call: RFC 4733
// events, SIP INFO, or both, as audio.dtmf_mode says.
func (p *Phone) SendDTMF(sessionID, digits string) error {
	s, err := p.session(sessionID, StateConnected)
	if err != nil {
		return err
	}
	if err := media.ValidateDigits(digits); err != nil {
		return newError(ErrSIPBadRequest, "%v", err)
	}
	s.mu.Lock()
	st, dlg, live := s.stream, s.dlg, s.state.live()
	s.mu.Unlock()
	if !live || dlg == nil {
		return newError(ErrSIPBadRequest, "session %s is not connected: DTMF needs an answered call", s.ID)
	}
	mode := p.cfg.Audio.DTMFMode
	if mode != "info" {
		if st == nil {
			return newError(ErrSIPBadRequest, "session %s has no media yet", s.ID)
		}
		err := st.SendDTMF(digits)
		switch {
		case errors.Is(err, media.ErrNoDTMF) && mode == "rfc4733":
			// No telephone-event at the audio's clock (Opus with a far end
			// that has only telephone-event/8000, like baresip): SIP INFO.
			mode = "info"
		case err != nil && mode == "rfc4733":
			return newError(ErrSIPBadRequest, "%v", err)
		}
	}
	if mode == "info" || mode == "both" {
		// One INFO sender per call at a time, in the order the digits were
		// given: each batch waits for the batch before it.
		s.mu.Lock()
		prev, done := s.infoDone, make(chan struct{})
		s.infoDone = done
		s.mu.Unlock()
		go func() {
			defer close(done)
			if prev != nil {
				<-prev
			}
			for _, d := range digits {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := dlg.Info(ctx, "application/dtmf-relay", []byte("Signal="+string(d)+"\r\nDuration=160\r\n"))
				cancel()
				if err != nil {
					p.publishWarning(ErrSIPBadRequest, "DTMF by SIP INFO failed: "+err.Error(), s.ID)
					return
				}
			}
		}()
	}
	return nil
}

// Mute stops sending the microphone (silence goes instead).
func (p *Phone) Mute(sessionID string) error { return p.setMuted(sessionID, true) }

// Unmute sends the microphone again.
func (p *Phone) Unmute(sessionID string) error { return p.setMuted(sessionID, false) }

func (p *Phone) setMuted(sessionID string, muted bool) error {
	s, err := p.session(sessionID, StateConnected)
	if err != nil {
		return err
	}
	s.mu.Lock()
	changed := s.muted != muted
	s.muted = muted
	s.applyMediaLocked()
	s.mu.Unlock()
	if changed {
		p.bus.Publish(event.Muted, MutedInfo{SessionID: s.ID, Muted: muted})
	}
	return nil
}
