package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

// RTCP and call quality with a real baresip, both ways RFC 3550 allows:
// reports on RTP port + 1, and multiplexed on the RTP port (RFC 5761; the
// phone offers a=rtcp-mux and baresip with rtcp_mux accepts it). During
// the call the phone gets baresip's reports (RTT, jitter, loss, MOS in
// /v1/state and onNetworkQuality), hears its tone (onAudioVolume), and
// baresip gets the phone's sender reports (its CALL_RTCP event). With
// rtcp-mux both offer/answer directions run: the phone's offer and its
// answer to baresip's.
func TestRTCPWithBaresip(t *testing.T) {
	kam := kamailio(t)
	for _, c := range []struct {
		name         string
		mux, inbound bool
	}{{"port+1", false, false}, {"rtcp-mux", true, false}, {"rtcp-mux inbound", true, true}} {
		t.Run(c.name, func(t *testing.T) { rtcpCall(t, kam, c.mux, c.inbound) })
	}
}

func rtcpCall(t *testing.T, kam *labkit.Kamailio, mux, inbound bool) {
	answer := "auto"
	if inbound {
		answer = "manual"
	}
	far, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: t.TempDir(), User: "1002", Password: labUsers["1002"], Registrar: kam.Addr(),
		AnswerMode: answer, ToneHz: 440, Codecs: "PCMU,PCMA", RTCPMux: mux,
	})
	if err != nil {
		t.Fatalf("starting baresip: %v", err)
	}
	t.Cleanup(func() {
		_ = far.Stop()
		if t.Failed() {
			t.Logf("baresip's log:\n%s", far.Log())
		}
	})
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()

	var id string
	if inbound {
		if err := far.Dial(far.URI("1001")); err != nil {
			t.Fatal(err)
		}
		id, _ = field(u.waitEvent(event.NewSession, 10*time.Second, nil).Data, "sessionId").(string)
		u.must("POST", "/v1/answer", map[string]string{"sessionId": id})
	} else {
		id, _ = u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
	}
	if id == "" {
		t.Fatal("no sessionId for the call")
	}
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))

	// baresip's reports reach the phone: onNetworkQuality rates the
	// loopback call Excellent or Good, from received RTCP.
	q := u.waitEvent(event.NetworkQuality, 30*time.Second, func(d any) bool {
		return field(d, "sessionId") == id && num(field(d, "rtcpReceived")) > 0 && field(d, "rtt") != nil
	})
	t.Logf("onNetworkQuality: %s", jsonOf(q.Data))
	// baresip says in its log whether it multiplexes; it has by the time
	// reports flow.
	if got := strings.Contains(far.Log(), "RTP/RTCP multiplexing enabled"); got != mux {
		t.Fatalf("baresip multiplexes RTCP: %v, want %v", got, mux)
	}
	// Nothing is lost on loopback, so the rating is the delay's alone (the
	// jitter buffer's mostly, which a loaded machine can stretch): it is
	// the E-model's for the figures reported, between Excellent and Vbad.
	delay := time.Duration(num(field(q.Data, "delay")) * float64(time.Millisecond))
	r := media.RFactor(delay, 0, media.Impairment("PCMU"))
	if mos := num(field(q.Data, "mos")); math.Abs(mos-media.MOSFromR(r)) > 0.02 || mos < 1 || mos > 4.5 || delay < 20*time.Millisecond {
		t.Errorf("MOS %v for a %v one-way delay without loss; the E-model gives %.2f (and the delay is at least one 20 ms packet)", mos, delay, media.MOSFromR(r))
	}
	if lvl := num(field(q.Data, "quality")); lvl != float64(media.QualityLevel(r)) {
		t.Errorf("quality %v, want %d for R %.1f", lvl, media.QualityLevel(r), r)
	}

	// The same figures per call in /v1/state.
	st := u.must("GET", "/v1/state", nil)
	sess, _ := st["sessions"].([]any)
	if len(sess) != 1 {
		t.Fatalf("/v1/state sessions = %v, want the one call", st["sessions"])
	}
	qs, _ := sess[0].(map[string]any)["quality"].(map[string]any)
	t.Logf("/v1/state quality: %s", jsonOf(qs))
	if qs == nil || qs["rtt"] == nil || num(qs["rtcpSent"]) == 0 || num(qs["rtcpReceived"]) == 0 {
		t.Fatalf("/v1/state has no measured quality for the call: %v", qs)
	}
	// Loopback takes microseconds, but a loaded machine delays baresip's
	// answer: only a wrong computation (units, LSR/DLSR) reaches a second.
	if rtt, jit := num(qs["rtt"]), num(qs["jitter"]); rtt < 0 || rtt > 1000 || jit < 0 || jit > 1000 {
		t.Errorf("RTT %v ms, jitter %v ms on loopback: want 0–1000 ms", rtt, jit)
	}
	if num(qs["loss"]) != 0 || num(qs["packetsLost"]) != 0 || num(qs["remoteLoss"]) != 0 {
		t.Errorf("loss on loopback: %v", qs)
	}

	// onAudioVolume: baresip's 440 Hz tone is loud at the phone's speaker,
	// and so is the sim board's 1 kHz microphone.
	u.waitEvent(event.AudioVolume, 10*time.Second, func(d any) bool {
		return field(d, "sessionId") == id && field(d, "userId") == "1002" && num(field(d, "volume")) > 30
	})
	u.waitEvent(event.AudioVolume, 10*time.Second, func(d any) bool {
		return field(d, "sessionId") == id && field(d, "userId") != "1002" && num(field(d, "volume")) > 30
	})

	// baresip gets the phone's sender reports: CALL_RTCP is its event for
	// an SR received.
	ev, err := far.WaitEvent(ctxT(t, 20*time.Second), "CALL_RTCP")
	if err != nil {
		t.Fatalf("baresip never reported an RTCP sender report from the phone: %v", err)
	}
	t.Logf("baresip CALL_RTCP: %s", ev.RTCPStats)
	var rs struct {
		RX struct {
			Sent uint64 `json:"sent"`
		} `json:"rx"`
	}
	if err := json.Unmarshal(ev.RTCPStats, &rs); err != nil || rs.RX.Sent == 0 {
		t.Errorf("baresip's RTCP stats %s: want rx.sent > 0 (the phone's SR packet count)", ev.RTCPStats)
	}

	// ...and the phone's receiver reports on baresip's audio carry the
	// LSR/DLSR from which baresip works out its RTT (A − LSR − DLSR): a
	// wrong DLSR would show as 0 (dropped) or an absurd figure.
	rtt := waitBaresipRTT(t, far)
	if rtt <= 0 || rtt > 1_000_000 {
		t.Errorf("baresip's RTT from the phone's reports is %d µs, want 0–1 s", rtt)
	}

	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
}

// waitBaresipRTT waits for a CALL_RTCP in which baresip has an RTT (µs).
func waitBaresipRTT(t *testing.T, far *labkit.Baresip) int64 {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	for {
		ev, err := far.WaitEvent(ctx, "CALL_RTCP")
		if err != nil {
			t.Fatalf("baresip never worked out an RTT from the phone's receiver reports: %v", err)
		}
		var rs struct {
			RTT int64 `json:"rtt"`
		}
		if json.Unmarshal(ev.RTCPStats, &rs) == nil && rs.RTT != 0 {
			t.Logf("baresip CALL_RTCP with an RTT: %s", ev.RTCPStats)
			return rs.RTT
		}
	}
}

// num reads a JSON number (float64) or 0.
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
