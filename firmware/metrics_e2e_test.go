package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// metricsToken is api.token in the metrics test: /metrics sits behind it.
const metricsToken = "metrics-e2e-token-0123456789"

// authed calls the control API with the bearer token (or none if token is
// "") and returns the status and the raw body.
func (u *dut) authed(token, method, path string, body any) (int, string) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.api+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	u.out.add(raw)
	return res.StatusCode, string(raw)
}

// talkedASecond matches a display whose talk timer has run (a loaded
// machine may show 00:03 by the time it is looked at, never 00:01).
var talkedASecond = regexp.MustCompile(`Talking 1002 \| 00:(0[1-9]|[1-5][0-9])`)

// sample is the value of one series (name{labels} as Prometheus writes it,
// labels sorted by name) in a text exposition.
func sample(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// waitMetrics scrapes /metrics until every series has its wanted value
// (the metrics follow the events asynchronously) and returns the last body.
func (u *dut) waitMetrics(timeout time.Duration, want map[string]float64) string {
	u.t.Helper()
	var body string
	waitFor(u.t, timeout, func() bool {
		code, b := u.authed(metricsToken, "GET", "/metrics", nil)
		if code != http.StatusOK {
			u.t.Fatalf("GET /metrics with the token → %d %s", code, b)
		}
		body = b
		for s, v := range want {
			if got, ok := sample(body, s); !ok || got != v {
				return false
			}
		}
		return true
	}, func() string {
		var miss []string
		for s, v := range want {
			got, ok := sample(body, s)
			miss = append(miss, fmt.Sprintf("%s = %v (present %v), want %v", s, got, ok, v))
		}
		return "/metrics never showed:\n  " + strings.Join(miss, "\n  ")
	})
	return body
}

// The phone calls baresip through Kamailio: /metrics, scraped during the
// call, shows it in progress and the registration; after the hang-up, the
// call counted by direction and reason with its RTP; without the token, 401.
func TestMetricsDuringAndAfterACall(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.API.Token = metricsToken
	u := startPhone(t, cfg)
	u.registered()

	for _, tok := range []string{"", "wrong-token-0123456789"} {
		code, body := u.authed(tok, "GET", "/metrics", nil)
		if code != http.StatusUnauthorized || !strings.Contains(body, "-10401") {
			t.Errorf("GET /metrics with token %q → %d %s, want 401 and code -10401", tok, code, body)
		}
		if strings.Contains(body, "deskphone_") {
			t.Errorf("GET /metrics without the right token leaked metrics: %s", body)
		}
	}

	for _, k := range []string{"1", "0", "0", "2", "call"} {
		if code, body := u.authed(metricsToken, "POST", "/v1/panel/press", map[string]string{"key": k}); code != http.StatusOK {
			t.Fatalf("press %s → %d %s", k, code, body)
		}
	}
	ns := u.waitEvent(event.NewSession, 5*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	// baresip has our RTP, and the talk timer has run a second: about 50
	// packets each way.
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), labkit.EventCallRTPEstab); err != nil {
		t.Fatalf("baresip never received the phone's RTP: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return talkedASecond.MatchString(u.display()) },
		func() string { return "the talk timer never passed 00:00: " + u.display() })

	u.waitMetrics(5*time.Second, map[string]float64{
		`deskphone_calls_in_progress`:                                                  1,
		`deskphone_registration_state{state="registered"}`:                             1,
		`deskphone_registration_state{state="registering"}`:                            0,
		`deskphone_registration_transitions_total{from="registering",to="registered"}`: 1,
		`deskphone_agent_status{status="busy"}`:                                        1,
		`deskphone_key_presses_total{key="0"}`:                                         2,
		`deskphone_key_presses_total{key="call"}`:                                      1,
	})

	if code, body := u.authed(metricsToken, "POST", "/v1/terminate", map[string]string{"sessionId": id}); code != http.StatusOK {
		t.Fatalf("terminate → %d %s", code, body)
	}
	ended := u.wantEnded(id, phone.EndLocalBye)
	body := u.waitMetrics(5*time.Second, map[string]float64{
		`deskphone_calls_in_progress`:                                  0,
		`deskphone_calls_total{direction="CallOut",reason="LocalBye"}`: 1,
		`deskphone_call_duration_seconds_count{direction="CallOut"}`:   1,
		`deskphone_call_rtp_loss_ratio_count`:                          1,
	})
	rtp, _ := ended.Data.(phone.Ended)
	if rtp.RTP == nil || rtp.RTP.PacketsSent < 25 || rtp.RTP.PacketsReceived < 25 {
		t.Fatalf("onEnded's rtp = %+v, want at least 25 packets (0.5 s) each way after a second's talk", rtp.RTP)
	}
	if sum, _ := sample(body, `deskphone_call_duration_seconds_sum{direction="CallOut"}`); sum < 1 || sum > 30 {
		t.Errorf("deskphone_call_duration_seconds_sum = %v, want the second or so the call lasted", sum)
	}
	for kind, want := range map[string]uint64{"sent": rtp.RTP.PacketsSent, "received": rtp.RTP.PacketsReceived} {
		if got, _ := sample(body, `deskphone_rtp_packets_total{kind="`+kind+`"}`); got != float64(want) {
			t.Errorf("deskphone_rtp_packets_total{kind=%q} = %v, want %d (onEnded's rtp)", kind, got, want)
		}
	}
	for _, s := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := sample(body, s); !ok {
			t.Errorf("/metrics lacks the runtime's %s", s)
		}
	}
	t.Logf("call: %d RTP packets sent, %d received, %d lost", rtp.RTP.PacketsSent, rtp.RTP.PacketsReceived, rtp.RTP.PacketsLost)
}
