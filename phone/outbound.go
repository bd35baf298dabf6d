package phone

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/sipua"

	"github.com/emiago/sipgo/sip"
)

// Call places a call (the SDK's call{to, remark, uui}) and returns its
// session id at once; the outcome arrives as onAccepted / onEnded.
func (p *Phone) Call(to, remark, uui string) (string, error) {
	if err := p.CheckLogin(); err != nil {
		return "", newError(ErrSIPBadRequest, "cannot call before login: %s", err.(*Error).Message)
	}
	p.mu.Lock()
	ua := p.ua
	if _, err := ua.RequestURI(to); err != nil {
		p.mu.Unlock()
		return "", newError(ErrSIPURIWrongFormat, "'to': %v", err)
	}
	if busy := p.busyLocked(); busy != nil {
		p.mu.Unlock()
		return "", newError(ErrSIPBadRequest, "already in a call (session %s): terminate it first", busy.ID)
	}
	s := &Session{
		ID: newSessionID(), Direction: CallOut, Caller: p.cfg.Account.User, Callee: strings.TrimSpace(to),
		Remark: remark, UUI: uui, started: time.Now(), p: p, done: make(chan struct{}), state: StateDialing,
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	p.sessions[s.ID] = s
	p.mu.Unlock()

	p.bus.Publish(event.NewSession, s.info())
	go p.dial(ctx, ua, s)
	return s.ID, nil
}

// busyLocked is the live session, if any (one line per phone for now).
func (p *Phone) busyLocked() *Session {
	for _, s := range p.sessions {
		return s
	}
	return nil
}

func (p *Phone) dial(ctx context.Context, ua *sipua.UA, s *Session) {
	defer s.cancel()
	conn, err := p.ports.listen(ua.Host())
	if err != nil {
		p.publishError(ErrRTCEnterRoomFailed, err.Error(), "")
		s.end(EndError, err.Error(), 0)
		return
	}
	offer, err := media.Offer(ua.Host(), conn.LocalAddr().(*net.UDPAddr).Port, p.codecs, uint8(p.cfg.Audio.DTMFPayloadType), uint64(time.Now().UnixNano()))
	if err != nil {
		conn.Close()
		s.end(EndError, err.Error(), 0)
		return
	}
	var headers []sip.Header
	if s.UUI != "" {
		// RFC 7433 User-to-User, hex-encoded so any text survives.
		headers = append(headers, sip.NewHeader("User-to-User", hex.EncodeToString([]byte(s.UUI))+";encoding=hex"))
	}
	call, err := ua.Dial(ctx, sipua.DialOptions{
		To:      s.Callee,
		SDP:     offer,
		Headers: headers,
		Timeout: p.cfg.Calls.AnswerTimeout,
		OnProgress: func(code int, reason string) {
			if code == 180 || code == 183 {
				s.setState(StateAlerting)
				p.bus.Publish(event.Ringing, RingingInfo{SessionID: s.ID, Code: code})
			}
		},
	})
	if err != nil {
		conn.Close()
		p.dialFailed(s, err)
		return
	}
	s.mu.Lock()
	s.call = call
	local := s.localEnd
	s.mu.Unlock()
	if local { // terminate raced with the 200 OK
		s.hangup()
		s.end(EndLocalBye, "the agent hung up", 0)
		return
	}
	desc, err := media.ParseDescription(call.RemoteSDP)
	var neg media.Negotiated
	if err == nil {
		neg, err = media.Negotiate(desc, p.codecs)
	}
	if err != nil {
		conn.Close()
		p.publishError(ErrRTCEnterRoomFailed, "the far end's answer has no usable audio: "+err.Error(), "")
		s.hangup()
		s.end(EndError, "no common codec: "+err.Error(), 0)
		return
	}
	if err := s.startMedia(conn, neg); err != nil {
		p.publishError(ErrRTCEnterRoomFailed, "media failed to start: "+err.Error(), "")
		s.hangup()
		s.end(EndError, err.Error(), 0)
		return
	}
	s.connected()
	s.waitEnd(call)
}

// dialFailed maps why an outbound call never connected to onEnded.
func (p *Phone) dialFailed(s *Session, err error) {
	var se *sipua.StatusError
	switch {
	case errors.Is(err, sipua.ErrCanceled):
		s.end(EndLocalBye, "the agent hung up before it was answered", 487)
	case errors.Is(err, sipua.ErrTimeout):
		s.end(EndTimeout, "nobody answered in time", 0)
	case errors.As(err, &se):
		switch se.Code {
		case 486, 600, 603:
			s.end(EndRejected, fmt.Sprintf("the other party rejected the call (%d %s)", se.Code, se.Reason), se.Code)
		case 408, 480:
			s.end(EndTimeout, fmt.Sprintf("nobody answered (%d %s)", se.Code, se.Reason), se.Code)
		default:
			msg := fmt.Sprintf("call failed: %d %s", se.Code, se.Reason)
			if se.Code == 404 || se.Code == 484 || se.Code == 604 {
				msg = fmt.Sprintf("number %s does not exist (%d %s)", s.Callee, se.Code, se.Reason)
			}
			p.publishError(se.Code, msg, s.ID)
			s.end(EndError, msg, se.Code)
		}
	case errors.Is(err, sipua.ErrBadURI):
		p.publishError(ErrSIPURIWrongFormat, err.Error(), s.ID)
		s.end(EndError, err.Error(), 0)
	default:
		p.publishError(ErrSIPRequestTimeout, "call failed: "+err.Error(), s.ID)
		s.end(EndError, err.Error(), 0)
	}
}
