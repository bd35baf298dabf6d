package phone

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// maxUUI bounds the user data a call carries (RFC 7433 has no limit; the
// contact center keeps it in the call record).
const maxUUI = 4096

// Call places a call (the SDK's call{to, remark, uui}) and returns its
// session id at once; the outcome arrives as onAccepted / onEnded. A call
// that is being talked on is put on hold first.
func (p *Phone) Call(to, remark, uui string) (string, error) {
	return p.call(to, remark, uui, "")
}

// call places a call; replaces is set when it replaces another dialog (we
// are the transferee of an attended transfer).
func (p *Phone) call(to, remark, uui, replaces string) (string, error) {
	if err := p.loggedIn(); err != nil {
		msg := err.Error()
		if e, ok := errors.AsType[*Error](err); ok {
			msg = e.Message
		}
		return "", newError(ErrSIPBadRequest, "cannot call before login: %s", msg)
	}
	calls := p.signalling()
	if calls == nil {
		return "", newError(ErrSIPBadRequest, "cannot call before login")
	}
	if err := calls.CheckTarget(to); err != nil {
		return "", newError(ErrSIPURIWrongFormat, "'to': %v", err)
	}
	if len(uui) > maxUUI {
		return "", newError(ErrSIPBadRequest, "'uui' is %d bytes; at most %d fit in a call", len(uui), maxUUI)
	}
	if strings.ContainsAny(remark, "\r\n") {
		return "", newError(ErrSIPBadRequest, "'remark' has a line break; give one line")
	}
	conn, err := p.ports.listen(p.rtpBindHost(calls.Host()))
	if err != nil {
		return "", newError(ErrRTCEnterRoomFailed, "%v", err)
	}
	ver := uint64(time.Now().UnixNano()) // o= id and version; later SDPs count up from it
	s := &Session{
		ID: newSessionID(), Direction: CallOut, Caller: p.cfg.Account.User, Callee: strings.TrimSpace(to),
		Remark: remark, UUI: uui, started: time.Now(), p: p, done: make(chan struct{}),
		state: StateDialing, conn: conn, sdpVersion: ver,
	}
	s.localSDP, err = media.OfferSecure(p.sdpHost(calls.Host()), conn.LocalAddr().(*net.UDPAddr).Port, p.codecs, uint8(p.cfg.Audio.DTMFPayloadType), ver, p.cfg.Audio.SRTP) //nolint:gosec // G115: config checks 96-127
	s.lastSent = s.localSDP
	if err != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
		return "", newError(ErrRTCEnterRoomFailed, "%v", err)
	}
	if err := p.addSession(s); err != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
		return "", err
	}
	p.holdOthers(s)
	p.bus.Publish(event.NewSession, s.info())
	p.bus.Publish(event.WebCallOuted, WebCallOuted{SessionID: s.ID, CallerPhoneNumber: s.Caller, CalleePhoneNumber: s.Callee, ServerType: ServerType})
	s.markBusy()

	var hdrs []signal.Header
	if uui != "" {
		// RFC 7433 User-to-User, hex-encoded so any text survives.
		hdrs = append(hdrs, signal.Header{Name: "User-to-User", Value: hex.EncodeToString([]byte(uui)) + ";encoding=hex"})
	}
	out, err := calls.Dial(signal.DialRequest{
		To: s.Callee, SDP: s.localSDP, Headers: hdrs, Replaces: replaces, Timeout: p.cfg.Calls.AnswerTimeout, Handler: s,
	}, s)
	if err != nil {
		s.fail(err)
		return s.ID, nil
	}
	s.mu.Lock()
	s.out = out
	ended := s.state == StateEnded
	s.mu.Unlock()
	if ended { // terminated while the INVITE was being built
		out.Cancel()
	}
	return s.ID, nil
}

// OnProgress is a provisional response to our INVITE (signal.DialEvents).
func (s *Session) OnProgress(code int, _ string) {
	if code != 180 && code != 183 {
		return
	}
	s.mu.Lock()
	if s.state == StateDialing && s.moveLocked(StateAlerting) == nil {
		s.p.bus.Publish(event.Ringing, RingingInfo{SessionID: s.ID, Code: code}) // under s.mu: see publishLive
	}
	s.mu.Unlock()
}

// OnAnswer handles the far end answering (signal.DialEvents).
func (s *Session) OnAnswer(d signal.Dialog) {
	s.mu.Lock()
	if s.state != StateDialing && s.state != StateAlerting {
		s.mu.Unlock()
		s.bye(d) // terminated meanwhile: hang up what answered
		return
	}
	s.dlg = d
	neg, err := s.negotiateSecureLocked(d.RemoteSDP()) // srtp.go
	if err != nil {
		s.p.publishError(ErrRTCEnterRoomFailed, "the far end's answer has no usable audio: "+err.Error(), s.ID)
		s.mu.Unlock()
		if s.finish(EndError, "no usable audio: "+err.Error(), 0) {
			s.bye(d)
		}
		return
	}
	s.neg = neg
	s.remoteHold = neg.Direction == media.RecvOnly || neg.Direction == media.Inactive
	_ = s.moveLocked(StateConnected)
	s.accepted = time.Now()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	s.connected(conn, neg, d)
}

// connected starts media and announces the call (both directions).
func (s *Session) connected(conn *rtpSockets, neg media.Negotiated, d signal.Dialog) {
	s.p.agent.CallTalked(s.ID) // its end starts the wrap-up
	if err := s.startMedia(conn, neg); err != nil {
		s.publishLive(func() { s.p.publishError(ErrRTCEnterRoomFailed, "media failed to start: "+err.Error(), s.ID) })
		if s.finish(EndError, err.Error(), 0) {
			s.bye(d)
		}
		return
	}
	// Ended while the media started (the agent hung up, the far end sent
	// BYE): onEnded is out, and no onAccepted may follow it.
	if !s.publishLive(func() {
		s.p.bus.Publish(event.Accepted, SessionRef{SessionID: s.ID})
		if s.Direction == CallOut {
			s.p.bus.Publish(event.WebCalloutAccepted, WebSession{SessionID: s.ID})
		} else {
			s.p.bus.Publish(event.WebUserAccessed, WebSession{SessionID: s.ID})
		}
	}) {
		return
	}
	go s.keepalive(d)
	go s.watchMedia(d)
}

func negotiateAnswer(body []byte, codecs []media.Codec) (media.Negotiated, error) {
	desc, err := media.ParseDescription(body)
	if err != nil {
		return media.Negotiated{}, err
	}
	return media.Negotiate(desc, codecs)
}

// OnFail handles a call that never connected (signal.DialEvents).
func (s *Session) OnFail(err error) { s.fail(err) }

func (s *Session) fail(err error) {
	p := s.p
	var se *signal.StatusError
	switch {
	case errors.Is(err, signal.ErrCanceled):
		s.finish(EndLocalBye, "the agent hung up before it was answered", 487)
	case errors.Is(err, signal.ErrTimeout):
		s.finish(EndTimeout, "nobody answered in time", 0)
	case errors.As(err, &se):
		switch se.Code {
		case 486, 600, 603:
			s.finish(EndRejected, fmt.Sprintf("the other party rejected the call (%d %s)", se.Code, se.Reason), se.Code)
		case 408, 480:
			s.finish(EndTimeout, fmt.Sprintf("nobody answered (%d %s)", se.Code, se.Reason), se.Code)
		default:
			msg := fmt.Sprintf("call failed: %d %s", se.Code, se.Reason)
			if se.Code == 404 || se.Code == 484 || se.Code == 604 {
				msg = fmt.Sprintf("number %s does not exist (%d %s)", s.Callee, se.Code, se.Reason)
			}
			if se.Code == 488 {
				msg += p.srtpHint()
			}
			s.publishLive(func() { p.publishError(se.Code, msg, s.ID) })
			s.finish(EndError, msg, se.Code)
		}
	case errors.Is(err, signal.ErrBadURI):
		s.publishLive(func() { p.publishError(ErrSIPURIWrongFormat, err.Error(), s.ID) })
		s.finish(EndError, err.Error(), 0)
	default:
		s.publishLive(func() { p.publishError(ErrSIPRequestTimeout, "call failed: "+err.Error(), s.ID) })
		s.finish(EndError, err.Error(), 0)
	}
}
