package phone

import (
	"deskphone/phone/media"
)

// SDES-SRTP (audio.srtp, media/srtp_sdp.go): the keys of a call are made
// with its first offer or answer and last the call; a re-INVITE repeats
// them. Keys never reach a log, an event or /v1/state: media.Crypto
// prints "<secret>", and the state shows only the suite.

// negotiateSecureLocked reads the far end's answer to our offer
// (s.localSDP) under audio.srtp, and leaves on s.localSDP only the key in
// use. Called with s.mu held.
func (s *Session) negotiateSecureLocked(answer []byte) (media.Negotiated, error) {
	desc, err := media.ParseDescription(answer)
	if err != nil {
		return media.Negotiated{}, err
	}
	neg, err := media.Negotiate(desc, s.p.codecs)
	if err != nil {
		return media.Negotiated{}, err
	}
	ours, err := media.ParseDescription(s.localSDP)
	if err != nil {
		return media.Negotiated{}, err
	}
	if len(ours.Crypto) == 0 {
		return neg, nil // audio.srtp off
	}
	if err := media.SecureAnswered(&neg, desc, ours.Crypto, s.p.cfg.Audio.SRTP); err != nil {
		return media.Negotiated{}, err
	}
	s.warnClear(neg)
	if body, err := media.KeepCrypto(s.localSDP, neg.LocalCrypto); err == nil {
		s.localSDP = body
	}
	return neg, nil
}

// warnClear logs a call in clear that audio.srtp optional let through.
func (s *Session) warnClear(neg media.Negotiated) {
	if !neg.Secure() && s.p.cfg.Audio.SRTP == media.SRTPOptional {
		s.p.log.Warn("the far end takes no SRTP: this call's audio is in clear (audio.srtp: optional)", "session", s.ID)
	}
}

// keepsKeyLocked reports whether a far end's re-offer keeps the call's
// SRTP: a call in SRTP is never moved to clear, nor rekeyed.
func (s *Session) keepsKeyLocked(d *media.Description) bool {
	return !s.neg.Secure() || d.SameKey(s.neg.RemoteCrypto)
}

// srtpHint explains a 488 to our offer when SRTP may be why.
func (p *Phone) srtpHint() string {
	if p.cfg.Audio.SRTP == media.SRTPMandatory {
		return "; audio.srtp is mandatory: the far end may take no SRTP (RTP/SAVP with a=crypto), and the call is not made in clear"
	}
	return ""
}

// checkKeyLocked warns when the far end's answer to our re-INVITE drops or
// changes its SRTP key: the answer cannot be refused, and the stream keeps
// the call's keys, so its audio may fail authentication from now on.
func (s *Session) checkKeyLocked(answer []byte) {
	if !s.neg.Secure() {
		return
	}
	if d, err := media.ParseDescription(answer); err == nil && !s.keepsKeyLocked(d) {
		s.p.publishWarning(ErrRTCEnterRoomFailed, "the far end's answer to our re-INVITE drops or changes its SRTP key; the phone keeps one key per call, so its audio may be lost", s.ID)
	}
}
