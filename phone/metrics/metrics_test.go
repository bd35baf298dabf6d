package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"deskphone/phone"
	"deskphone/phone/event"
)

const wait = 5 * time.Second

// run starts m.Run until the test ends.
func run(t *testing.T, m *Metrics) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitValue waits until the single-metric collector c reads want.
func waitValue(t *testing.T, what string, c prometheus.Collector, want float64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := testutil.ToFloat64(c)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v (after %v)", what, got, want, wait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func wantValue(t *testing.T, what string, c prometheus.Collector, want float64) {
	t.Helper()
	if got := testutil.ToFloat64(c); got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRegistration(t *testing.T) {
	bus := event.NewBus()
	m := New(bus, Options{})
	wantValue(t, "unregistered before any event", m.regState.WithLabelValues("unregistered"), 1)
	run(t, m)
	for _, st := range []string{"registering", "registered", "registered", "failed"} {
		bus.Publish(event.Registration, phone.RegistrationInfo{State: st})
	}
	waitValue(t, "state failed", m.regState.WithLabelValues("failed"), 1)
	for _, st := range []string{"unregistered", "registering", "registered"} {
		wantValue(t, "state "+st, m.regState.WithLabelValues(st), 0)
	}
	wantValue(t, "unregistered→registering", m.regTransitions.WithLabelValues("unregistered", "registering"), 1)
	wantValue(t, "registering→registered", m.regTransitions.WithLabelValues("registering", "registered"), 1)
	wantValue(t, "registered→failed", m.regTransitions.WithLabelValues("registered", "failed"), 1)
	// A refresh (registered again) is not a transition.
	if n := testutil.CollectAndCount(m.regTransitions); n != 3 {
		t.Errorf("%d transition series, want 3 (no registered→registered)", n)
	}
}

func TestCalls(t *testing.T) {
	bus := event.NewBus()
	m := New(bus, Options{})
	run(t, m)
	bus.Publish(event.NewSession, phone.SessionInfo{SessionID: "a", SessionDirection: phone.CallOut})
	bus.Publish(event.NewSession, phone.SessionInfo{SessionID: "b", SessionDirection: phone.CallIn})
	waitValue(t, "calls in progress", m.inProgress, 2)
	bus.Publish(event.Accepted, phone.SessionRef{SessionID: "a"})
	bus.Publish(event.Ended, phone.Ended{SessionID: "a", Reason: phone.EndRemoteBye,
		RTP: &phone.RTPStats{PacketsSent: 500, PacketsReceived: 480, PacketsLost: 20}})
	// b is refused: it ends unanswered, without media.
	bus.Publish(event.Ended, phone.Ended{SessionID: "b", Reason: phone.EndLocalBye, SIPCode: 480})
	waitValue(t, "CallIn LocalBye", m.calls.WithLabelValues(phone.CallIn, phone.EndLocalBye), 1)
	wantValue(t, "CallOut RemoteBye", m.calls.WithLabelValues(phone.CallOut, phone.EndRemoteBye), 1)
	wantValue(t, "calls in progress", m.inProgress, 0)
	wantValue(t, "rtp sent", m.rtpPackets.WithLabelValues("sent"), 500)
	wantValue(t, "rtp received", m.rtpPackets.WithLabelValues("received"), 480)
	wantValue(t, "rtp lost", m.rtpPackets.WithLabelValues("lost"), 20)
	// One answered call's duration (CallOut only) and one call's loss ratio.
	if err := testutil.CollectAndCompare(m.lossRatio, strings.NewReader(`
# HELP deskphone_call_rtp_loss_ratio Per call at its end: received RTP packets lost / expected (0-1); calls that received nothing are left out.
# TYPE deskphone_call_rtp_loss_ratio histogram
deskphone_call_rtp_loss_ratio_bucket{le="0"} 0
deskphone_call_rtp_loss_ratio_bucket{le="0.001"} 0
deskphone_call_rtp_loss_ratio_bucket{le="0.005"} 0
deskphone_call_rtp_loss_ratio_bucket{le="0.01"} 0
deskphone_call_rtp_loss_ratio_bucket{le="0.02"} 0
deskphone_call_rtp_loss_ratio_bucket{le="0.05"} 1
deskphone_call_rtp_loss_ratio_bucket{le="0.1"} 1
deskphone_call_rtp_loss_ratio_bucket{le="0.2"} 1
deskphone_call_rtp_loss_ratio_bucket{le="0.5"} 1
deskphone_call_rtp_loss_ratio_bucket{le="+Inf"} 1
deskphone_call_rtp_loss_ratio_sum 0.04
deskphone_call_rtp_loss_ratio_count 1
`)); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("%d duration series, want 1 (CallOut; b was never answered)", n)
	}
}

// The talk time runs from onAccepted to onEnded, by the events' times.
func TestCallDuration(t *testing.T) {
	m := New(event.NewBus(), Options{})
	t0 := time.Unix(1700000000, 0)
	m.apply(event.Event{Name: event.NewSession, Time: t0, Data: phone.SessionInfo{SessionID: "a", SessionDirection: phone.CallIn}})
	m.apply(event.Event{Name: event.Accepted, Time: t0.Add(3 * time.Second), Data: phone.SessionRef{SessionID: "a"}})
	m.apply(event.Event{Name: event.Ended, Time: t0.Add(45 * time.Second), Data: phone.Ended{SessionID: "a", Reason: phone.EndLocalBye}})
	if err := testutil.CollectAndCompare(m.duration, strings.NewReader(`
# HELP deskphone_call_duration_seconds Talk time of answered calls, from onAccepted to onEnded.
# TYPE deskphone_call_duration_seconds histogram
deskphone_call_duration_seconds_bucket{direction="CallIn",le="5"} 0
deskphone_call_duration_seconds_bucket{direction="CallIn",le="15"} 0
deskphone_call_duration_seconds_bucket{direction="CallIn",le="30"} 0
deskphone_call_duration_seconds_bucket{direction="CallIn",le="60"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="120"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="180"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="300"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="600"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="900"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="1800"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="3600"} 1
deskphone_call_duration_seconds_bucket{direction="CallIn",le="+Inf"} 1
deskphone_call_duration_seconds_sum{direction="CallIn"} 42
deskphone_call_duration_seconds_count{direction="CallIn"} 1
`)); err != nil {
		t.Error(err)
	}
	// An end whose onNewSession was missed still counts, direction unknown,
	// and leaves the gauge alone.
	m.apply(event.Event{Name: event.Ended, Time: t0, Data: phone.Ended{SessionID: "zz", Reason: phone.EndError}})
	wantValue(t, "unknown Error", m.calls.WithLabelValues("unknown", phone.EndError), 1)
	wantValue(t, "calls in progress", m.inProgress, 0)
}

func TestAgentStatus(t *testing.T) {
	bus := event.NewBus()
	m := New(bus, Options{Agent: phone.StatusInfo{Status: "free", Since: 1000}})
	wantValue(t, "free at start", m.agentStatus.WithLabelValues("free"), 1)
	run(t, m)
	bus.Publish(event.StatusChanged, phone.StatusInfo{Status: "busy", Since: 2000, Source: "call"})
	// notReady asked for during the call: announced as pending, not a change.
	bus.Publish(event.StatusChanged, phone.StatusInfo{Status: "busy", Since: 2000, Source: "phone", Pending: &phone.StatusWant{Status: "notReady"}})
	bus.Publish(event.StatusChanged, phone.StatusInfo{Status: "notReady", Since: 3000, Source: "call"})
	waitValue(t, "notReady", m.agentStatus.WithLabelValues("notReady"), 1)
	for _, st := range AgentStatuses {
		if st != "notReady" {
			wantValue(t, st, m.agentStatus.WithLabelValues(st), 0)
		}
	}
	wantValue(t, "changes busy/call", m.statusChanges.WithLabelValues("busy", "call"), 1)
	wantValue(t, "changes notReady/call", m.statusChanges.WithLabelValues("notReady", "call"), 1)
	if n := testutil.CollectAndCount(m.statusChanges); n != 2 {
		t.Errorf("%d status-change series, want 2 (the pending announcement is no change)", n)
	}
}

func TestConnectionAndKeys(t *testing.T) {
	bus := event.NewBus()
	m := New(bus, Options{})
	run(t, m)
	info := phone.ConnectionInfo{ServerType: phone.ServerType}
	bus.Publish(event.ConnectionLost, info)
	bus.Publish(event.TryToReconnect, info)
	bus.Publish(event.TryToReconnect, info)
	bus.Publish(event.ConnectionRecovery, info)
	bus.Publish(event.KickedOut, phone.KickedInfo{Reason: "another device"})
	waitValue(t, "kicked out", m.kicked, 1)
	wantValue(t, "connection lost", m.connLost, 1)
	wantValue(t, "reconnect attempts", m.reconnects, 2)
	wantValue(t, "recoveries", m.recoveries, 1)
	m.Key("5")
	m.Key("5")
	m.Key("call")
	wantValue(t, "key 5", m.keys.WithLabelValues("5"), 2)
	wantValue(t, "key call", m.keys.WithLabelValues("call"), 1)
}

// Events published before Run are replayed; those the buffer no longer
// holds are counted as lost.
func TestReplayAndLost(t *testing.T) {
	bus := event.NewBusSize(4)
	for range 6 {
		bus.Publish(event.ConnectionLost, phone.ConnectionInfo{})
	}
	m := New(bus, Options{})
	run(t, m)
	waitValue(t, "connection lost (replayed)", m.connLost, 4)
	waitValue(t, "events lost", m.eventsLost, 2)
}

// The handler serves the phone's metrics and the runtime's, in text format.
func TestHandler(t *testing.T) {
	m := New(event.NewBus(), Options{})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	for _, want := range []string{
		`deskphone_registration_state{state="unregistered"} 1`,
		`deskphone_calls_in_progress 0`,
		`deskphone_rtp_packets_total{kind="lost"} 0`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
