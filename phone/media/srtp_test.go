package media

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

func TestCryptoRoundTripAndErrors(t *testing.T) {
	c, err := NewCrypto(1, SuiteAES80)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCrypto(c.String())
	if err != nil || back.Tag != 1 || back.Suite != SuiteAES80 || !bytes.Equal(back.Key, c.Key) {
		t.Fatalf("ParseCrypto(%q) = %v, %v", c.String(), back, err)
	}
	// RFC 4568 §9.1's example, with a lifetime.
	if _, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20"); err != nil {
		t.Errorf("RFC 4568 example: %v", err)
	}
	for _, bad := range []string{
		"",
		"1 AES_CM_128_HMAC_SHA1_80",
		"x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 AES_CM_128_HMAC_SHA1_80 uri:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
	} {
		if _, err := ParseCrypto(bad); err == nil {
			t.Errorf("ParseCrypto(%q) accepted", bad)
		}
	}
}

func TestSRTPSuitesMustMatch(t *testing.T) {
	a, _ := NewCrypto(1, SuiteAES80)
	b, _ := NewCrypto(1, SuiteAES32)
	if _, err := NewSRTP(a, b); err == nil {
		t.Error("keys of two suites were accepted")
	}
}

// A key never reaches a log through fmt.
func TestCryptoKeyNotFormatted(t *testing.T) {
	c, _ := NewCrypto(1, SuiteAES32)
	secret := c.String()[len("1 "+SuiteAES32+" inline:"):]
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", struct{ C Crypto }{c})} {
		if strings.Contains(s, secret) {
			t.Errorf("formatted crypto shows the key: %s", s)
		}
	}
}

// Two SRTP ends keyed crosswise protect and unprotect each other's RTP and
// RTCP, for both suites; a tampered packet and a replay are refused.
func TestSRTPBothWays(t *testing.T) {
	for _, suite := range []string{SuiteAES80, SuiteAES32} {
		t.Run(suite, func(t *testing.T) {
			a, _ := NewCrypto(1, suite)
			b, _ := NewCrypto(1, suite)
			alice, err := NewSRTP(a, b)
			if err != nil {
				t.Fatal(err)
			}
			bob, err := NewSRTP(b, a)
			if err != nil {
				t.Fatal(err)
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 7, Timestamp: 160, SSRC: 0x1234}, Payload: bytes.Repeat([]byte{0xd5}, 160)}
			raw, _ := pkt.Marshal()
			enc, err := alice.ProtectRTP(make([]byte, 0, 1500), raw)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, pkt.Payload[:16]) {
				t.Fatal("the payload went out in clear")
			}
			dec, err := bob.UnprotectRTP(make([]byte, 0, 1500), enc)
			if err != nil || !bytes.Equal(dec, raw) {
				t.Fatalf("unprotect: %v (equal %v)", err, bytes.Equal(dec, raw))
			}
			if _, err := bob.UnprotectRTP(make([]byte, 0, 1500), enc); err == nil {
				t.Error("a replayed packet was accepted")
			}
			enc2, _ := alice.ProtectRTP(nil, raw[:12+80])
			enc2[len(enc2)-1] ^= 1
			if _, err := bob.UnprotectRTP(nil, enc2); err == nil {
				t.Error("a tampered packet was accepted")
			}
			// RTCP: an RR from bob to alice.
			rr := []byte{0x80, 201, 0, 1, 0, 0, 0x43, 0x21}
			encRR, err := bob.ProtectRTCP(nil, rr)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := alice.UnprotectRTCP(nil, encRR); err != nil || !bytes.Equal(got, rr) {
				t.Fatalf("RTCP: %x, %v", got, err)
			}
		})
	}
}

func BenchmarkSRTPProtectUnprotect(b *testing.B) {
	ka, _ := NewCrypto(1, SuiteAES80)
	kb, _ := NewCrypto(1, SuiteAES80)
	alice, _ := NewSRTP(ka, kb)
	bob, _ := NewSRTP(kb, ka)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	raw, _ := pkt.Marshal()
	enc := make([]byte, 0, 1500)
	dec := make([]byte, 0, 1500)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw[2], raw[3] = byte(i>>8), byte(i)
		e, err := alice.ProtectRTP(enc[:0], raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.UnprotectRTP(dec[:0], e); err != nil {
			b.Fatal(err)
		}
	}
}

// ParseCrypto takes the far end's a=crypto from untrusted SDP: any input
// gives a Crypto or an error, and a Crypto it accepts prints back to a
// value it accepts again.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20")
	f.Add("2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32")
	f.Add("x y z")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCrypto(s)
		if err != nil {
			return
		}
		back, err := ParseCrypto(c.String())
		if err != nil || back.Tag != c.Tag || back.Suite != c.Suite || !bytes.Equal(back.Key, c.Key) {
			t.Fatalf("%q parsed to %v, which prints as %q and parses to %v, %v", s, c, c.String(), back, err)
		}
		if _, err := NewSRTP(c, c); err != nil {
			t.Fatalf("an accepted crypto cannot key SRTP: %v", err)
		}
	})
}
