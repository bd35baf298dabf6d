package main

// End-to-end tests of the call core against real Kamailio and baresip:
// hold both ways, call waiting, transfer, the terminate races, and input
// that must not reach the wire.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

// musicWAV writes a one-second tone to play as hold music.
func musicWAV(t *testing.T, hz float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "music.wav")
	w, err := wav.Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// tailLevels are the levels of freqs in the last d of a WAV.
func tailLevels(t *testing.T, path string, d time.Duration, freqs ...float64) []float64 {
	t.Helper()
	return segmentLevels(t, path, d, 0, freqs...)
}

// segmentLevels are the levels of freqs between from and to before the
// end of a WAV (from > to).
func segmentLevels(t *testing.T, path string, from, to time.Duration, freqs ...float64) []float64 {
	t.Helper()
	a := readWAVAsIs(t, path)
	mono := a.Mono()
	i, j := len(mono)-int(from.Seconds()*float64(a.Rate)), len(mono)-int(to.Seconds()*float64(a.Rate))
	if i < 0 {
		t.Fatalf("%s is shorter than %v", path, from)
	}
	out := make([]float64, len(freqs))
	for k, f := range freqs {
		out[k] = media.ToneLevel(mono[i:j], a.Rate, f)
	}
	return out
}

// readWAVAsIs reads a 16-bit mono WAV whose writer may not have filled in
// its sizes yet: the samples are whatever follows the data chunk's header.
func readWAVAsIs(t *testing.T, path string) *wav.Audio {
	t.Helper()
	if a, err := wav.ReadFile(path); err == nil && a.Frames() > 0 {
		return a
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("data"))
	if i < 0 || len(b) < i+8 || len(b) < 28 {
		t.Fatalf("%s: no data chunk in %d bytes", path, len(b))
	}
	rate := int(binary.LittleEndian.Uint32(b[24:28]))
	data := b[i+8:]
	pcm := make([]int16, len(data)/2)
	for k := range pcm {
		pcm[k] = int16(binary.LittleEndian.Uint16(data[2*k:]))
	}
	return &wav.Audio{Rate: rate, Channels: 1, Samples: pcm}
}

// callFarEnd has the phone call an auto-answering baresip and waits for
// the call to be up on both sides.
func callFarEnd(t *testing.T, u *dut, far *labkit.Baresip, to string) string {
	t.Helper()
	id := u.must("POST", "/v1/call", map[string]string{"to": to})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	return id
}

// sessionState polls /v1/state for a session's state ("" once it is gone).
func (u *dut) sessionState(id string) string {
	st := u.must("GET", "/v1/state", nil)
	list, _ := st["sessions"].([]any)
	for _, s := range list {
		m := s.(map[string]any)
		if m["sessionId"] == id {
			return m["state"].(string)
		}
	}
	return ""
}

func (u *dut) waitState(id, want string, timeout time.Duration) {
	u.t.Helper()
	waitFor(u.t, timeout, func() bool { return u.sessionState(id) == want },
		func() string { return fmt.Sprintf("session %s is %q, want %q", id, u.sessionState(id), want) })
}

// noEvent fails if an event with this name was recorded.
func (u *dut) noEvent(name string) {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range u.events {
		if e.Name == name {
			u.t.Errorf("unexpected %s: %v", name, e.Data)
		}
	}
}

// baresip holds the phone: the display says so, the phone answers 200 with
// no warning; baresip resumes and its tone is heard again.
func TestHeldByFarEnd(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	id := callFarEnd(t, u, far, "1002")

	if _, err := far.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "remote" })
	u.waitDisplay("Held by 1002", 3*time.Second)
	u.waitState(id, string(phone.StateRemoteHeld), 3*time.Second)

	if _, err := far.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "remote" })
	u.waitDisplay("Talking 1002", 3*time.Second)
	u.waitState(id, string(phone.StateConnected), 3*time.Second)
	time.Sleep(1500 * time.Millisecond) // audio after the resume
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if lv := tailLevels(t, u.cfg.Sim.Output, time.Second, 440, 1000); lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("after resume the phone does not hear baresip's 440 Hz (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
	u.noEvent(event.Warning)
}

// The phone holds baresip: baresip gets the hold and the resume as
// re-INVITEs and the call stays up; after resume the phone hears it again.
// (baresip 1.0.0's sndfile stops recording when a re-INVITE restarts its
// player, so the music itself is checked phone to phone below.)
func TestHoldFarEnd(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Calls.HoldMusic = musicWAV(t, 660)
	u := startPhone(t, cfg)
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	reinvites := func() int { return strings.Count(far.Log(), "got re-INVITE") }

	u.must("POST", "/v1/hold", map[string]string{"sessionId": id})
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "local" })
	u.waitDisplay("On hold 1002", 3*time.Second)
	u.waitLED("line", "blink", 3*time.Second)
	waitFor(t, 5*time.Second, func() bool { return reinvites() == 1 },
		func() string { return fmt.Sprintf("baresip saw %d re-INVITEs, want 1 (the hold)", reinvites()) })

	u.must("POST", "/v1/unhold", map[string]string{"sessionId": id})
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "local" })
	u.waitDisplay("Talking 1002", 3*time.Second)
	u.waitLED("line", "on", 3*time.Second)
	waitFor(t, 5*time.Second, func() bool { return reinvites() == 2 },
		func() string { return fmt.Sprintf("baresip saw %d re-INVITEs, want 2 (hold, resume)", reinvites()) })
	time.Sleep(1500 * time.Millisecond) // audio after the resume
	if n, err := far.ListCalls(); err != nil || n != 1 {
		t.Errorf("baresip has %d calls (%v), want the one call still up", n, err)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if lv := tailLevels(t, u.cfg.Sim.Output, time.Second, 440, 1000); lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("resumed: the phone does not hear baresip's 440 Hz again (440: %.3f, 1000: %.3f)", lv[0], lv[1])
	}
	u.noEvent(event.Warning)
}

// Phone 1001 holds phone 1004: 1004 hears the 660 Hz hold music instead
// of 1001's 1 kHz microphone, shows "Held by 1001", and after the resume
// hears the microphone again.
func TestHoldMusicReachesTheFarEnd(t *testing.T) {
	kam := kamailio(t)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Calls.HoldMusic = musicWAV(t, 660)
	a := startPhone(t, cfg)
	b := startPhone(t, phoneConfigFor(t, "1004", kam.Addr(), labUsers["1004"]))
	a.registered()
	b.registered()
	id := a.must("POST", "/v1/call", map[string]string{"to": "1004"})["sessionId"].(string)
	nb := b.waitEvent(event.NewSession, 10*time.Second, nil)
	idb := field(nb.Data, "sessionId").(string)
	b.must("POST", "/v1/answer", map[string]string{"sessionId": idb})
	a.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	time.Sleep(1500 * time.Millisecond) // talking

	a.must("POST", "/v1/hold", map[string]string{"sessionId": id})
	b.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "remote" })
	b.waitDisplay("Held by 1001", 3*time.Second)
	time.Sleep(2 * time.Second) // music
	a.must("POST", "/v1/unhold", map[string]string{"sessionId": id})
	b.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "remote" })
	time.Sleep(2 * time.Second) // talking again
	a.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	b.wantEnded(idb, phone.EndRemoteBye)

	heard := b.cfg.Sim.Output
	held := segmentLevels(t, heard, 3500*time.Millisecond, 2500*time.Millisecond, 660, 1000)
	if held[0] < 0.05 || held[0] < 5*held[1] {
		t.Errorf("held: the far end does not hear the 660 Hz music (660: %.3f, 1000: %.3f)", held[0], held[1])
	}
	resumed := segmentLevels(t, heard, time.Second, 0, 660, 1000)
	if resumed[1] < 0.05 || resumed[1] < 5*resumed[0] {
		t.Errorf("resumed: the far end does not hear the microphone's 1 kHz (660: %.3f, 1000: %.3f)", resumed[0], resumed[1])
	}
	a.noEvent(event.Warning)
	b.noEvent(event.Warning)
}

// Call waiting: 1002 calls and is answered, 1003 calls → a second session
// rings; answering it holds 1002; unhold 1002 swaps; both hang up.
func TestCallWaitingSwap(t *testing.T) {
	kam := kamailio(t)
	a := farEnd(t, kam, "1002", "manual", 440)
	b := farEnd(t, kam, "1003", "manual", 880)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()

	if err := a.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	na := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "callerPhoneNumber") == "1002" })
	ida := field(na.Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": ida})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(ida))

	if err := b.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	nb := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "callerPhoneNumber") == "1003" })
	idb := field(nb.Data, "sessionId").(string)
	u.waitDisplay("Call waiting | From 1003", 3*time.Second)
	u.waitLED("line", "fast-blink", 3*time.Second)
	if n := len(u.must("GET", "/v1/state", nil)["sessions"].([]any)); n != 2 {
		t.Fatalf("state lists %d sessions, want 2", n)
	}

	u.must("POST", "/v1/answer", map[string]string{"sessionId": idb})
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(idb))
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "sessionId") == ida && field(d, "held") == true })
	u.waitState(ida, string(phone.StateHeld), 3*time.Second)
	u.waitState(idb, string(phone.StateConnected), 3*time.Second)

	u.must("POST", "/v1/unhold", map[string]string{"sessionId": ida}) // swap
	u.waitState(ida, string(phone.StateConnected), 5*time.Second)
	u.waitState(idb, string(phone.StateHeld), 5*time.Second)
	u.waitDisplay("Talking 1002", 3*time.Second)

	u.must("POST", "/v1/terminate", map[string]string{"sessionId": ida})
	u.wantEnded(ida, phone.EndLocalBye)
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	u.wantEnded(idb, phone.EndRemoteBye)

	// Each session's lifecycle in order.
	for _, id := range []string{ida, idb} {
		var names []string
		u.mu.Lock()
		for _, e := range u.events {
			if field(e.Data, "sessionId") == id && (e.Name == event.NewSession || e.Name == event.Accepted || e.Name == event.Ended) {
				names = append(names, e.Name)
			}
		}
		u.mu.Unlock()
		if got := strings.Join(names, ","); got != "onNewSession,onAccepted,onEnded" {
			t.Errorf("session %s events = %s", id, got)
		}
	}
}

// A third call beyond calls.max_lines gets 486 and still shows as a
// session that ends as missed.
func TestLinesFullMissedCall(t *testing.T) {
	kam := kamailio(t)
	a := farEnd(t, kam, "1002", "manual", 440)
	b := farEnd(t, kam, "1003", "manual", 880)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Calls.MaxLines = 1
	u := startPhone(t, cfg)
	u.registered()
	if err := a.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "callerPhoneNumber") == "1002" })
	if err := b.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	nb := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "callerPhoneNumber") == "1003" })
	e := u.waitEvent(event.Ended, 5*time.Second, sessionIs(field(nb.Data, "sessionId").(string)))
	if field(e.Data, "sipCode") != float64(486) || !strings.Contains(field(e.Data, "reasonMessage").(string), "missed") {
		t.Errorf("the call beyond max_lines ended with %v, want a missed call with 486", e.Data)
	}
	if _, err := b.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Errorf("1003 was not told the phone is busy: %v", err)
	}
}

// Blind transfer: the phone's call with 1002 goes to 1003; 1002 and 1003
// talk and the phone's leg ends. A REFER to 9999 leaves the call up.
func TestBlindTransfer(t *testing.T) {
	kam := kamailio(t)
	a := farEnd(t, kam, "1002", "auto", 440)
	c := farEnd(t, kam, "1003", "auto", 880)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	id := callFarEnd(t, u, a, "1002")

	u.must("POST", "/v1/transfer", map[string]string{"sessionId": id, "to": "9999"})
	e := u.waitEvent(event.Transfer, 15*time.Second, func(d any) bool { return field(d, "status") == "failed" })
	t.Logf("transfer to 9999: %v", e.Data)
	u.waitEvent(event.Error, 5*time.Second, func(d any) bool { return field(d, "extraInfo") == id })
	u.waitState(id, string(phone.StateConnected), 5*time.Second)
	u.waitDisplay("Transfer failed", 3*time.Second)

	u.must("POST", "/v1/transfer", map[string]string{"sessionId": id, "to": "1003"})
	if _, err := c.WaitEvent(ctxT(t, 15*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("1003 never got the transferred call: %v\n%s", err, a.Log())
	}
	e = u.wantEnded(id, phone.EndLocalBye)
	if !strings.Contains(field(e.Data, "reasonMessage").(string), "transferred") {
		t.Errorf("onEnded = %v, want a transfer", e.Data)
	}
	waitFor(t, 5*time.Second, func() bool { n, _ := a.ListCalls(); return n == 1 },
		func() string {
			n, err := a.ListCalls()
			return fmt.Sprintf("1002 has %d calls (%v), want 1 (with 1003)", n, err)
		})
}

// The races of call-then-terminate: at offsets from 0 to 10 ms, 100 times.
// No session stays on the phone and no call stays up at baresip.
func TestCallTerminateRaces(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	for i := 0; i < 100; i++ {
		id := u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
		time.Sleep(time.Duration(i%11) * time.Millisecond) // the offset is the test's variable
		start := time.Now()
		code, body := u.do("POST", "/v1/terminate", map[string]string{"sessionId": id})
		// Not a speed target (the figures are in the issue note): a
		// terminate that waited for the network (a CANCEL's answer, 32 s
		// transaction timers) would take seconds.
		if d := time.Since(start); d > blocking {
			t.Errorf("try %d: terminate took %v: it waited for the network", i, d)
		}
		if code != 200 && code != 400 { // 400: it had already ended (e.g. failed)
			t.Fatalf("try %d: terminate answered %d %v", i, code, body)
		}
		u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	}
	waitFor(t, 40*time.Second, func() bool {
		n, err := far.ListCalls()
		return err == nil && n == 0 && len(u.must("GET", "/v1/state", nil)["sessions"].([]any)) == 0
	}, func() string {
		n, err := far.ListCalls()
		return fmt.Sprintf("after 100 tries baresip has %d calls (%v), the phone %v", n, err, u.must("GET", "/v1/state", nil)["sessions"])
	})
}

// A uui of 1000 characters makes the INVITE too big for UDP: it goes over
// TCP and arrives whole.
func TestLargeUUIOverTCP(t *testing.T) {
	kam := kamailio(t)
	caller := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	callee := startPhone(t, phoneConfigFor(t, "1004", kam.Addr(), labUsers["1004"]))
	caller.registered()
	callee.registered()
	uui := strings.Repeat("0123456789", 100)
	id := caller.must("POST", "/v1/call", map[string]string{"to": "1004", "uui": uui})["sessionId"].(string)
	ns := callee.waitEvent(event.NewSession, 10*time.Second, nil)
	if field(ns.Data, "uui") != uui {
		t.Fatalf("callee's uui has %d characters, want 1000", len(field(ns.Data, "uui").(string)))
	}
	caller.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	callee.waitEvent(event.Ended, 10*time.Second, nil)
}

// A `to` with CR/LF is refused with 20003 and never reaches the wire.
func TestCRLFInToRefused(t *testing.T) {
	kam := kamailio(t)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	code, body := u.do("POST", "/v1/call", map[string]string{"to": "1002\r\nX-Evil: 1"})
	if code != 400 || body["code"] != float64(phone.ErrSIPURIWrongFormat) {
		t.Fatalf("call with CR/LF answered %d %v, want 400 with code 20003", code, body)
	}
	if n := len(u.must("GET", "/v1/state", nil)["sessions"].([]any)); n != 0 {
		t.Errorf("a refused call left %d sessions", n)
	}
}

// A far end that stops answering (SIGSTOP) is found by the in-dialog
// OPTIONS keepalive, and the call ends with reason Error.
func TestDeadFarEndDetected(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Calls.Keepalive = time.Second
	u := startPhone(t, cfg)
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	if err := far.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = far.Continue() })
	e := u.waitEvent(event.Ended, 15*time.Second, sessionIs(id))
	if field(e.Data, "reason") != phone.EndError {
		t.Fatalf("onEnded = %v, want Error", e.Data)
	}
}
