package phone

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"deskphone/hal"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// Session is one call from first ring to hang-up (the SDK's SessionId).
// The fields above mu never change after the session is published.
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

	mu         sync.Mutex // never held across I/O
	state      CallState
	remoteHold bool // the far end holds us (also while we hold it)
	accepted   time.Time
	muted      bool
	note       string // last transfer progress or error, for the display
	out        signal.Outgoing
	in         signal.Incoming
	dlg        signal.Dialog
	conn       *rtpSockets // our RTP and RTCP sockets until the stream owns them
	localSDP   []byte      // our latest SDP (sendrecv); direction is set per offer
	lastSent   []byte      // the last SDP we sent (offer or answer)
	music      bool        // the stream plays the hold music
	sdpVersion uint64      // its o= version (RFC 3264 §8)
	neg        media.Negotiated
	stream     *media.Stream
	capture    hal.Capture
	playback   hal.Playback

	// micFailed and speakerFailed: the device failed to open for this
	// call and onError said so; reopening it (a route change, a resume)
	// and failing again is not reported twice.
	micFailed, speakerFailed bool

	decided  chan struct{} // inbound: answered or rejected, the ring timer stops
	xfer     *transfer
	infoDone chan struct{} // closed when the last DTMF INFO batch is out
}

// SessionState is a session as the control API and the display see it.
type SessionState struct {
	SessionID        string       `json:"sessionId"`
	SessionDirection string       `json:"sessionDirection"`
	State            CallState    `json:"state"`
	RemoteHold       bool         `json:"remoteHold"`
	Caller           string       `json:"callerPhoneNumber"`
	Callee           string       `json:"calleePhoneNumber"`
	PeerName         string       `json:"peerName,omitempty"`
	Remark           string       `json:"remark,omitempty"`
	UUI              string       `json:"uui,omitempty"`
	Muted            bool         `json:"muted"`
	Note             string       `json:"note,omitempty"`
	StartTimestamp   int64        `json:"startTimestamp"`
	AcceptTimestamp  int64        `json:"acceptTimestamp,omitempty"` // Unix ms
	Codec            string       `json:"codec,omitempty"`
	Quality          *QualityInfo `json:"quality,omitempty"`      // RTCP and the E-model (quality.go)
	JitterBuffer     *JitterInfo  `json:"jitterBuffer,omitempty"` // jitterinfo.go
	SRTP             string       `json:"srtp,omitempty"`         // the SRTP suite; "" = audio in clear (never the key)
}

// Peer is the other party's number.
func (st SessionState) Peer() string {
	if st.SessionDirection == CallIn {
		return st.Caller
	}
	return st.Callee
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
		SessionID: s.ID, SessionDirection: s.Direction, State: s.state, RemoteHold: s.remoteHold,
		Caller: s.Caller, Callee: s.Callee, PeerName: s.PeerName, Remark: s.Remark, UUI: s.UUI,
		Muted: s.muted, Note: s.note, StartTimestamp: s.started.UnixMilli(),
	}
	if !s.accepted.IsZero() {
		st.AcceptTimestamp = s.accepted.UnixMilli()
	}
	if s.neg.Codec != nil {
		st.Codec = s.neg.Codec.Name()
	}
	st.SRTP = s.neg.LocalCrypto.Suite
	st.Quality = s.streamQualityLocked()
	st.JitterBuffer = jitterInfo(s.stream)
	return st
}

// State is the session's current state.
func (s *Session) State() CallState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Session) info() SessionInfo {
	return SessionInfo{
		SessionID: s.ID, SessionDirection: s.Direction,
		CallerPhoneNumber: s.Caller, CalleePhoneNumber: s.Callee,
		PeerName: s.PeerName, Remark: s.Remark, UUI: s.UUI, ServerType: ServerType,
	}
}

// sdpLocked builds our SDP with direction dir at the current version.
func (s *Session) sdpLocked(dir string) ([]byte, error) {
	body, err := media.Reshape(s.localSDP, dir, s.sdpVersion)
	if err != nil {
		return nil, err
	}
	return body, nil
}

// nextSDPLocked is the SDP we send next with direction dir: the version
// goes up by one from the last SDP we sent when the body changes, and stays
// when it does not, so a session refresh is answered identically
// (RFC 3264 §8).
func (s *Session) nextSDPLocked(dir string) ([]byte, error) {
	body, err := s.sdpLocked(dir)
	if err == nil && string(body) != string(s.lastSent) {
		s.sdpVersion++
		body, err = s.sdpLocked(dir)
	}
	if err == nil {
		s.lastSent = body
	}
	return body, err
}

// startMedia starts the RTP stream of a negotiated call, and gives it the
// sound devices if the agent talks on it (claimAudio). Called without s.mu.
func (s *Session) startMedia(conn *rtpSockets, neg media.Negotiated) error {
	p := s.p
	sec, err := neg.NewSRTP() // nil in clear
	if err != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
		return err
	}
	st, err := media.NewStream(media.StreamConfig{
		Conn: conn.rtp, RTCPConn: conn.rtcp, RTCPMux: neg.RTCPMux, RTCPPort: neg.RTCPPort, Remote: p.viaRelay(neg.Remote), Codec: neg.Codec,
		PayloadType: neg.PayloadType, DTMFPayloadType: neg.DTMFPayloadType, Ptime: neg.Ptime,
		OnDTMF: func(d rune) { p.bus.Publish(event.DTMFReceived, DTMFInfo{SessionID: s.ID, Digit: string(d)}) },
		Logger: p.log.With("part", "media", "session", s.ID),
		Latch:  p.cfg.Audio.SymmetricRTP, OnDeviceError: s.deviceFailed, SRTP: sec,
	})
	if err != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
		return err
	}
	s.mu.Lock()
	if s.state == StateEnded { // ended while the stream was made
		s.mu.Unlock()
		_ = st.Close()
		return nil
	}
	s.stream = st
	s.applyMediaLocked()
	talking := s.state.active()
	s.mu.Unlock()
	st.Start()
	go s.reportMedia(st) // onAudioVolume, onNetworkQuality (quality.go)
	if talking {
		s.claimAudio()
	}
	return nil
}

// claimAudio gives this session the sound devices: the call the agent
// talks on owns them, and the one it takes them from (held now) goes on
// with music and silence. A device that fails to open is reported and the
// call goes on without it.
// firstFailure sets *failed (a field of s) and reports whether it was not
// set yet.
func (s *Session) firstFailure(failed *bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !*failed
	*failed = true
	return first
}

func (s *Session) claimAudio() {
	p := s.p
	p.mu.Lock()
	prev := p.audioOwner
	p.audioOwner = s
	p.mu.Unlock()
	if prev != nil && prev != s {
		prev.releaseAudio()
	}
	s.mu.Lock()
	have := s.capture != nil || s.playback != nil
	codec, ptime := s.neg.Codec, cmp.Or(s.neg.Ptime, media.DefaultPtime)
	s.mu.Unlock()
	if have || p.audio == nil || codec == nil {
		return
	}
	rate := codec.SampleRate()
	frame := rate * int(ptime/time.Millisecond) / 1000 // one packet: the stream reads and writes whole ones
	var (
		capt hal.Capture
		pb   hal.Playback
	)
	if c, err := p.audio.OpenCapture(rate, frame); err != nil {
		if s.firstFailure(&s.micFailed) {
			p.publishError(deviceCode(err, ErrMicStartFail), fmt.Sprintf("microphone failed to start: %v", err), "the call goes on without it")
		}
	} else {
		capt = c
	}
	if b, err := p.audio.OpenPlayback(rate, frame); err != nil {
		if s.firstFailure(&s.speakerFailed) {
			p.publishError(deviceCode(err, ErrSpeakerStartFail), fmt.Sprintf("speaker failed to start: %v", err), "the call goes on without it")
		}
	} else {
		pb = b
	}
	p.mu.Lock()
	still := p.audioOwner == s
	p.mu.Unlock()
	s.mu.Lock()
	if s.state == StateEnded || s.stream == nil || !still {
		s.mu.Unlock()
		closeDevices(capt, pb)
		return
	}
	s.capture, s.playback = capt, pb
	var src media.AudioSource
	var sink media.AudioSink
	if capt != nil {
		src = capt
	}
	if pb != nil {
		sink = pb
	}
	s.stream.SetDevices(src, sink)
	s.mu.Unlock()
}

// releaseAudio hands the sound devices back: the stream goes on paced by
// its own clock (music or silence out, nothing played).
func (s *Session) releaseAudio() {
	s.mu.Lock()
	capt, pb := s.capture, s.playback
	s.capture, s.playback = nil, nil
	if s.stream != nil {
		s.stream.SetDevices(nil, nil)
	}
	s.mu.Unlock()
	closeDevices(capt, pb)
	s.p.mu.Lock()
	if s.p.audioOwner == s {
		s.p.audioOwner = nil
	}
	s.p.mu.Unlock()
}

// weHoldLocked reports whether we hold the far end: held, resuming (the
// music plays until the far end accepts), or transferring a held call.
func (s *Session) weHoldLocked() bool {
	switch s.state {
	case StateHeld, StateResuming:
		return true
	case StateTransferring:
		return s.xfer != nil && s.xfer.prev == StateHeld
	default:
		return false
	}
}

// applyMediaLocked sets the stream's direction, mute and music from the state.
func (s *Session) applyMediaLocked() {
	st := s.stream
	if st == nil {
		return
	}
	weHold := s.weHoldLocked()
	st.SetDirection(s.ourDirectionLocked(weHold))
	st.SetMuted(s.muted)
	switch {
	case weHold && !s.music && s.neg.Codec != nil:
		st.SetHoldSource(s.p.holdSource(s.neg.Codec.SampleRate()))
		s.music = true
	case !weHold && s.music:
		st.SetHoldSource(nil)
		s.music = false
	}
}

func closeDevices(c hal.Capture, p hal.Playback) {
	if c != nil {
		_ = c.Close()
	}
	if p != nil {
		_ = p.Close()
	}
}

// finish ends the session once: media stops, the session leaves the phone
// and onEnded goes out. It reports false if the session had already ended.
// Network clean-up (BYE, CANCEL, a final response) is the caller's, and
// never waited for here.
func (s *Session) finish(reason, msg string, code int) bool {
	return s.finishIf("", reason, msg, code)
}

// finishIf is finish only while the session is in state from ("" for any
// state): deciding how to end a call and ending it are one step, so a call
// answered meanwhile is not ended as if it still rang.
func (s *Session) finishIf(from CallState, reason, msg string, code int) bool {
	s.mu.Lock()
	if s.state == StateEnded || (from != "" && s.state != from) {
		s.mu.Unlock()
		return false
	}
	s.state = StateEnded
	st, capt, pb, conn := s.stream, s.capture, s.playback, s.conn
	s.stream, s.capture, s.playback, s.conn = nil, nil, nil, nil
	if s.decided != nil {
		select {
		case <-s.decided:
		default:
			close(s.decided)
		}
	}
	s.mu.Unlock()
	var rtp *RTPStats
	if st != nil {
		_ = st.Close()
		c := st.Stats() // final once closed
		s.logQuality(st)
		rtp = &RTPStats{PacketsSent: c.PacketsSent, PacketsReceived: c.PacketsReceived, PacketsLost: c.PacketsLost}
	} else if conn != nil {
		_ = conn.Close() // an unused RTP socket: nothing to flush
	}
	closeDevices(capt, pb)
	s.p.mu.Lock()
	if s.p.audioOwner == s {
		s.p.audioOwner = nil
	}
	s.p.mu.Unlock()
	s.p.removeSession(s)
	s.p.updateWaitingTone()
	s.p.bus.Publish(event.Ended, Ended{Reason: reason, ReasonMessage: msg, SessionID: s.ID, SIPCode: code, RTP: rtp})
	s.p.publishWebEnded(s, reason, msg)
	s.p.agent.CallEnded(s.ID) // after onEnded: busy → arrange follows the call's end
	close(s.done)
	return true
}

// publishLive runs publish (which publishes events of this session) unless
// the session has ended, under s.mu: finish marks the end under s.mu before
// it publishes onEnded, so no event of a session comes after its onEnded.
// The bus never blocks, so publishing under the lock is safe.
func (s *Session) publishLive(publish func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateEnded {
		return false
	}
	publish()
	return true
}

// bye hangs up an established dialog in the background.
func (s *Session) bye(d signal.Dialog) {
	if d == nil {
		return
	}
	sent := make(chan struct{})
	s.p.mu.Lock()
	s.p.byes[sent] = true
	s.p.mu.Unlock()
	go func() {
		defer func() {
			s.p.mu.Lock()
			delete(s.p.byes, sent)
			s.p.mu.Unlock()
			close(sent)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		if err := d.Bye(ctx); err != nil {
			s.p.log.Warn("BYE was not confirmed", "session", s.ID, "error", err)
		}
	}()
}

// keepalive pings the far end inside the dialog: a far end that stops
// answering (crashed, stopped, unplugged) ends the call with Error.
func (s *Session) keepalive(d signal.Dialog) {
	every := s.p.cfg.Calls.Keepalive
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	misses := 0
	heard := s.packetsReceived()
	for {
		select {
		case <-s.done:
			return
		case <-d.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(every, 2*time.Second))
		err := d.Ping(ctx)
		cancel()
		// Signalling can fail while the media path works (the proxy
		// restarting, a link to it down): a far end whose RTP still
		// arrives is alive, and the call stays up (issue 14). A 481 is
		// the far end itself saying the dialog is gone.
		n := s.packetsReceived()
		flowing := n != heard
		heard = n
		switch {
		case err == nil:
			misses = 0
			continue
		case isStatus(err, 481):
		case flowing:
			misses = 0
			s.p.log.Warn("in-dialog keepalive unanswered while the far end's RTP flows: the call stays up", "session", s.ID, "error", err)
			continue
		case isStatus(err, 408):
		default:
			if misses++; misses < 2 {
				continue
			}
		}
		s.publishLive(func() { s.p.publishError(ErrSIPRequestTimeout, "the far end stopped answering: "+err.Error(), s.ID) })
		if s.finish(EndError, "the far end stopped answering ("+err.Error()+")", 408) {
			s.bye(d)
		}
		return
	}
}

// packetsReceived is the call's RTP packet count so far (0 without media).
func (s *Session) packetsReceived() uint64 {
	s.mu.Lock()
	st := s.stream
	s.mu.Unlock()
	if st == nil {
		return 0
	}
	return st.Stats().PacketsReceived
}

func isStatus(err error, code int) bool {
	var se *signal.StatusError
	return errors.As(err, &se) && se.Code == code
}
