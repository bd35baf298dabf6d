package main

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// Opus end to end against baresip 1.0.0 (Debian's build): negotiated both
// ways, tone both ways at 48 kHz, hold and resume, and DTMF. baresip
// offers and answers telephone-event at 8000 Hz only, never at Opus's
// 48000; RFC 4733 events share the audio's SSRC and clock, so with Opus
// there is no telephone-event to send on, and the phone sends the digits
// by SIP INFO instead (baresip logs "received DTMF"). Two phones agree on
// telephone-event/48000, checked on the wire.

// opusFarEnd is farEnd preferring Opus.
func opusFarEnd(t *testing.T, kam *labkit.Kamailio, user, answerMode string, toneHz int) *labkit.Baresip {
	t.Helper()
	return opusFarEndWith(t, kam, user, answerMode, toneHz, "")
}

// opusFarEndWith adds account parameters (e.g. ";ptime=40") to baresip's
// account line, after its audio_codecs.
func opusFarEndWith(t *testing.T, kam *labkit.Kamailio, user, answerMode string, toneHz int, params string) *labkit.Baresip {
	t.Helper()
	b, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: t.TempDir(), User: user, Password: labUsers[user], Registrar: kam.Addr(),
		AnswerMode: answerMode, ToneHz: toneHz, Codecs: "opus/48000/2,PCMU,PCMA" + params,
	})
	if err != nil {
		t.Fatalf("starting baresip %s: %v", user, err)
	}
	t.Cleanup(func() {
		_ = b.Stop()
		if t.Failed() {
			t.Logf("baresip %s's log:\n%s", user, b.Log())
		}
	})
	return b
}

func opusConfig(t *testing.T, kam *labkit.Kamailio) *config.Config {
	t.Helper()
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Audio.Codecs = []string{"OPUS", "PCMU", "PCMA"}
	return cfg
}

// TestOpusCallOut: the phone calls baresip with Opus first; Opus is
// negotiated, each side hears the other's tone, DTMF reaches baresip,
// and hold/resume keeps the call and its audio.
func TestOpusCallOut(t *testing.T) {
	kam := kamailio(t)
	far := opusFarEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, opusConfig(t, kam))
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	time.Sleep(1500 * time.Millisecond) // let audio flow both ways

	u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "19#"})
	waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == "19#" },
		func() string { return "baresip received DTMF " + far.ReceivedDTMF() + ", want 19#" })

	u.must("POST", "/v1/hold", map[string]string{"sessionId": id})
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "local" })
	u.waitState(id, string(phone.StateHeld), 3*time.Second)
	u.must("POST", "/v1/unhold", map[string]string{"sessionId": id})
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "local" })
	u.waitState(id, string(phone.StateConnected), 3*time.Second)
	time.Sleep(1500 * time.Millisecond) // audio after the resume

	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	checkOpusAudio(t, u, far)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Errorf("baresip did not see the BYE: %v", err)
	}
	u.noEvent(event.Warning)
}

// TestOpusPtime40: baresip calls with 40 ms packets asked for (its
// offer's a=ptime:40); the phone answers a=ptime:40, both send Opus in
// 40 ms packets (RTP timestamps 1920 apart at 48 kHz), and the tones still
// cross both ways. (Called by the phone, baresip answers with the offer's
// ptime whatever its own.)
func TestOpusPtime40(t *testing.T) {
	kam := kamailio(t)
	far := opusFarEndWith(t, kam, "1003", "manual", 440, ";ptime=40")
	u := startPhone(t, opusConfig(t, kam))
	u.registered()
	sniff := sniffRTP(t)
	if err := far.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	id := field(u.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	var steps map[uint32][]uint32 // per SSRC: timestamp steps between packets
	waitFor(t, 10*time.Second, func() bool {
		steps = rtpSteps(sniff(), 96) // Opus as baresip's offer numbers it
		for _, st := range steps {
			if len(st) >= 25 {
				return len(steps) == 2
			}
		}
		return false
	}, func() string { return fmt.Sprintf("Opus packets per SSRC so far: %v", steps) })
	for ssrc, st := range steps {
		n := 0
		for _, d := range st {
			if d == 1920 {
				n++
			}
		}
		t.Logf("SSRC %#x: %d of %d timestamp steps are 1920", ssrc, n, len(st))
		if n < len(st)*9/10 {
			t.Errorf("SSRC %#x: timestamp steps %v; want 1920 (40 ms at 48 kHz)", ssrc, st)
		}
	}
	time.Sleep(time.Second)
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	checkOpusAudio(t, u, far)
}

// rtpSteps groups packets of payload type pt by SSRC and gives the
// timestamp steps between consecutive ones.
func rtpSteps(pkts []rtpPacket, pt uint8) map[uint32][]uint32 {
	last := map[uint32]uint32{}
	steps := map[uint32][]uint32{}
	for _, p := range pkts {
		if p.pt != pt {
			continue
		}
		if ts, ok := last[p.ssrc]; ok {
			steps[p.ssrc] = append(steps[p.ssrc], p.ts-ts)
		}
		last[p.ssrc] = p.ts
	}
	return steps
}

// TestOpusCallIn: baresip calls the phone offering Opus first; the phone
// answers with Opus and both hear each other; the phone's DTMF reaches
// baresip (by SIP INFO). baresip's own DTMF cannot reach the phone on
// such a call: it sends RFC 4733 only, and only at 8000 Hz, which the
// phone does not accept beside Opus.
func TestOpusCallIn(t *testing.T) {
	kam := kamailio(t)
	far := opusFarEnd(t, kam, "1003", "manual", 440)
	u := startPhone(t, opusConfig(t, kam))
	u.registered()
	if err := far.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	ns := u.waitEvent(event.NewSession, 10*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never saw the answer: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "7"})
	waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == "7" },
		func() string { return "baresip received DTMF " + far.ReceivedDTMF() + ", want 7" })
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	checkOpusAudio(t, u, far)
	u.noEvent(event.Warning)
}

// checkOpusAudio checks the call was Opus (the phone's speaker ran at
// 48 kHz, baresip used its opus codec) and each side heard the other.
func checkOpusAudio(t *testing.T, u *dut, far *labkit.Baresip) {
	t.Helper()
	a, err := wav.ReadFile(u.cfg.Sim.Output)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 48000 {
		t.Errorf("the phone played at %d Hz: the call was not Opus", a.Rate)
	}
	if !strings.Contains(far.Log(), "opus") {
		t.Errorf("baresip's log never mentions opus")
	}
	lv := toneIn(t, u.cfg.Sim.Output, 440, 1000)
	t.Logf("phone heard: 440 Hz level %.3f, 1000 Hz level %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("the phone did not hear baresip's 440 Hz over Opus (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
	recs, err := far.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recordings: %v %v", recs, err)
	}
	lv = toneIn(t, recs[0], 1000, 440)
	t.Logf("baresip heard: 1000 Hz level %.3f, 440 Hz level %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("baresip did not hear the phone's 1 kHz over Opus (1000: %.3f, 440: %.3f)", lv[0], lv[1])
	}
}

// TestOpusPhoneToPhoneDTMF48k: two phones offering Opus agree on it and
// on telephone-event/48000 (the offer carries 8000 and 48000), so digits
// go as RFC 4733 events on the 48 kHz clock: the sender's stream counts
// them sent, the receiver's counts them received, and onDTMF reports
// them; hold and resume keep the call.
func TestOpusPhoneToPhoneDTMF48k(t *testing.T) {
	kam := kamailio(t)
	a := startPhone(t, opusConfig(t, kam))
	cfgB := phoneConfigFor(t, "1004", kam.Addr(), labUsers["1004"])
	cfgB.Audio.Codecs = []string{"OPUS", "PCMU"}
	cfgB.Sim.Input = "tone:440"
	b := startPhone(t, cfgB)
	a.registered()
	b.registered()
	id := a.must("POST", "/v1/call", map[string]string{"to": "1004"})["sessionId"].(string)
	nb := b.waitEvent(event.NewSession, 10*time.Second, nil)
	idb := field(nb.Data, "sessionId").(string)
	b.must("POST", "/v1/answer", map[string]string{"sessionId": idb})
	a.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	time.Sleep(time.Second) // talking

	sniff := sniffRTP(t)
	a.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "42"})
	for _, want := range []string{"4", "2"} {
		if e := b.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(idb)); field(e.Data, "digit") != want {
			t.Fatalf("phone 1004 got DTMF %v, want %s", e.Data, want)
		}
	}
	// On the wire: each digit's end packet lasts 4800 units, 100 ms on
	// the 48 kHz clock (800 would be telephone-event/8000).
	var ends []string
	waitFor(t, 5*time.Second, func() bool {
		ends = nil
		for _, p := range sniff() {
			if len(p.payload) == 4 && p.payload[1]&0x80 != 0 && (p.payload[0] == 4 || p.payload[0] == 2) {
				ends = append(ends, fmt.Sprintf("PT %d event %d duration %d", p.pt, p.payload[0], binary.BigEndian.Uint16(p.payload[2:])))
			}
		}
		return len(ends) >= 6 // three end packets per digit (RFC 4733 §2.5.1.4)
	}, func() string { return fmt.Sprintf("end packets seen: %q", ends) })
	for _, e := range ends {
		if !strings.HasSuffix(e, "duration 4800") {
			t.Errorf("telephone-event end packet %s; want duration 4800 (100 ms at 48 kHz)", e)
		}
	}
	t.Logf("telephone-event end packets: %q", ends)

	a.must("POST", "/v1/hold", map[string]string{"sessionId": id})
	b.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "remote" })
	a.waitState(id, string(phone.StateHeld), 3*time.Second)
	a.must("POST", "/v1/unhold", map[string]string{"sessionId": id})
	b.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "remote" })
	a.waitState(id, string(phone.StateConnected), 3*time.Second)
	time.Sleep(2 * time.Second) // talking again

	a.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	a.wantEnded(id, phone.EndLocalBye)
	b.wantEnded(idb, phone.EndRemoteBye)
	for _, c := range []struct {
		u         *dut
		want, not float64
	}{{a, 440, 1000}, {b, 1000, 440}} {
		w, err := wav.ReadFile(c.u.cfg.Sim.Output)
		if err != nil || w.Rate != 48000 {
			t.Fatalf("%s: %v, rate %v: want a 48 kHz (Opus) recording", c.u.cfg.Sim.Output, err, w)
		}
		lv := tailLevels(t, c.u.cfg.Sim.Output, time.Second, c.want, c.not)
		t.Logf("%s after the resume: %.0f Hz level %.3f, %.0f Hz %.3f", c.u.cfg.Account.User, c.want, lv[0], c.not, lv[1])
		if lv[0] < 0.05 || lv[0] < 5*lv[1] {
			t.Errorf("%s after the resume: %.0f Hz level %.3f, %.0f Hz %.3f", c.u.cfg.Account.User, c.want, lv[0], c.not, lv[1])
		}
	}
}

type rtpPacket struct {
	pt      uint8
	ts      uint32
	ssrc    uint32
	payload []byte
}

// sniffRTP captures the UDP datagrams that look like RTP on the test's
// network namespace (an AF_PACKET socket: root, as the e2e tests run)
// until the test ends; the function returned gives those seen so far.
func sniffRTP(t *testing.T) func() []rtpPacket {
	t.Helper()
	const ethPIP = 0x0800
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, int(htons(ethPIP)))
	if err != nil {
		t.Fatalf("packet socket (the e2e tests run as root in their own namespace): %v", err)
	}
	tv := syscall.Timeval{Usec: 100000}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		pkts []rtpPacket
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			select {
			case <-done:
				return
			default:
			}
			n, from, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				continue // the timeout: look at done again
			}
			if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == 4 { // PACKET_OUTGOING: loopback shows each twice
				continue
			}
			ip := buf[:n]
			if len(ip) < 20 || ip[9] != syscall.IPPROTO_UDP {
				continue
			}
			udp := ip[int(ip[0]&0x0f)*4:]
			if len(udp) < 8+12 {
				continue
			}
			rtp := udp[8:]
			if rtp[0]>>6 != 2 || rtp[0]&0x0f != 0 || rtp[1]&0x7f >= 72 && rtp[1]&0x7f <= 76 { // RTP without CSRCs, not RTCP
				continue
			}
			mu.Lock()
			pkts = append(pkts, rtpPacket{
				pt: rtp[1] & 0x7f, ts: binary.BigEndian.Uint32(rtp[4:]), ssrc: binary.BigEndian.Uint32(rtp[8:]),
				payload: append([]byte(nil), rtp[12:]...),
			})
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(done)
		wg.Wait()
		_ = syscall.Close(fd)
	})
	return func() []rtpPacket {
		mu.Lock()
		defer mu.Unlock()
		return append([]rtpPacket(nil), pkts...)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
