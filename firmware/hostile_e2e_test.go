package main

import (
	"fmt"
	"math"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"

	"github.com/pion/rtp"
)

// Hostile input from another host: 127.0.0.9 (the namespace's lo answers
// for all of 127/8), while Kamailio, the registrar the phone trusts, is on
// 127.0.0.1.

// stranger binds a UDP socket on 127.0.0.9.
func stranger(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9)})
	if err != nil {
		t.Fatalf("binding a sender on 127.0.0.9: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func strangerInvite(c *net.UDPConn, method string, n int) string {
	a := c.LocalAddr().String()
	return fmt.Sprintf("%s sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKh%d;rport\r\n"+
		"From: <sip:100@evil.example>;tag=t%d\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: hostile-%d\r\nCSeq: 1 %s\r\n"+
		"Contact: <sip:100@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", method, a, n, n, n, method, a)
}

// An INVITE straight from an untrusted address gets 403 and the phone
// never rings.
func TestHostileInviteRefused(t *testing.T) {
	kam := kamailio(t)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	c := stranger(t)
	to, err := net.ResolveUDPAddr("udp4", u.d.phone.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDP([]byte(strangerInvite(c, "INVITE", 1)), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	deadline := time.Now().Add(5 * time.Second)
	var got string
	for !strings.HasPrefix(got, "SIP/2.0 4") {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no final answer to the INVITE from 127.0.0.9 (last: %q): %v", got, err)
		}
		got = string(buf[:n])
	}
	if !strings.HasPrefix(got, "SIP/2.0 403 ") {
		t.Fatalf("the INVITE from 127.0.0.9 got %q, want 403 Forbidden", strings.SplitN(got, "\r\n", 2)[0])
	}
	// The refusal comes before the call would be offered to the phone, so
	// no session can have started by now.
	for _, e := range []string{event.NewSession, event.Ringing} {
		if strings.Contains(u.eventLog(), e) {
			t.Fatalf("the phone reacted to the refused INVITE:\n%s", u.eventLog())
		}
	}
	u.must("GET", "/v1/login", nil)
}

// A flood of INVITEs and OPTIONS from an untrusted address is cut by the
// rate limit; the phone stays registered and calls baresip afterwards.
func TestHostileFloodRateLimited(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	c := stranger(t)
	to, err := net.ResolveUDPAddr("udp4", u.d.phone.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	answers := make(chan int, 1)
	go func() { // count what the phone answered
		buf := make([]byte, 4096)
		n := 0
		for {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(buf); err != nil {
				answers <- n
				return
			}
			n++
		}
	}()
	const flood = 2000
	start := time.Now()
	for i := range flood {
		m := "INVITE"
		if i%2 == 1 {
			m = "OPTIONS"
		}
		if _, err := c.WriteToUDP([]byte(strangerInvite(c, m, i)), to); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Since(start)
	peak := runtime.NumGoroutine()
	n := <-answers
	t.Logf("flood: %d INVITE+OPTIONS from 127.0.0.9 in %v; %d answers (403s) came back; goroutines %d before, %d right after", flood, sent, n, base, peak)
	if limit := 40 + int(20*(time.Since(start).Seconds()+1)); n > limit {
		t.Errorf("%d answers to the flood: more than the rate limit lets through (%d)", n, limit)
	}
	if strings.Contains(u.eventLog(), event.NewSession) {
		t.Fatalf("the flood rang the phone:\n%s", u.eventLog())
	}
	u.must("GET", "/v1/login", nil)
	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	var g int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if g = runtime.NumGoroutine(); g <= base+5 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("goroutines after the flood and a call: %d (before the flood %d)", g, base)
	if g > base+5 {
		t.Errorf("goroutines went from %d to %d after the flood and stayed", base, g)
	}
}

// During a call through Kamailio, 127.0.0.9 sprays the phone's RTP port
// range with RFC 4733 events for digit 4 and a 3 kHz tone: no onDTMF
// comes of it, nothing of it is played, and the call's audio goes on.
func TestHostileMediaInjection(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}

	lo, hi := u.cfg.Audio.RTPPortRange()
	if lo == 0 {
		t.Fatalf("rtp_ports %q", u.cfg.Audio.RTPPorts)
	}
	c := stranger(t)
	ev := make([]byte, media.DTMFPayloadSize)
	tone := make([]int16, 160)
	pcmu, pcma := media.NewPCMU(), media.NewPCMA()
	enc := make([]byte, 160)
	sent := 0
	send := func(port int, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 0x4444, Marker: marker}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	// 1.5 s of spray interleaved with the call's own audio: every 25 ms a
	// 3 kHz frame to every port, and digit 4 every 15 frames.
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for round := range 60 {
		<-tick.C
		ts := uint32(100000 + round*160)
		for i := range tone {
			tone[i] = int16(0.9 * 32767 * math.Sin(2*math.Pi*3000*float64(round*160+i)/8000))
		}
		for port := lo; port <= hi; port += 2 {
			for _, codec := range []media.Codec{pcmu, pcma} {
				n, err := codec.Encode(tone, enc)
				if err != nil {
					t.Fatal(err)
				}
				send(port, codec.PayloadType(), uint16(round*10), ts, false, enc[:n])
			}
			if round%15 != 0 {
				continue
			}
			for i, end := range []bool{false, false, true, true} {
				if _, err := (media.DTMFEvent{Event: 4, End: end, Volume: 10, Duration: uint16(160 * (i + 1))}).MarshalTo(ev); err != nil {
					t.Fatal(err)
				}
				send(port, 101, uint16(round*10+1+i), ts, i == 0, ev)
			}
		}
	}
	t.Logf("sprayed %d RTP packets from 127.0.0.9 over ports %d-%d", sent, lo, hi)
	// A digit from the real far end after the spray: its onDTMF marks that
	// everything sprayed before it has been through the phone's receiver.
	if err := far.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	e := u.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id))
	if got := field(e.Data, "digit"); got != "7" {
		t.Fatalf("onDTMF %v from the spray, want only baresip's 7:\n%s", got, u.eventLog())
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	if strings.Count(u.eventLog(), event.DTMFReceived) != 1 {
		t.Fatalf("onDTMF other than baresip's 7:\n%s", u.eventLog())
	}
	lv := toneIn(t, u.cfg.Sim.Output, 440, 3000)
	t.Logf("phone heard: 440 Hz level %.3f, injected 3000 Hz level %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[1] > lv[0]/10 {
		t.Errorf("the call's audio did not go on untouched (440 Hz %.3f, injected 3000 Hz %.3f)", lv[0], lv[1])
	}
}
