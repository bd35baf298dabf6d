package phone

import (
	"encoding/hex"
	"net"
	"strings"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/sipua"
)

// onInvite takes a new inbound call: it rings until the agent answers or
// rejects, the caller cancels, or calls.ring_timeout passes.
func (p *Phone) onInvite(in *sipua.Incoming) {
	desc, err := media.ParseDescription(in.SDP())
	if err == nil {
		_, err = media.Negotiate(desc, p.codecs) // can we answer at all?
	}
	if err != nil {
		p.publishWarning(ErrRTCEnterRoomFailed, "rejected an incoming call with no usable audio: "+err.Error(), in.FromUser())
		go func() { _ = in.Reject(488, "Not Acceptable Here") }()
		return
	}
	p.mu.Lock()
	if busy := p.busyLocked(); busy != nil {
		p.mu.Unlock()
		p.publishWarning(486, "rejected a call from "+in.FromUser()+" while in another call", busy.ID)
		go func() { _ = in.Reject(486, "Busy Here") }()
		return
	}
	s := &Session{
		ID: newSessionID(), Direction: CallIn, Caller: in.FromUser(), Callee: p.cfg.Account.User,
		PeerName: in.FromName(), UUI: decodeUUI(in.Header("User-to-User")),
		started: time.Now(), p: p, done: make(chan struct{}), state: StateRinging,
		incoming: in, decide: make(chan decision),
	}
	p.sessions[s.ID] = s
	p.mu.Unlock()

	if err := in.Ring(); err != nil {
		p.log.Warn("180 Ringing failed", "error", err)
	}
	p.bus.Publish(event.NewSession, s.info())
	go p.ring(s, desc)
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

func (p *Phone) ring(s *Session, offer *media.Description) {
	in := s.incoming
	timer := time.NewTimer(p.cfg.Calls.RingTimeout)
	defer timer.Stop()
	for {
		select {
		case <-in.Canceled():
			s.end(EndRemoteCancel, "the caller hung up before it was answered", 487)
			return
		case <-timer.C:
			_ = in.Reject(480, "Temporarily Unavailable")
			s.end(EndTimeout, "nobody answered in time", 480)
			return
		case d := <-s.decide:
			if !d.answer {
				s.mu.Lock()
				s.localEnd = true
				s.mu.Unlock()
				err := in.Reject(603, "Decline")
				d.result <- err
				s.end(EndRejected, "the agent rejected the call", 603)
				return
			}
			err := p.answer(s, offer)
			d.result <- err
			if err != nil {
				if e, ok := err.(*Error); ok && e.Code == ErrAnswerFailure {
					return // ended inside answer
				}
				continue // e.g. no free RTP port: keep ringing
			}
			s.waitEnd(s.call)
			return
		}
	}
}

// answer sends 200 OK with our SDP answer and starts media.
func (p *Phone) answer(s *Session, offer *media.Description) error {
	p.mu.Lock()
	ua := p.ua
	p.mu.Unlock()
	conn, err := p.ports.listen(ua.Host())
	if err != nil {
		return newError(ErrRTCEnterRoomFailed, "%v", err)
	}
	body, neg, err := media.Answer(offer, p.codecs, ua.Host(), conn.LocalAddr().(*net.UDPAddr).Port, uint8(p.cfg.Audio.DTMFPayloadType), uint64(time.Now().UnixNano()))
	if err != nil {
		conn.Close()
		return newError(ErrRTCEnterRoomFailed, "cannot answer: %v", err)
	}
	call, err := s.incoming.Answer(body)
	if err != nil {
		conn.Close()
		s.end(EndError, "answering failed: "+err.Error(), 0)
		return newError(ErrAnswerFailure, "answering failed: %v", err)
	}
	s.mu.Lock()
	s.call = call
	s.mu.Unlock()
	if err := s.startMedia(conn, neg); err != nil {
		p.publishError(ErrRTCEnterRoomFailed, "media failed to start: "+err.Error(), s.ID)
		s.hangup()
		s.end(EndError, err.Error(), 0)
		return newError(ErrAnswerFailure, "media failed to start: %v", err)
	}
	s.connected()
	return nil
}
