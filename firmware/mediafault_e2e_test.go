package main

// Media faults and the audio controls end to end: baresip whose RTP
// really stops (SIGSTOP) ends the call with -3308, but not while it holds
// the phone; a SIPp caller that never sends RTP gives the -3307 warning
// and the call goes on; the volume API changes what baresip hears and
// what the phone plays; the ringer plays on the sim board's speaker.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

const (
	e2eMediaTimeout = 3 * time.Second // calls.media_timeout in these tests
	e2eFirstMedia   = 2 * time.Second // calls.first_media_timeout
)

// quietFor watches for d and fails if the session gets an event named name
// meanwhile: "nothing happens for this long" has no earlier end.
func (u *dut) quietFor(id, name string, d time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		u.mu.Lock()
		for _, e := range u.events {
			if e.Name == name && sessionIs(id)(e.Data) {
				u.mu.Unlock()
				u.t.Fatalf("%s within %v: %v; events:\n%s", name, d, e.Data, u.eventLog())
			}
		}
		u.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
}

// errorWith waits for an onError/onWarning with this code about session id.
func (u *dut) errorWith(name string, code int, id string, timeout time.Duration) event.Event {
	u.t.Helper()
	key := map[string]string{event.Error: "errCode", event.Warning: "warningCode"}[name]
	return u.waitEvent(name, timeout, func(d any) bool {
		c, _ := field(d, key).(float64)
		return int(c) == code && field(d, "extraInfo") == id
	})
}

// baresip holds the phone and then stops dead for twice the media
// timeout: the call stays up (a held far end may stop sending). Resumed,
// its RTP stops for real (SIGSTOP): the call ends with Error and -3308.
func TestMediaTimeoutEndsCallButNotOnHold(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Calls.Keepalive = 0 // only the media watchdog may notice
	cfg.Calls.MediaTimeout, cfg.Calls.FirstMediaTimeout = e2eMediaTimeout, e2eFirstMedia
	u := startPhone(t, cfg)
	u.registered()
	id := callFarEnd(t, u, far, "1002")

	if _, err := far.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == true && field(d, "by") == "remote" })
	u.waitState(id, string(phone.StateRemoteHeld), 3*time.Second)
	if err := far.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	t.Cleanup(func() {
		if paused {
			_ = far.Continue()
		}
	})
	u.quietFor(id, event.Ended, 2*e2eMediaTimeout)
	if err := far.Continue(); err != nil {
		t.Fatal(err)
	}
	paused = false
	if _, err := far.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.Hold, 5*time.Second, func(d any) bool { return field(d, "held") == false && field(d, "by") == "remote" })
	u.waitState(id, string(phone.StateConnected), 3*time.Second)
	u.quietFor(id, event.Ended, e2eMediaTimeout+time.Second) // baresip's RTP flows again

	if err := far.Pause(); err != nil {
		t.Fatal(err)
	}
	paused = true
	stopped := time.Now()
	e := u.waitEvent(event.Ended, 5*e2eMediaTimeout, sessionIs(id))
	t.Logf("the call ended %v after baresip stopped (calls.media_timeout %v): %v", time.Since(stopped).Round(time.Millisecond), e2eMediaTimeout, e.Data)
	if field(e.Data, "reason") != phone.EndError || !strings.Contains(fmt.Sprint(field(e.Data, "reasonMessage")), "-3308") {
		t.Errorf("onEnded = %v, want Error with -3308 in reasonMessage", e.Data)
	}
	u.errorWith(event.Error, phone.ErrRTCConnectServerTimeout, id, time.Second)
	u.noEvent(event.Warning) // RTP came: no -3307
}

// A SIPp caller whose offer points where nobody sends: answered, the
// phone warns -3307 after calls.first_media_timeout and the call goes on
// until the caller hangs up (no -3308: media never flowed).
func TestNoMediaAfterAnswerWarns(t *testing.T) {
	cfg := phoneConfigFor(t, "1001", kamailio(t).Addr(), labUsers["1001"])
	cfg.Calls.Keepalive = 0
	cfg.Calls.MediaTimeout, cfg.Calls.FirstMediaTimeout = e2eMediaTimeout, e2eFirstMedia
	u := startPhone(t, cfg)
	u.registered()
	s := sipp(t, u, labkit.ScenarioRefresh, map[string]string{"refreshes": "2", "interval_ms": "3000"})
	ns := u.waitEvent(event.NewSession, 10*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	u.waitEvent(event.Accepted, 5*time.Second, sessionIs(id))
	answered := time.Now()
	w := u.errorWith(event.Warning, phone.ErrRTCRequestIPTimeout, id, 4*e2eFirstMedia)
	t.Logf("-3307 came %v after the answer (calls.first_media_timeout %v): %v", time.Since(answered).Round(time.Millisecond), e2eFirstMedia, w.Data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("the SIPp caller failed: %v", err)
	}
	u.wantEnded(id, phone.EndRemoteBye)
	u.noEvent(event.Error)
}

// Capture and play-out volume 50 (a factor of 0.25): baresip hears the
// phone's 1 kHz at a quarter of the level, and the phone plays baresip's
// 440 Hz at a quarter.
func TestVolumesChangeWhatIsHeard(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	time.Sleep(3500 * time.Millisecond) // talking at volume 100 (the first second may be the jitter buffer filling)
	u.must("POST", "/v1/audio/capture-volume", map[string]int{"volume": 50})
	u.must("POST", "/v1/audio/playout-volume", map[string]int{"volume": 50})
	st := u.must("GET", "/v1/audio", nil)
	if st["captureVolume"] != 50.0 || st["playOutVolume"] != 50.0 {
		t.Errorf("GET /v1/audio = %v, want both volumes 50", st)
	}
	time.Sleep(2500 * time.Millisecond) // talking at volume 50
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip never closed the call: %v", err)
	}

	// The second before the change and the second before the end.
	ratio := func(who, path string, hz float64) {
		t.Helper()
		before := medianLevel(t, path, 4*time.Second, 3*time.Second, hz)
		after := medianLevel(t, path, 1500*time.Millisecond, 500*time.Millisecond, hz)
		r := after / before
		t.Logf("%s: %.0f Hz at %.4f at volume 100, %.4f at 50: ratio %.3f (%.1f dB; want 0.25, -12 dB)", who, hz, before, after, r, 20*math.Log10(r))
		if before < 0.02 || r < 0.18 || r > 0.32 {
			t.Errorf("%s: level ratio %.3f (%.4f → %.4f), want about 0.25", who, r, before, after)
		}
	}
	ratio("the phone's speaker", u.cfg.Sim.Output, 440)
	recs, err := far.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recordings: %v %v", recs, err)
	}
	ratio("baresip", recs[len(recs)-1], 1000)
}

// medianLevel is the median of freq's level over the 100 ms blocks between
// from and to before the end of a WAV: a level, not disturbed by a short
// gap (a jitter buffer adapting) in the segment.
func medianLevel(t *testing.T, path string, from, to time.Duration, freq float64) float64 {
	t.Helper()
	a := readWAVAsIs(t, path)
	mono := a.Mono()
	i, j := len(mono)-int(from.Seconds()*float64(a.Rate)), len(mono)-int(to.Seconds()*float64(a.Rate))
	if i < 0 {
		t.Fatalf("%s is shorter than %v", path, from)
	}
	block := a.Rate / 10
	var levels []float64
	for k := i; k+block <= j; k += block {
		levels = append(levels, media.ToneLevel(mono[k:k+block], a.Rate, freq))
	}
	slices.Sort(levels)
	return levels[len(levels)/2]
}

// baresip calls: while the phone rings, its speaker (the sim board's
// output) plays the 440 + 480 Hz ring tone; rejecting stops it.
func TestRingerPlaysWhileRinging(t *testing.T) {
	u, _, ns := inboundCall(t, nil)
	id := field(ns.Data, "sessionId").(string)
	var mono []int16
	rate := 0
	waitFor(t, 10*time.Second, func() bool {
		a, err := wav.ReadFile(u.cfg.Sim.Output) // flushed about every second
		if err != nil {
			return false
		}
		mono, rate = a.Mono(), a.Rate
		return len(mono) >= rate
	}, func() string {
		return fmt.Sprintf("the speaker played %d samples, want a second of ring tone", len(mono))
	})
	if st := u.must("GET", "/v1/audio", nil); st["ringing"] != true {
		t.Errorf("GET /v1/audio while ringing = %v, want ringing", st)
	}
	on := mono[:rate] // the cadence's first second: both tones
	l440, l480, l1000 := media.ToneLevel(on, rate, 440), media.ToneLevel(on, rate, 480), media.ToneLevel(on, rate, 1000)
	t.Logf("ring tone: 440 Hz %.3f, 480 Hz %.3f, 1000 Hz %.3f", l440, l480, l1000)
	if l440 < 0.1 || l480 < 0.1 || l1000 > l440/10 {
		t.Errorf("the speaker does not play the ring tone (440: %.3f, 480: %.3f, 1000: %.3f)", l440, l480, l1000)
	}
	u.must("POST", "/v1/reject", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	waitFor(t, 3*time.Second, func() bool { return u.must("GET", "/v1/audio", nil)["ringing"] == false },
		func() string { return "the ringer still plays after the call was rejected" })
}
