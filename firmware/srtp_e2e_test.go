package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/impair"
	"deskphone/tools/labkit"
)

// The SRTP e2e tests: the phone over TLS (Kamailio's tls module, a CA made
// for the test) with audio.srtp, and baresip over TLS with its srtp
// module. The call's media goes through tools/impair's relay (no
// impairment) whose Tap is the packet capture: every datagram of the call,
// both ways, is checked for clear RTP.

// srtpRelayAddr is the relay's address (the impairment test uses .77).
var srtpRelayAddr = netip.MustParseAddr("127.0.0.78")

// capture holds the datagrams the relay passed, by direction.
type capture struct {
	mu                sync.Mutex
	phoneLo, phoneHi  int // the phone's RTP and RTCP ports
	toPhone, fromPhon [][]byte
}

func (c *capture) tap(to int, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if to >= c.phoneLo && to <= c.phoneHi {
		c.toPhone = append(c.toPhone, data)
	} else {
		c.fromPhon = append(c.fromPhon, data)
	}
}

// take returns and forgets what was captured so far.
func (c *capture) take() (toPhone, fromPhone [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	toPhone, fromPhone = c.toPhone, c.fromPhon
	c.toPhone, c.fromPhon = nil, nil
	return toPhone, fromPhone
}

func (c *capture) count() (toPhone, fromPhone int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.toPhone), len(c.fromPhon)
}

// srtpPhone starts the phone over TLS to kam with audio.srtp policy and
// its media through a capturing relay.
func srtpPhone(t *testing.T, kam *labkit.Kamailio, ca *labkit.CA, policy string) (*dut, *capture) {
	t.Helper()
	cfg := tlsConfig(t, kam, ca.CAFile)
	cfg.Audio.SRTP = policy
	lo, hi := cfg.Audio.RTPPortRange()
	c := &capture{phoneLo: lo, phoneHi: hi + 1}
	relay, err := impair.Start(impair.Config{
		Addr: srtpRelayAddr, Target: netip.MustParseAddr(labkit.Domain),
		Ports: []impair.PortRange{{Lo: lo, Hi: hi + 1}}, SideA: impair.PortRange{Lo: lo, Hi: hi + 1},
		Tap: c.tap,
	})
	if err != nil {
		t.Fatalf("starting the relay: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	u := startPhone(t, cfg)
	u.d.phone.SetMediaRelay(relay)
	u.registered()
	return u, c
}

// sessionField is a field of a session in /v1/state.
func (u *dut) sessionField(id, name string) any {
	st := u.must("GET", "/v1/state", nil)
	list, _ := st["sessions"].([]any)
	for _, s := range list {
		if m := s.(map[string]any); m["sessionId"] == id {
			return m[name]
		}
	}
	return nil
}

// noClearRTP checks one direction of a call's capture: the RTP packets
// (header in clear, as SRTP keeps it) carry the 10-byte auth tag of
// AES_CM_128_HMAC_SHA1_80 after 20 ms of PCMU, their payloads decoded as
// PCMU hold none of the call's tones (clear RTP would: the tones are
// heard at 0.05 and more), and RTCP is SRTCP (the E flag of its index).
func noClearRTP(t *testing.T, what string, pkts [][]byte, strictRTCP bool, tones ...float64) {
	t.Helper()
	rtp, rtcp, tagged, clearRTCP := 0, 0, 0, 0
	for _, p := range pkts {
		if len(p) < 12 || p[0]>>6 != 2 {
			t.Errorf("%s: a datagram of %d bytes that is not RTP or RTCP", what, len(p))
			continue
		}
		if p[1] >= 192 && p[1] <= 223 { // RTCP (RFC 5761 §4)
			rtcp++
			if len(p) < 8+14 || p[len(p)-14]&0x80 == 0 {
				clearRTCP++
				if strictRTCP {
					t.Errorf("%s: RTCP in clear (%d bytes, no SRTCP E flag): %x", what, len(p), p)
				} else {
					t.Logf("%s: RTCP in clear (%d bytes, no SRTCP E flag): %x", what, len(p), p)
				}
			}
			continue
		}
		if p[1]&0x7f != 0 {
			continue // telephone-event
		}
		rtp++
		if len(p) == 12+160+10 {
			tagged++
		}
	}
	t.Logf("%s: %d RTP (%d of 12+160+10 bytes), %d RTCP (%d in clear)", what, rtp, tagged, rtcp, clearRTCP)
	if rtp < 100 {
		t.Fatalf("%s: only %d RTP packets captured; the capture missed the call", what, rtp)
	}
	if tagged < rtp*9/10 {
		t.Errorf("%s: %d of %d PCMU packets carry SRTP's 10-byte auth tag", what, tagged, rtp)
	}
	for _, f := range tones {
		if l := pcmuTone(pkts, f); l > 0.02 {
			t.Errorf("%s: the payloads decoded as PCMU carry %.0f Hz at %.3f: audio in clear", what, f, l)
		}
	}
}

// heardBoth checks the tones each side heard: baresip's 440 Hz on the
// phone's speaker, the phone's 1 kHz in baresip's last recording.
func heardBoth(t *testing.T, u *dut, far *labkit.Baresip) {
	t.Helper()
	lv := toneIn(t, u.cfg.Sim.Output, 440, 1000)
	t.Logf("phone heard: 440 Hz %.3f, 1000 Hz %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("the phone did not hear baresip's 440 Hz (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
	var recs []string
	waitFor(t, 10*time.Second, func() bool { recs, _ = far.Recordings(); return len(recs) > 0 },
		func() string { return "baresip wrote no recording" })
	lv = toneIn(t, recs[len(recs)-1], 1000, 440)
	t.Logf("baresip heard: 1000 Hz %.3f, 440 Hz %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("baresip did not hear the phone's 1 kHz (1000: %.3f, 440: %.3f)", lv[0], lv[1])
	}
}

// talk lets a connected call run until both directions have 3 s of
// packets in the capture, and checks /v1/state's srtp.
func talk(t *testing.T, u *dut, c *capture, id, wantSuite string) {
	t.Helper()
	waitFor(t, 15*time.Second, func() bool { a, b := c.count(); return a >= 150 && b >= 150 },
		func() string {
			a, b := c.count()
			return "the call's media did not flow" + " (" + itoa(a) + " to the phone, " + itoa(b) + " from it)"
		})
	got, _ := u.sessionField(id, "srtp").(string)
	if got != wantSuite {
		t.Errorf("/v1/state srtp = %q, want %q", got, wantSuite)
	}
	st, _ := json.Marshal(u.must("GET", "/v1/state", nil))
	if strings.Contains(strings.ToLower(string(st)), "inline") {
		t.Errorf("/v1/state shows an SDES key: %s", st)
	}
}

// The phone (audio.srtp mandatory) calls baresip (srtp-mand) through
// Kamailio's TLS port, then baresip calls the phone: each call carries
// the tones both ways and DTMF, /v1/state says the suite, and the capture
// holds no clear RTP or RTCP.
func TestSRTPCallsBothWays(t *testing.T) {
	kam, ca, far := tlsLab(t, "srtp-mand")
	u, c := srtpPhone(t, kam, ca, media.SRTPMandatory)

	t.Run("phone calls", func(t *testing.T) {
		id := callFarEnd(t, u, far, "1002")
		talk(t, u, c, id, media.SuiteAES80)
		u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "1234#"})
		if err := far.SendDTMF("59*"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"5", "9", "*"} {
			e := u.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id))
			if got := field(e.Data, "digit"); got != want {
				t.Fatalf("DTMF from baresip: got %v, want %s", got, want)
			}
		}
		waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == "1234#" },
			func() string { return "baresip received DTMF " + far.ReceivedDTMF() + ", want 1234#" })
		u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
		u.wantEnded(id, phone.EndLocalBye)
		if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
			t.Fatalf("baresip did not see the BYE: %v", err)
		}
		heardBoth(t, u, far)
		toPhone, fromPhone := c.take()
		noClearRTP(t, "baresip → phone", toPhone, false, 440)
		noClearRTP(t, "phone → baresip", fromPhone, true, 1000)
	})

	// Hold and resume by either side keep the call's keys: re-INVITEs
	// repeat them, and the tone is heard after each resume.
	t.Run("hold and resume", func(t *testing.T) {
		id := callFarEnd(t, u, far, "1002")
		afterResume := func() {
			t.Helper()
			c.take()
			waitFor(t, 10*time.Second, func() bool { a, _ := c.count(); return a >= 75 },
				func() string { a, _ := c.count(); return "after the resume baresip sent " + itoa(a) + " packets" })
		}
		u.must("POST", "/v1/hold", map[string]string{"sessionId": id})
		u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "local" })
		u.must("POST", "/v1/unhold", map[string]string{"sessionId": id})
		u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "local" })
		afterResume()
		if _, err := far.Command("hold", ""); err != nil {
			t.Fatal(err)
		}
		u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "remote" })
		if _, err := far.Command("resume", ""); err != nil {
			t.Fatal(err)
		}
		u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "remote" })
		afterResume()
		talk(t, u, c, id, media.SuiteAES80)
		u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
		u.wantEnded(id, phone.EndLocalBye)
		if lv := tailLevels(t, u.cfg.Sim.Output, time.Second, 440, 1000); lv[0] < 0.05 || lv[0] < 5*lv[1] {
			t.Errorf("after resume the phone does not hear baresip's 440 Hz (440: %.3f, 1000: %.3f)", lv[0], lv[1])
		}
		u.noEvent(event.Warning)
		toPhone, fromPhone := c.take()
		noClearRTP(t, "baresip → phone after resume", toPhone, false, 440)
		noClearRTP(t, "phone → baresip after resume", fromPhone, true, 1000)
	})

	t.Run("baresip calls", func(t *testing.T) {
		if err := far.Dial(far.URI("1001")); err != nil {
			t.Fatal(err)
		}
		ns := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "sessionDirection") == "CallIn" })
		id := field(ns.Data, "sessionId").(string)
		u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
		u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
		talk(t, u, c, id, media.SuiteAES80)
		if err := far.Hangup(); err != nil {
			t.Fatal(err)
		}
		u.wantEnded(id, phone.EndRemoteBye)
		heardBoth(t, u, far)
		toPhone, fromPhone := c.take()
		noClearRTP(t, "baresip → phone", toPhone, false, 440)
		noClearRTP(t, "phone → baresip", fromPhone, true, 1000)
	})
}

// audio.srtp mandatory and a far end without SRTP: the phone's RTP/SAVP
// offer is refused and the call fails with onError naming SRTP; baresip's
// clear offer is answered 488. Not one media datagram leaves the phone.
func TestSRTPMandatoryRefusesClear(t *testing.T) {
	kam, ca, far := tlsLab(t, "")
	u, c := srtpPhone(t, kam, ca, media.SRTPMandatory)

	id := u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
	e := u.waitEvent(event.Error, 15*time.Second, nil)
	msg, _ := field(e.Data, "errMsg").(string)
	t.Logf("onError: %v", e.Data)
	if !strings.Contains(msg, "SRTP") && !strings.Contains(msg, "srtp") {
		t.Errorf("onError %v does not name SRTP", e.Data)
	}
	u.wantEnded(id, phone.EndError)

	if err := far.Dial(far.URI("1001")); err != nil {
		t.Fatal(err)
	}
	w := u.waitEvent(event.Warning, 10*time.Second, func(d any) bool {
		m, _ := field(d, "warningMsg").(string)
		return strings.Contains(m, "mandatory")
	})
	t.Logf("onWarning: %v", w.Data)
	if _, err := far.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip's call was not refused: %v", err)
	}
	u.mu.Lock()
	for _, e := range u.events {
		if e.Name == event.NewSession && field(e.Data, "sessionDirection") == "CallIn" {
			t.Errorf("baresip's clear call rang the phone: %v", e.Data)
		}
	}
	u.mu.Unlock()
	if _, fromPhone := c.count(); fromPhone != 0 {
		t.Errorf("the phone sent %d media datagrams on calls it refused", fromPhone)
	}
}

// audio.srtp optional and a far end without SRTP: the call works in clear
// RTP (RTP/AVP offered with a=crypto, answered without), /v1/state shows
// no suite, and the phone logs that the audio is in clear.
func TestSRTPOptionalPlainFarEnd(t *testing.T) {
	kam, ca, far := tlsLab(t, "")
	u, c := srtpPhone(t, kam, ca, media.SRTPOptional)
	id := callFarEnd(t, u, far, "1002")
	talk(t, u, c, id, "")
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	heardBoth(t, u, far)
	u.out.mu.Lock()
	logged := u.out.buf.String()
	u.out.mu.Unlock()
	if !strings.Contains(logged, "audio is in clear") {
		t.Error("the phone did not log that the call's audio is in clear")
	}
	// The capture check sees clear audio when there is some.
	_, fromPhone := c.take()
	if l := pcmuTone(fromPhone, 1000); l < 0.05 {
		t.Errorf("the clear call's captured payloads carry 1000 Hz at only %.3f; the capture check would miss clear RTP", l)
	}
}

// pcmuTone is the level of freq in the PCMU payloads of pkts, read as
// clear RTP.
func pcmuTone(pkts [][]byte, freq float64) float64 {
	var pcm []int16
	frame := make([]int16, 160)
	for _, p := range pkts {
		if len(p) < 12+160 || p[0]>>6 != 2 || p[1]&0x7f != 0 {
			continue
		}
		if n, err := media.NewPCMU().Decode(p[12:12+160], frame); err == nil {
			pcm = append(pcm, frame[:n]...)
		}
	}
	return media.ToneLevel(pcm, 8000, freq)
}

// audio.srtp optional and baresip's best-effort "srtp" mode: both offer
// RTP/AVP with a=crypto, and the calls are encrypted both ways.
func TestSRTPOptionalBestEffort(t *testing.T) {
	kam, ca, far := tlsLab(t, "srtp")
	u, c := srtpPhone(t, kam, ca, media.SRTPOptional)
	id := callFarEnd(t, u, far, "1002")
	talk(t, u, c, id, media.SuiteAES80)
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	heardBoth(t, u, far)
	_, fromPhone := c.take()
	noClearRTP(t, "phone → baresip", fromPhone, true, 1000)

	if err := far.Dial(far.URI("1001")); err != nil {
		t.Fatal(err)
	}
	ns := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "sessionDirection") == "CallIn" })
	id = field(ns.Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	talk(t, u, c, id, media.SuiteAES80)
	if err := far.Hangup(); err != nil {
		t.Fatal(err)
	}
	u.wantEnded(id, phone.EndRemoteBye)
	_, fromPhone = c.take()
	noClearRTP(t, "phone → baresip (its call)", fromPhone, true, 1000)
}
