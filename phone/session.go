package phone

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"time"

	"deskphone/hal"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/sipua"
)

// Session states.
const (
	StateDialing   = "dialing"   // outbound: INVITE sent
	StateAlerting  = "alerting"  // outbound: the far end rings (180/183)
	StateRinging   = "ringing"   // inbound: our phone rings
	StateConnected = "connected" // answered, media flowing
	StateEnded     = "ended"
)

// Session is one call from first ring to hang-up (the SDK's SessionId).
type Session struct {
	ID        string
	Direction string
	Caller    string
	Callee    string
	PeerName  string
	Remark    string
	UUI       string
	started   time.Time

	p    *Phone
	done chan struct{} // closed once onEnded is out

	mu        sync.Mutex
	state     string
	accepted  time.Time
	muted     bool
	localEnd  bool // the agent ended it (BYE, CANCEL or reject)
	cancel    context.CancelFunc
	incoming  *sipua.Incoming
	decide    chan decision // inbound: answer or reject
	call      *sipua.Call
	stream    *media.Stream
	capture   hal.Capture
	playback  hal.Playback
	endedOnce sync.Once
}

type decision struct {
	answer bool
	result chan error
}

// SessionState is a session as the control API shows it.
type SessionState struct {
	SessionID        string `json:"sessionId"`
	SessionDirection string `json:"sessionDirection"`
	State            string `json:"state"`
	Caller           string `json:"callerPhoneNumber"`
	Callee           string `json:"calleePhoneNumber"`
	PeerName         string `json:"peerName,omitempty"`
	Remark           string `json:"remark,omitempty"`
	Muted            bool   `json:"muted"`
	StartTimestamp   int64  `json:"startTimestamp"`
	AcceptTimestamp  int64  `json:"acceptTimestamp,omitempty"`
	Codec            string `json:"codec,omitempty"`
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Session) snapshot() SessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SessionState{
		SessionID: s.ID, SessionDirection: s.Direction, State: s.state,
		Caller: s.Caller, Callee: s.Callee, PeerName: s.PeerName, Remark: s.Remark,
		Muted: s.muted, StartTimestamp: s.started.Unix(),
	}
	if !s.accepted.IsZero() {
		st.AcceptTimestamp = s.accepted.Unix()
	}
	if s.stream != nil {
		st.Codec = s.stream.Codec().Name()
	}
	return st
}

func (s *Session) setState(state string) {
	s.mu.Lock()
	s.state = state
	s.mu.Unlock()
}

func (s *Session) info() SessionInfo {
	return SessionInfo{
		SessionID: s.ID, SessionDirection: s.Direction,
		CallerPhoneNumber: s.Caller, CalleePhoneNumber: s.Callee,
		PeerName: s.PeerName, Remark: s.Remark, UUI: s.UUI, ServerType: ServerType,
	}
}

// startMedia opens the sound devices and the RTP stream for a negotiated
// call. A sound device that fails is reported and replaced by silence: the
// call goes on.
func (s *Session) startMedia(conn *net.UDPConn, neg media.Negotiated) error {
	p := s.p
	rate := neg.Codec.SampleRate()
	frame := rate / 50 // 20 ms
	var src media.AudioSource
	var sink media.AudioSink
	if p.audio != nil {
		if c, err := p.audio.OpenCapture(rate, frame); err != nil {
			p.publishError(ErrMicStartFail, fmt.Sprintf("microphone failed to start: %v", err), "the call goes on without it")
		} else {
			s.capture, src = c, c
		}
		if pb, err := p.audio.OpenPlayback(rate, frame); err != nil {
			p.publishError(ErrSpeakerStartFail, fmt.Sprintf("speaker failed to start: %v", err), "the call goes on without it")
		} else {
			s.playback, sink = pb, pb
		}
	}
	st, err := media.NewStream(media.StreamConfig{
		Conn:            conn,
		Remote:          neg.Remote,
		Codec:           neg.Codec,
		PayloadType:     neg.PayloadType,
		DTMFPayloadType: neg.DTMFPayloadType,
		Source:          src,
		Sink:            sink,
		OnDTMF: func(d rune) {
			p.bus.Publish(event.DTMFReceived, DTMFInfo{SessionID: s.ID, Digit: string(d)})
		},
		Logger: p.log.With("part", "media", "session", s.ID),
	})
	if err != nil {
		s.closeDevices()
		return err
	}
	s.mu.Lock()
	s.stream = st
	muted := s.muted
	s.mu.Unlock()
	st.SetMuted(muted)
	st.Start()
	return nil
}

func (s *Session) closeDevices() {
	if s.capture != nil {
		_ = s.capture.Close()
	}
	if s.playback != nil {
		_ = s.playback.Close()
	}
}

// connected marks the session answered and publishes onAccepted.
func (s *Session) connected() {
	s.mu.Lock()
	s.state = StateConnected
	s.accepted = time.Now()
	s.mu.Unlock()
	s.p.bus.Publish(event.Accepted, SessionRef{SessionID: s.ID})
}

// waitEnd blocks until the dialog ends and reports who ended it.
func (s *Session) waitEnd(call *sipua.Call) {
	<-call.Done()
	s.mu.Lock()
	local := s.localEnd
	s.mu.Unlock()
	if local {
		s.end(EndLocalBye, "the agent hung up", 0)
	} else {
		s.end(EndRemoteBye, "the other party hung up", 0)
	}
}

// end stops media, removes the session and publishes onEnded once.
func (s *Session) end(reason, msg string, code int) {
	s.endedOnce.Do(func() {
		s.mu.Lock()
		s.state = StateEnded
		st := s.stream
		s.mu.Unlock()
		if st != nil {
			_ = st.Close()
		}
		s.closeDevices()
		s.p.mu.Lock()
		delete(s.p.sessions, s.ID)
		s.p.mu.Unlock()
		s.p.bus.Publish(event.Ended, Ended{Reason: reason, ReasonMessage: msg, SessionID: s.ID, SIPCode: code})
		close(s.done)
	})
}

// hangup sends BYE on an established call.
func (s *Session) hangup() {
	s.mu.Lock()
	s.localEnd = true
	call := s.call
	s.mu.Unlock()
	if call == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		s.p.log.Warn("BYE was not answered; ending the call locally", "session", s.ID, "error", err)
		s.end(EndLocalBye, "the agent hung up (the far end did not confirm)", 0)
	}
}
