package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func parse(t *testing.T, body []byte) *Description {
	t.Helper()
	d, err := ParseDescription(body)
	if err != nil {
		t.Fatalf("%v in\n%s", err, body)
	}
	return d
}

func TestOfferSecure(t *testing.T) {
	for _, tc := range []struct {
		policy, proto string
		cryptos       int
	}{{SRTPOff, "RTP/AVP", 0}, {SRTPOptional, "RTP/AVP", 2}, {SRTPMandatory, "RTP/SAVP", 2}} {
		body, err := OfferSecure("10.0.0.1", 4000, []Codec{NewPCMU()}, 101, 7, tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		d := parse(t, body)
		if d.Proto != tc.proto || len(d.Crypto) != tc.cryptos {
			t.Errorf("%s: %s with %d a=crypto, want %s with %d:\n%s", tc.policy, d.Proto, len(d.Crypto), tc.proto, tc.cryptos, body)
			continue
		}
		if tc.cryptos == 2 {
			if d.Crypto[0].Tag != 1 || d.Crypto[0].Suite != SuiteAES80 || d.Crypto[1].Tag != 2 || d.Crypto[1].Suite != SuiteAES32 {
				t.Errorf("%s: offered %v", tc.policy, d.Crypto)
			}
			if bytes.Equal(d.Crypto[0].Key, d.Crypto[1].Key) {
				t.Errorf("%s: both suites share a key", tc.policy)
			}
			// A re-INVITE (hold, refresh) reshapes our SDP: the keys stay.
			held, err := Reshape(body, SendOnly, 8)
			if err != nil {
				t.Fatal(err)
			}
			h := parse(t, held)
			if h.Proto != tc.proto || len(h.Crypto) != 2 || !bytes.Equal(h.Crypto[0].Key, d.Crypto[0].Key) || h.Direction != SendOnly {
				t.Errorf("%s: the hold offer lost the keys: %s", tc.policy, held)
			}
		}
	}
}

// Offer → answer → the offerer reads the answer: each side sends with its
// own key and receives with the other's, in one suite.
func TestSecureOfferAnswer(t *testing.T) {
	for _, policy := range []string{SRTPOptional, SRTPMandatory} {
		offerBody, err := OfferSecure("10.0.0.1", 4000, []Codec{NewPCMU()}, 101, 7, policy)
		if err != nil {
			t.Fatal(err)
		}
		offer := parse(t, offerBody)
		ansBody, ansNeg, err := AnswerSecure(offer, []Codec{NewPCMU()}, "10.0.0.2", 5000, 101, 9, policy)
		if err != nil {
			t.Fatal(err)
		}
		ans := parse(t, ansBody)
		if ans.Proto != offer.Proto || len(ans.Crypto) != 1 || ans.Crypto[0].Tag != 1 || ans.Crypto[0].Suite != SuiteAES80 {
			t.Fatalf("%s: answer %s %v to offer %s", policy, ans.Proto, ans.Crypto, offer.Proto)
		}
		if bytes.Equal(ans.Crypto[0].Key, offer.Crypto[0].Key) {
			t.Errorf("%s: the answer reuses the offer's key", policy)
		}
		offNeg, err := Negotiate(ans, []Codec{NewPCMU()})
		if err != nil {
			t.Fatal(err)
		}
		if err := SecureAnswered(&offNeg, ans, offer.Crypto, policy); err != nil {
			t.Fatal(err)
		}
		if !offNeg.Secure() || !ansNeg.Secure() ||
			!bytes.Equal(offNeg.LocalCrypto.Key, ansNeg.RemoteCrypto.Key) || !bytes.Equal(offNeg.RemoteCrypto.Key, ansNeg.LocalCrypto.Key) {
			t.Errorf("%s: keys do not cross: offerer %v/%v answerer %v/%v", policy, offNeg.LocalCrypto, offNeg.RemoteCrypto, ansNeg.LocalCrypto, ansNeg.RemoteCrypto)
		}
		for _, n := range []Negotiated{offNeg, ansNeg} {
			if s, err := n.NewSRTP(); err != nil || s == nil {
				t.Errorf("%s: NewSRTP: %v", policy, err)
			}
		}
	}
}

const srtpHead = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"

const key32 = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

func TestAnswerSecureTakesFirstSupportedCrypto(t *testing.T) {
	offer := parse(t, []byte(srtpHead+"m=audio 5000 RTP/SAVPF 0\r\n"+
		"a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\r\n"+
		"a=crypto:5 AES_CM_128_HMAC_SHA1_32 "+key32+"\r\n"))
	body, neg, err := AnswerSecure(offer, []Codec{NewPCMU()}, "10.0.0.2", 4000, 101, 1, SRTPMandatory)
	if err != nil {
		t.Fatal(err)
	}
	ans := parse(t, body)
	if ans.Proto != "RTP/SAVPF" || len(ans.Crypto) != 1 || ans.Crypto[0].Tag != 5 || ans.Crypto[0].Suite != SuiteAES32 || neg.RemoteCrypto.Tag != 5 {
		t.Errorf("answer %s %v:\n%s", ans.Proto, ans.Crypto, body)
	}
	if strings.Contains(string(body), strings.TrimPrefix(key32, "inline:")) {
		t.Error("the answer repeats the far end's key")
	}
}

func TestSRTPPolicyRefusals(t *testing.T) {
	plain := parse(t, []byte(srtpHead+"m=audio 5000 RTP/AVP 0\r\n"))
	savpNoKey := parse(t, []byte(srtpHead+"m=audio 5000 RTP/SAVP 0\r\n"))
	savp := parse(t, []byte(srtpHead+"m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 "+key32+"\r\n"))
	avpKey := parse(t, []byte(srtpHead+"m=audio 5000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 "+key32+"\r\n"))
	for _, tc := range []struct {
		name   string
		offer  *Description
		policy string
		want   string // "" = clear, "srtp", or an error's words
	}{
		{"off, SAVP offer", savp, SRTPOff, "audio.srtp is off"},
		{"off, AVP with crypto", avpKey, SRTPOff, ""},
		{"optional, plain", plain, SRTPOptional, ""},
		{"optional, AVP with crypto", avpKey, SRTPOptional, "srtp"},
		{"mandatory, plain", plain, SRTPMandatory, "not taken in clear"},
		{"mandatory, AVP with crypto", avpKey, SRTPMandatory, "srtp"},
		{"mandatory, SAVP", savp, SRTPMandatory, "srtp"},
		{"optional, SAVP without a key", savpNoKey, SRTPOptional, "without an SDES key"},
	} {
		body, neg, err := AnswerSecure(tc.offer, []Codec{NewPCMU()}, "10.0.0.2", 4000, 101, 1, tc.policy)
		switch {
		case tc.want == "" || tc.want == "srtp":
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			ans := parse(t, body)
			if neg.Secure() != (tc.want == "srtp") || (len(ans.Crypto) > 0) != neg.Secure() || ans.Proto != tc.offer.Proto {
				t.Errorf("%s: answered %s with %d a=crypto, secure %v:\n%s", tc.name, ans.Proto, len(ans.Crypto), neg.Secure(), body)
			}
		case err == nil || !errors.Is(err, ErrSRTPPolicy) || !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %v; want an ErrSRTPPolicy saying %q", tc.name, err, tc.want)
		}
	}
}

func TestSecureAnsweredRefusals(t *testing.T) {
	offered := []Crypto{{Tag: 1, Suite: SuiteAES80, Key: make([]byte, 30)}, {Tag: 2, Suite: SuiteAES32, Key: make([]byte, 30)}}
	plain := parse(t, []byte(srtpHead+"m=audio 5000 RTP/AVP 0\r\n"))
	wrongTag := parse(t, []byte(srtpHead+"m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 "+key32+"\r\n"))
	var neg Negotiated
	if err := SecureAnswered(&neg, plain, offered, SRTPMandatory); !errors.Is(err, ErrSRTPPolicy) || !strings.Contains(err.Error(), "not made in clear") {
		t.Errorf("mandatory, answered in clear: %v", err)
	}
	if err := SecureAnswered(&neg, plain, offered, SRTPOptional); err != nil || neg.Secure() {
		t.Errorf("optional, answered in clear: %v, secure %v", err, neg.Secure())
	}
	if err := SecureAnswered(&neg, wrongTag, offered, SRTPOptional); !errors.Is(err, ErrSRTPPolicy) || !strings.Contains(err.Error(), "none of those we offered") {
		t.Errorf("tag 1 answered with the other suite: %v", err)
	}
}
