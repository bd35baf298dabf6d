package phone

import (
	"deskphone/phone/event"
	"deskphone/phone/media"
)

// session finds a session by id; "" means the current (only) one.
func (p *Phone) session(id string) (*Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id == "" {
		if s := p.busyLocked(); s != nil {
			return s, nil
		}
		return nil, &Error{Code: ErrSIPBadRequest, Message: "there is no call"}
	}
	if s, ok := p.sessions[id]; ok {
		return s, nil
	}
	return nil, errNoSession
}

// Answer picks up a ringing inbound call.
func (p *Phone) Answer(sessionID string) error {
	return p.decideInbound(sessionID, true)
}

// Reject declines a ringing inbound call (603).
func (p *Phone) Reject(sessionID string) error {
	return p.decideInbound(sessionID, false)
}

func (p *Phone) decideInbound(sessionID string, answer bool) error {
	s, err := p.session(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if s.Direction != CallIn || state != StateRinging {
		return newError(ErrAnswerFailure, "session %s is not ringing (it is %s %s)", s.ID, s.Direction, state)
	}
	d := decision{answer: answer, result: make(chan error, 1)}
	select {
	case s.decide <- d:
		return <-d.result
	case <-s.done:
		return newError(ErrAnswerFailure, "the call ended before it could be answered")
	}
}

// Terminate ends a session whatever its state: CANCEL while dialling,
// reject while ringing, BYE when connected.
func (p *Phone) Terminate(sessionID string) error {
	s, err := p.session(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	state, dir := s.state, s.Direction
	s.localEnd = true
	cancel := s.cancel
	s.mu.Unlock()
	switch {
	case state == StateRinging && dir == CallIn:
		return p.Reject(s.ID)
	case state == StateDialing || state == StateAlerting:
		cancel()
	case state == StateConnected:
		go s.hangup()
	}
	return nil
}

// SendDTMF sends digits (0-9 * # A-D) as RFC 4733 events on a connected call.
func (p *Phone) SendDTMF(sessionID, digits string) error {
	s, err := p.session(sessionID)
	if err != nil {
		return err
	}
	if err := media.ValidateDigits(digits); err != nil {
		return newError(ErrSIPBadRequest, "%v", err)
	}
	s.mu.Lock()
	st := s.stream
	s.mu.Unlock()
	if st == nil {
		return newError(ErrSIPBadRequest, "session %s is not connected: DTMF needs an answered call", s.ID)
	}
	if err := st.SendDTMF(digits); err != nil {
		return newError(ErrSIPBadRequest, "%v", err)
	}
	return nil
}

// Mute stops sending the microphone (silence goes instead).
func (p *Phone) Mute(sessionID string) error { return p.setMuted(sessionID, true) }

// Unmute sends the microphone again.
func (p *Phone) Unmute(sessionID string) error { return p.setMuted(sessionID, false) }

func (p *Phone) setMuted(sessionID string, muted bool) error {
	s, err := p.session(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	changed := s.muted != muted
	s.muted = muted
	st := s.stream
	s.mu.Unlock()
	if st != nil {
		st.SetMuted(muted)
	}
	if changed {
		p.bus.Publish(event.Muted, MutedInfo{SessionID: s.ID, Muted: muted})
	}
	return nil
}
