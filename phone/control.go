package phone

import (
	"context"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
)

// session finds a session by id; "" means the one the agent is on: the
// ringing call for answer, else the active call, else any.
func (p *Phone) session(id string, prefer CallState) (*Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != "" {
		if s, ok := p.sessions[id]; ok {
			return s, nil
		}
		return nil, errNoSession
	}
	var pick *Session
	for _, s := range p.sessions {
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
	s.mu.Lock()
	state, out, in, dlg := s.state, s.out, s.in, s.dlg
	s.mu.Unlock()
	switch {
	case state == StateEnded:
		return errNoSession
	case state == StateRinging:
		return p.Reject(s.ID)
	case state == StateDialing || state == StateAlerting:
		if s.finish(EndLocalBye, "the agent hung up before it was answered", 487) && out != nil {
			out.Cancel()
		}
	case state == StateAnswering:
		// Answer is sending the 200 OK: it sees the end and sends BYE.
		s.finish(EndLocalBye, "the agent hung up", 0)
		_ = in
	default:
		if s.finish(EndLocalBye, "the agent hung up", 0) {
			s.bye(dlg)
		}
	}
	return nil
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
		if err := st.SendDTMF(digits); err != nil && mode == "rfc4733" {
			return newError(ErrSIPBadRequest, "%v", err)
		}
	}
	if mode == "info" || mode == "both" {
		go func() {
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
