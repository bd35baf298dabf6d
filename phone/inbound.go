package phone

import (
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// onIncoming takes a new inbound call: it rings until the agent answers or
// rejects, the caller cancels, or calls.ring_timeout passes. A call beyond
// calls.max_lines is refused with 486 and still reported as a session that
// ends, so no call disappears silently.
func (p *Phone) onIncoming(in signal.Incoming) {
	desc, err := media.ParseDescription(in.SDP())
	if err == nil {
		_, err = media.Negotiate(desc, p.codecs) // can we answer at all?
	}
	if err == nil {
		_, _, err = media.AcceptCrypto(desc, p.cfg.Audio.SRTP) // and as audio.srtp says (srtp.go)
	}
	if err != nil {
		p.publishWarning(ErrRTCEnterRoomFailed, "rejected an incoming call with no usable audio: "+err.Error(), in.Caller().User)
		in.Reject(488, "Not Acceptable Here")
		return
	}
	if p.replaceCall(in, desc) {
		return
	}
	caller, callee := in.Caller(), in.Callee()
	s := &Session{
		ID: p.inboundSessionID(in), Direction: CallIn, Caller: caller.User, Callee: callee.User,
		PeerName: caller.Name, UUI: decodeUUI(in.Header("User-to-User")),
		started: time.Now(), p: p, done: make(chan struct{}), state: StateRinging,
		in: in, decided: make(chan struct{}),
	}
	// The number the customer dialled: P-Called-Party-ID (RFC 3455) when a
	// proxy says it, else the To header.
	if u := userOf(in.Header("P-Called-Party-ID")); u != "" {
		s.Callee = u
	}
	if s.Callee == "" {
		s.Callee = p.cfg.Account.User
	}
	if phrase, why := p.refuseReason(); phrase != "" {
		p.refuse(s, EndLocalBye, 480, phrase, fmt.Sprintf("refused: %s (answered 480 %s; agent.refuse_unavailable)", why, phrase))
		return
	}
	if err := p.addSession(s); err != nil {
		p.refuse(s, EndTimeout, 486, "Busy Here", fmt.Sprintf("missed call: all %d lines were busy (answered 486 Busy Here)", p.cfg.Calls.MaxLines))
		return
	}
	in.Ring()
	p.updateWaitingTone()
	p.bus.Publish(event.NewSession, s.info())
	p.publishWebCallIn(s)
	s.markBusy()
	go s.ring()
}

// inboundSessionID is the contact center's session id when its INVITE
// carries one, else a new one.
func (p *Phone) inboundSessionID(in signal.Incoming) string {
	if h := p.cfg.Calls.SessionIDHeader; h != "" {
		if v := strings.TrimSpace(in.Header(h)); v != "" && len(v) <= 128 && !strings.ContainsAny(v, " \t\r\n") {
			p.mu.Lock()
			_, taken := p.sessions[v]
			p.mu.Unlock()
			if !taken {
				return v
			}
		}
	}
	return newSessionID()
}

// decodeUUI reads an RFC 7433 User-to-User value ("hex;encoding=hex").
func decodeUUI(v string) string {
	if v == "" {
		return ""
	}
	data, params, _ := strings.Cut(v, ";")
	if strings.Contains(strings.ToLower(params), "encoding=hex") {
		if b, err := hex.DecodeString(strings.TrimSpace(data)); err == nil {
			return string(b)
		}
	}
	return strings.TrimSpace(data)
}

// ring waits for the caller to give up or the ring timeout; the agent's
// answer or reject closes s.decided.
func (s *Session) ring() {
	timer := time.NewTimer(s.p.cfg.Calls.RingTimeout)
	defer timer.Stop()
	select {
	case <-s.decided:
	case <-s.in.Canceled():
		s.finishIf(StateRinging, EndRemoteCancel, "the caller hung up before it was answered", 487)
	case <-timer.C:
		if s.finishIf(StateRinging, EndTimeout, "nobody answered in time", 480) {
			s.in.Reject(480, "Temporarily Unavailable")
		}
	}
}

// Answer picks up a ringing inbound call. The call being talked on, if
// any, is put on hold (call waiting). It returns at once.
func (p *Phone) Answer(sessionID string) error {
	s, err := p.session(sessionID, StateRinging)
	if err != nil {
		return err
	}
	calls := p.signalling()
	s.mu.Lock()
	if s.state != StateRinging || s.Direction != CallIn {
		st := s.state
		s.mu.Unlock()
		return newError(ErrAnswerFailure, "session %s is not ringing (it is %s %s)", s.ID, s.Direction, st)
	}
	offer, err := media.ParseDescription(s.in.SDP())
	if err != nil {
		s.mu.Unlock()
		return newError(ErrAnswerFailure, "the caller's offer cannot be read: %v", err)
	}
	conn, err := p.ports.listen(p.rtpBindHost(calls.Host()))
	if err != nil {
		s.mu.Unlock()
		return newError(ErrRTCEnterRoomFailed, "%v", err)
	}
	// o= id and version; later SDPs count up from it
	ver := uint64(time.Now().UnixNano())
	body, neg, err := media.AnswerSecure(offer, p.codecs, p.sdpHost(calls.Host()), conn.LocalAddr().(*net.UDPAddr).Port, uint8(p.cfg.Audio.DTMFPayloadType), ver, p.cfg.Audio.SRTP) //nolint:gosec // G115: config checks 96-127
	if err != nil {
		s.mu.Unlock()
		_ = conn.Close() // an unused RTP socket: nothing to flush
		return newError(ErrRTCEnterRoomFailed, "cannot answer: %v", err)
	}
	_ = s.moveLocked(StateAnswering)
	close(s.decided)
	s.localSDP, s.lastSent, s.sdpVersion, s.neg = body, body, ver, neg
	s.remoteHold = neg.Direction == media.RecvOnly || neg.Direction == media.Inactive
	s.warnClear(neg)
	in := s.in
	s.mu.Unlock()

	p.holdOthers(s)
	p.updateWaitingTone()
	d, err := in.Answer(body, s)
	if err != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
		s.finish(EndError, "answering failed: "+err.Error(), 0)
		return newError(ErrAnswerFailure, "answering failed: %v", err)
	}
	s.mu.Lock()
	if s.state != StateAnswering { // ended meanwhile (caller cancelled, agent terminated)
		s.mu.Unlock()
		_ = conn.Close() // an unused RTP socket: nothing to flush
		s.bye(d)
		return nil
	}
	s.dlg = d
	_ = s.moveLocked(StateConnected)
	s.accepted = time.Now()
	s.mu.Unlock()
	s.connected(conn, neg, d)
	return nil
}

// Reject declines a ringing inbound call (603 Decline). The agent ended it,
// so onEnded says LocalBye (Rejected is for the far end refusing).
func (p *Phone) Reject(sessionID string) error {
	s, err := p.session(sessionID, StateRinging)
	if err != nil {
		return err
	}
	// Only a call still ringing: one answered meanwhile is not rejected.
	if s.Direction == CallIn && s.finishIf(StateRinging, EndLocalBye, "the agent rejected the call", 603) {
		s.in.Reject(603, "Decline")
		return nil
	}
	return newError(ErrAnswerFailure, "session %s is not ringing (it is %s %s)", s.ID, s.Direction, s.State())
}

// updateWaitingTone plays the call-waiting tone on the call being talked on
// while another call rings, and stops it when none does.
func (p *Phone) updateWaitingTone() {
	list := p.sessionList()
	ringing := false
	for _, s := range list {
		if s.State() == StateRinging {
			ringing = true
		}
	}
	for _, s := range list {
		s.mu.Lock()
		if s.stream != nil {
			s.stream.SetAlert(ringing && s.state.live())
		}
		s.mu.Unlock()
	}
	p.updateRinger()
}

// userOf is the user part of a name-addr such as "Sales" <sip:4001@pbx>.
func userOf(v string) string {
	_, rest, ok := strings.Cut(v, "sip:")
	if !ok {
		_, rest, ok = strings.Cut(v, "tel:")
	}
	if !ok {
		return ""
	}
	end := strings.IndexAny(rest, "@;>")
	if end < 0 {
		end = len(rest)
	}
	return rest[:end]
}

// refuse answers an inbound call with an error at once, and still reports
// it as a session that ends, so no call disappears silently. reason is
// LocalBye when the agent's status refused it (the seat said no), Timeout
// when no line was free (a missed call).
func (p *Phone) refuse(s *Session, reason string, code int, phrase, msg string) {
	s.in.Reject(code, phrase)
	p.bus.Publish(event.NewSession, s.info())
	p.publishWebCallIn(s)
	s.state = StateEnded
	p.bus.Publish(event.Ended, Ended{Reason: reason, ReasonMessage: msg, SessionID: s.ID, SIPCode: code})
	p.publishWebEnded(s, reason, msg)
	close(s.done)
}
