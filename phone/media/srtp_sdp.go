package media

import (
	"errors"
	"fmt"

	"github.com/pion/sdp/v3"
)

// SDES-SRTP in offer/answer (RFC 4568). The policy is config audio.srtp:
//
//   - off: plain RTP/AVP offers; an RTP/SAVP offer is refused (the
//     caller answers it 488), a=crypto in an RTP/AVP offer is ignored.
//   - optional: RTP/AVP offers carrying a=crypto ("best effort SRTP", as
//     baresip's srtp mode and most phones' "optional"): a far end that
//     knows SDES answers with its key and the call is encrypted, one that
//     does not ignores the attribute and the call is in clear. An RTP/SAVP
//     offer would be refused outright by a plain far end, since an answer
//     must keep the offer's profile (RFC 4568 §7.5).
//   - mandatory: RTP/SAVP offers with a=crypto; an answer or offer without
//     a usable key fails the call, which is never made in clear.
//
// Offers carry both suites, AES_CM_128_HMAC_SHA1_80 (tag 1) first, each
// with its own fresh key; an answer takes the offer's first a=crypto we
// support and answers it with a fresh key of its own, same tag and suite.
// The keys last the call: a re-INVITE repeats our SDP and its a=crypto.

// SRTP policies (config audio.srtp).
const (
	SRTPOff       = "off"
	SRTPOptional  = "optional"
	SRTPMandatory = "mandatory"
)

// ErrSRTPPolicy is a far end whose SDP does not fit audio.srtp.
var ErrSRTPPolicy = errors.New("media: SRTP")

// Secure reports an SRTP profile on the audio m-line (RTP/SAVP, RTP/SAVPF).
func (d *Description) Secure() bool { return d.Proto == "RTP/SAVP" || d.Proto == "RTP/SAVPF" }

// cryptoAttributes are the m-line's a=crypto of suites we support; others
// (AES-256, F8, MKI) are skipped, as RFC 4568 §7.5 has an answerer do.
func cryptoAttributes(md *sdp.MediaDescription) []Crypto {
	var cs []Crypto
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, err := ParseCrypto(a.Value); err == nil {
			cs = append(cs, c)
		}
	}
	return cs
}

// OfferSecure is Offer with SDES-SRTP as policy says (see above).
func OfferSecure(ip string, port int, codecs []Codec, dtmfPT uint8, sessionID uint64, policy string) ([]byte, error) {
	body, err := Offer(ip, port, codecs, dtmfPT, sessionID)
	if err != nil || policy != SRTPOptional && policy != SRTPMandatory {
		return body, err
	}
	proto := "RTP/AVP"
	if policy == SRTPMandatory {
		proto = "RTP/SAVP"
	}
	cs := make([]Crypto, 0, 2)
	for i, suite := range []string{SuiteAES80, SuiteAES32} {
		c, err := NewCrypto(i+1, suite)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return withCrypto(body, proto, cs)
}

// AcceptCrypto decides an offer under policy: the far end's key to use
// (ok), or clear RTP (!ok), or an error naming why the offer is refused.
func AcceptCrypto(offer *Description, policy string) (remote Crypto, ok bool, err error) {
	switch {
	case policy != SRTPOptional && policy != SRTPMandatory:
		if offer.Secure() {
			return Crypto{}, false, fmt.Errorf("%w: the far end offers only SRTP (%s) and audio.srtp is off; set it to optional or mandatory to take such calls", ErrSRTPPolicy, offer.Proto)
		}
		return Crypto{}, false, nil
	case len(offer.Crypto) > 0:
		return offer.Crypto[0], true, nil
	case offer.Secure():
		return Crypto{}, false, fmt.Errorf("%w: the far end offers %s without an SDES key we support (a=crypto with %s or %s)", ErrSRTPPolicy, offer.Proto, SuiteAES80, SuiteAES32)
	case policy == SRTPMandatory:
		return Crypto{}, false, fmt.Errorf("%w: the far end offers audio in clear (no a=crypto) and audio.srtp is mandatory: the call is not taken in clear", ErrSRTPPolicy)
	}
	return Crypto{}, false, nil
}

// AnswerSecure is Answer under policy: an offer with a key we take is
// answered in its profile with our own fresh key for its tag and suite.
func AnswerSecure(offer *Description, local []Codec, ip string, port int, dtmfPT uint8, sessionID uint64, policy string) ([]byte, Negotiated, error) {
	remote, ok, err := AcceptCrypto(offer, policy)
	if err != nil {
		return nil, Negotiated{}, err
	}
	if !ok {
		return Answer(offer, local, ip, port, dtmfPT, sessionID) // clear: the offer's a=crypto, if any, declined by omission
	}
	body, neg, err := answer(offer, local, ip, port, dtmfPT, sessionID)
	if err != nil {
		return nil, Negotiated{}, err
	}
	mine, err := NewCrypto(remote.Tag, remote.Suite)
	if err != nil {
		return nil, Negotiated{}, err
	}
	if body, err = withCrypto(body, offer.Proto, []Crypto{mine}); err != nil {
		return nil, Negotiated{}, err
	}
	neg.LocalCrypto, neg.RemoteCrypto = mine, remote
	return body, neg, nil
}

// SecureAnswered completes neg, read from the far end's answer to our
// offer (which carried offered), under policy: the keys when it accepted
// one of ours, else clear RTP, or an error when policy forbids that.
func SecureAnswered(neg *Negotiated, answer *Description, offered []Crypto, policy string) error {
	if len(offered) > 0 && len(answer.Crypto) > 0 {
		a := answer.Crypto[0]
		for _, o := range offered {
			if o.Tag == a.Tag && o.Suite == a.Suite {
				neg.LocalCrypto, neg.RemoteCrypto = o, a
				return nil
			}
		}
		return fmt.Errorf("%w: the far end answers a=crypto tag %d %s, which is none of those we offered", ErrSRTPPolicy, a.Tag, a.Suite)
	}
	switch {
	case answer.Secure():
		return fmt.Errorf("%w: the far end answers %s without a key for one of our a=crypto", ErrSRTPPolicy, answer.Proto)
	case policy == SRTPMandatory:
		return fmt.Errorf("%w: the far end answered in clear (no a=crypto) and audio.srtp is mandatory: the call is not made in clear", ErrSRTPPolicy)
	}
	return nil
}

// Secure reports a call whose audio is SRTP.
func (n Negotiated) Secure() bool { return n.LocalCrypto.Suite != "" }

// NewSRTP keys the call's stream; nil for a call in clear.
func (n Negotiated) NewSRTP() (*SRTP, error) {
	if !n.Secure() {
		return nil, nil
	}
	return NewSRTP(n.LocalCrypto, n.RemoteCrypto)
}

// withCrypto sets the audio m-line's profile to proto and adds cs as its
// a=crypto attributes.
func withCrypto(body []byte, proto string, cs []Crypto) ([]byte, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("media: cannot read our own SDP: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		md.MediaName.Protos = []string{"RTP", proto[len("RTP/"):]}
		for _, c := range cs {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", c.String()))
		}
	}
	return sd.Marshal()
}

// KeepCrypto leaves on our SDP only the a=crypto the call uses (keep), or
// none when keep.Suite is "" (the far end answered in clear), so that a
// later re-INVITE or answer repeats the call's key, not the whole offer.
func KeepCrypto(body []byte, keep Crypto) ([]byte, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("media: cannot read our own SDP: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		attrs := md.Attributes[:0]
		for _, a := range md.Attributes {
			if a.Key == "crypto" {
				c, err := ParseCrypto(a.Value)
				if err != nil || keep.Suite == "" || c.Tag != keep.Tag {
					continue
				}
			}
			attrs = append(attrs, a)
		}
		md.Attributes = attrs
	}
	return sd.Marshal()
}

// SameKey reports whether d (a re-offer, or the answer to our re-offer)
// still carries the far end's key of the call: the phone keeps one key
// per call and does not follow a rekey.
func (d *Description) SameKey(remote Crypto) bool {
	for _, c := range d.Crypto {
		if c.Suite == remote.Suite && string(c.Key) == string(remote.Key) {
			return true
		}
	}
	return false
}
