package phone

import (
	"math"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
)

// A call's media reports: onNetworkQuality from RTCP and the E-model
// (media/rtcp.go, media/quality.go), onAudioVolume from the stream's level
// meters, the same figures in /v1/state, and a log line at the call's end.

// How often a call reports while it is up.
const (
	volumeEvery  = 400 * time.Millisecond // "a few times a second"
	qualityEvery = 2 * time.Second        // RTCP reports come every ~5 s; this shows each soon after
)

// QualityInfo is onNetworkQuality's payload: the SDK's {quality} on its
// scale (0 Unknown, 1 Excellent, 2 Good, 3 Poor, 4 Bad, 5 Vbad, 6 Down),
// and (phone) the figures behind it. It is also a session's "quality" in
// /v1/state.
type QualityInfo struct {
	SessionID string `json:"sessionId,omitempty"` // (phone)
	Quality   int    `json:"quality"`
	// (phone) the E-model's mean opinion score (1–4.5; 0 before RTCP has
	// measured anything), the round-trip time (ms; null until the far end
	// has answered one of our sender reports), the interarrival jitter of
	// the audio received (ms), the share of it lost in the last report
	// interval (%), and the same two as the far end reports them of our
	// audio.
	MOS          float64  `json:"mos"`
	RTT          *float64 `json:"rtt"`
	Jitter       float64  `json:"jitter"`
	Loss         float64  `json:"loss"`
	RemoteJitter float64  `json:"remoteJitter"`
	RemoteLoss   float64  `json:"remoteLoss"`
	Delay        float64  `json:"delay"`        // (phone) the one-way delay the E-model assumed (ms)
	PacketsLost  int64    `json:"packetsLost"`  // (phone) since the call began (RFC 3550 A.3)
	RTCPSent     uint64   `json:"rtcpSent"`     // (phone) RTCP reports sent
	RTCPReceived uint64   `json:"rtcpReceived"` // (phone) RTCP reports received
}

// AudioVolumeInfo is onAudioVolume's payload: the SDK's (userId, volume).
// userId is the agent's own (agent.user_id, else the extension) for the
// microphone and the peer's number for what the far end sends.
type AudioVolumeInfo struct {
	SessionID string `json:"sessionId"` // (phone)
	UserID    string `json:"userId"`
	Volume    int    `json:"volume"`
}

func qualityInfo(q media.Quality) QualityInfo {
	info := QualityInfo{
		Quality: q.Level, MOS: round(q.MOS, 2), Jitter: ms(q.Jitter),
		Loss: round(q.FractionLost*100, 1), RemoteJitter: ms(q.RemoteJitter),
		RemoteLoss: round(q.RemoteFractionLost*100, 1), Delay: ms(q.Delay), PacketsLost: q.CumulativeLost,
		RTCPSent: q.ReportsSent, RTCPReceived: q.ReportsReceived,
	}
	if q.RTTMeasured {
		rtt := ms(q.RTT)
		info.RTT = &rtt
	}
	return info
}

// ms is d in milliseconds to 0.01 ms: a LAN's RTT and jitter are a
// fraction of a millisecond.
func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// reportMedia publishes a call's onAudioVolume and onNetworkQuality until
// the session ends or st is no longer its stream. Only the call that has
// the sound devices reports volumes: a held call is heard by nobody.
func (s *Session) reportMedia(st *media.Stream) {
	vol, qual := time.NewTicker(volumeEvery), time.NewTicker(qualityEvery)
	defer vol.Stop()
	defer qual.Stop()
	me := s.p.cfg.Agent.UserId
	if me == "" {
		me = s.p.cfg.Account.User
	}
	for {
		select {
		case <-s.done:
			return
		case <-vol.C:
			mic, speaker := st.TakeLevels()
			s.p.mu.Lock()
			owner := s.p.audioOwner == s
			s.p.mu.Unlock()
			if !owner {
				continue
			}
			if !s.publishIfStream(st, func(peer string) {
				s.p.bus.Publish(event.AudioVolume, AudioVolumeInfo{SessionID: s.ID, UserID: me, Volume: mic})
				s.p.bus.Publish(event.AudioVolume, AudioVolumeInfo{SessionID: s.ID, UserID: peer, Volume: speaker})
			}) {
				return
			}
		case <-qual.C:
			info := qualityInfo(st.Quality())
			info.SessionID = s.ID
			if !s.publishIfStream(st, func(string) { s.p.bus.Publish(event.NetworkQuality, info) }) {
				return
			}
		}
	}
}

// publishIfStream runs publish (given the peer's number) while the session
// is live and st is its stream, under s.mu as publishLive does, so that no
// report follows onEnded; false: stop reporting.
func (s *Session) publishIfStream(st *media.Stream, publish func(peer string)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateEnded || s.stream != st {
		return false
	}
	peer := s.Caller
	if s.Direction == CallOut {
		peer = s.Callee
	}
	publish(peer)
	return true
}

// streamQualityLocked is the session's quality for /v1/state; nil without
// a stream.
func (s *Session) streamQualityLocked() *QualityInfo {
	if s.stream == nil {
		return nil
	}
	q := qualityInfo(s.stream.Quality())
	return &q
}

// logQuality logs a finished call's quality once its stream has closed.
func (s *Session) logQuality(st *media.Stream) {
	q := st.Quality()
	if !q.Measured {
		return
	}
	s.p.log.Info("call quality", "session", s.ID, "mos", round(q.MOS, 2), "quality", q.Level,
		"rtt_ms", ms(q.RTT), "jitter_ms", ms(q.Jitter), "loss_pct", round(q.FractionLost*100, 1),
		"remote_jitter_ms", ms(q.RemoteJitter), "remote_loss_pct", round(q.RemoteFractionLost*100, 1),
		"delay_ms", ms(q.Delay), "packets_lost", q.CumulativeLost, "rtcp_sent", q.ReportsSent, "rtcp_received", q.ReportsReceived)
}
