package phone

import (
	"strings"
	"testing"

	"deskphone/config"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal/sigtest"
)

func srtpPolicy(policy string) func(*config.Config) {
	return func(c *config.Config) { c.Audio.SRTP = policy }
}

// farSecureAnswer is a far end with SDES answering the phone's offer.
func farSecureAnswer(t *testing.T, offer []byte) []byte {
	t.Helper()
	desc, err := media.ParseDescription(offer)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := media.AnswerSecure(desc, []media.Codec{media.NewPCMU()}, sigtest.Host, sigtest.FarPort, 101, 2, media.SRTPMandatory)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// A mandatory SRTP call: RTP/SAVP offered, keyed from the answer, the
// suite (not the key) in the state; the far end's re-offer keeping its key
// is taken, one that drops or changes it is refused 488 and the call goes
// on; a hold re-offer repeats only the key in use.
func TestSRTPOutboundKeysLastTheCall(t *testing.T) {
	h := newHarness(t, nil, srtpPolicy(media.SRTPMandatory))
	sid, o := h.dial()
	offer, _ := media.ParseDescription(o.Req.SDP)
	if offer.Proto != "RTP/SAVP" || len(offer.Crypto) != 2 {
		t.Fatalf("mandatory offer: %s with %d a=crypto", offer.Proto, len(offer.Crypto))
	}
	answer := farSecureAnswer(t, o.Req.SDP)
	d := o.Answer(sigtest.NewDialog(answer))
	h.waitState(sid, StateConnected)
	s, _ := h.p.session(sid, StateConnected)
	st := s.snapshot()
	if st.SRTP != media.SuiteAES80 {
		t.Errorf("state srtp = %q, want %s", st.SRTP, media.SuiteAES80)
	}

	same, err := media.Reshape(answer, media.SendOnly, 3)
	if err != nil {
		t.Fatal(err)
	}
	if body, code := d.FarOffer(same); code != 200 {
		t.Fatalf("a re-offer keeping the key: %d", code)
	} else if a, _ := media.ParseDescription(body); len(a.Crypto) != 1 || a.Crypto[0].Tag != 1 || !a.Secure() {
		t.Errorf("our answer to the re-offer: %s %v", a.Proto, a.Crypto)
	}
	rekeyed := farSecureAnswer(t, o.Req.SDP) // another key
	plain, _ := media.Offer(sigtest.Host, sigtest.FarPort, []media.Codec{media.NewPCMU()}, 101, 4)
	for name, body := range map[string][]byte{"a new key": rekeyed, "no key": plain} {
		if _, code := d.FarOffer(body); code != 488 {
			t.Errorf("a re-offer with %s: %d, want 488", name, code)
		}
	}
	if st := h.state(sid); !st.live() {
		t.Fatalf("the call ended: %s", st)
	}
}

// Mandatory SRTP and a far end answering in clear: the call fails with
// onError -3301 saying so, and is hung up (firmware/srtp_e2e_test.go
// checks that nothing is sent).
func TestSRTPMandatoryClearAnswerFails(t *testing.T) {
	h := newHarness(t, nil, srtpPolicy(media.SRTPMandatory))
	sid, o := h.dial()
	plain, _ := media.Offer(sigtest.Host, sigtest.FarPort, []media.Codec{media.NewPCMU()}, 101, 2)
	d := o.Answer(sigtest.NewDialog(plain))
	e := h.rec.wait(t, sid, event.Error, 1)
	info := e.Data.(ErrorInfo)
	if info.ErrCode != ErrRTCEnterRoomFailed || !strings.Contains(info.ErrMsg, "not made in clear") {
		t.Errorf("onError = %+v", info)
	}
	wantEnded(t, h.rec, sid, EndError, 0)
	d.WaitReq(t, "BYE", 1, wait)
}

// Inbound: a clear offer is refused 488 under mandatory; an SRTP offer is
// answered with a fresh key in its profile; off refuses RTP/SAVP.
func TestSRTPInbound(t *testing.T) {
	srtpOffer, err := media.OfferSecure(sigtest.Host, sigtest.FarPort, []media.Codec{media.NewPCMU()}, 101, 1, media.SRTPMandatory)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy string
		offer  []byte
		want   int // 0: answered with SRTP
	}{
		{media.SRTPMandatory, sigtest.SDPOffer(sigtest.FarPort, media.SendRecv), 488},
		{media.SRTPOff, srtpOffer, 488},
		{media.SRTPMandatory, srtpOffer, 0},
	} {
		h := newHarness(t, nil, srtpPolicy(tc.policy))
		in := sigtest.NewIncoming("2000", "1001", string(tc.offer), nil)
		if tc.want != 0 {
			h.f.Ring(in)
			if code := in.WaitReject(t, wait); code != tc.want {
				t.Errorf("%s: rejected %d, want %d", tc.policy, code, tc.want)
			}
			continue
		}
		sid := h.ring(in)
		if err := h.p.Answer(sid); err != nil {
			t.Fatal(err)
		}
		h.waitState(sid, StateConnected)
		ans := in.Answers()
		a, _ := media.ParseDescription(ans[len(ans)-1])
		o, _ := media.ParseDescription(srtpOffer)
		if !a.Secure() || len(a.Crypto) != 1 || a.Crypto[0].Tag != 1 || string(a.Crypto[0].Key) == string(o.Crypto[0].Key) {
			t.Errorf("answer %s %v", a.Proto, a.Crypto)
		}
	}
}
