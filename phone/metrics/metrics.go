// Package metrics turns the phone's event stream into Prometheus metrics:
// registration, calls, the agent status, connection losses, key presses and
// each call's RTP counters, plus the Go runtime's and the process's. It keeps
// its own registry, so nothing else in the binary can add to /metrics.
//
// Everything is derived from events (phone.Bus), so the numbers are what the
// control API's clients see. Not measured yet, hence not exported: MOS and
// round-trip time (no RTCP), interarrival jitter and jitter-buffer delay (the
// media engine does not compute them), audio under/overruns (hal does not
// report them).
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/agent"
	"deskphone/phone/event"
)

// RegStates are the registration states (phone.RegistrationInfo.State).
var RegStates = []string{"unregistered", "registering", "registered", "failed"}

// AgentStatuses are the agent statuses (phone/agent).
var AgentStatuses = []string{
	string(agent.Free), string(agent.Busy), string(agent.Arrange),
	string(agent.NotReady), string(agent.Rest), string(agent.Offline),
}

// Options seed what no event has said yet.
type Options struct {
	// Agent is the agent's status when the phone started (the first
	// statusChanged comes only with the first change), as
	// phone.AgentStatus().StatusInfo; Status "" = none known.
	Agent phone.StatusInfo
}

// Metrics is one phone's collectors and the registry that holds them.
type Metrics struct {
	bus *event.Bus
	reg *prometheus.Registry

	regState       *prometheus.GaugeVec
	regTransitions *prometheus.CounterVec
	calls          *prometheus.CounterVec
	inProgress     prometheus.Gauge
	duration       *prometheus.HistogramVec
	agentStatus    *prometheus.GaugeVec
	statusChanges  *prometheus.CounterVec
	connLost       prometheus.Counter
	reconnects     prometheus.Counter
	recoveries     prometheus.Counter
	kicked         prometheus.Counter
	keys           *prometheus.CounterVec
	rtpPackets     *prometheus.CounterVec
	lossRatio      prometheus.Histogram
	eventsLost     prometheus.Counter

	mu       sync.Mutex // guards what follows: Run's state, read by tests
	regNow   string
	agentNow phone.StatusInfo
	sessions map[string]*call // live sessions by id
}

// call is what a live session's metrics need at its end.
type call struct {
	direction string
	accepted  time.Time // zero until onAccepted
}

// New builds the collectors in a registry of their own. Run feeds them.
func New(bus *event.Bus, o Options) *Metrics {
	m := &Metrics{bus: bus, reg: prometheus.NewRegistry(), regNow: "unregistered", sessions: map[string]*call{}}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.regState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "deskphone_registration_state", Help: "1 for the current SIP registration state, 0 for the others.",
	}, []string{"state"})
	m.regTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskphone_registration_transitions_total", Help: "Changes of the SIP registration state (refreshes in the same state are not counted).",
	}, []string{"from", "to"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskphone_calls_total", Help: "Calls that ended, by direction (CallIn, CallOut) and onEnded reason.",
	}, []string{"direction", "reason"})
	m.inProgress = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "deskphone_calls_in_progress", Help: "Sessions from onNewSession to onEnded (ringing, dialling, talking, held).",
	})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "deskphone_call_duration_seconds", Help: "Talk time of answered calls, from onAccepted to onEnded.",
		Buckets: []float64{5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600},
	}, []string{"direction"})
	m.agentStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "deskphone_agent_status", Help: "1 for the agent's current status, 0 for the others.",
	}, []string{"status"})
	m.statusChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskphone_agent_status_changes_total", Help: "statusChanged events, by new status and source (phone, call, contactCenter).",
	}, []string{"status", "source"})
	m.connLost = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskphone_connection_lost_total", Help: "onConnectionLost: outages of the connection to the registrar.",
	})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskphone_reconnect_attempts_total", Help: "onTryToReconnect: attempts to register again during outages.",
	})
	m.recoveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskphone_connection_recoveries_total", Help: "onConnectionRecovery: outages that ended registered again.",
	})
	m.kicked = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskphone_kicked_out_total", Help: "kickedOut: another device or an admin took this agent offline.",
	})
	m.keys = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskphone_key_presses_total", Help: "Front-panel key presses, by key.",
	}, []string{"key"})
	m.rtpPackets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskphone_rtp_packets_total", Help: "RTP packets of ended calls: sent, received, and lost (by sequence number).",
	}, []string{"kind"})
	m.lossRatio = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "deskphone_call_rtp_loss_ratio", Help: "Per call at its end: received RTP packets lost / expected (0-1); calls that received nothing are left out.",
		Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5},
	})
	m.eventsLost = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskphone_metrics_events_lost_total", Help: "Phone events the metrics missed (fell behind the bus's replay buffer); the other metrics may be off by them.",
	})
	for _, c := range []prometheus.Collector{
		m.regState, m.regTransitions, m.calls, m.inProgress, m.duration, m.agentStatus, m.statusChanges,
		m.connLost, m.reconnects, m.recoveries, m.kicked, m.keys, m.rtpPackets, m.lossRatio, m.eventsLost,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		f(c)
	}
	setOne(m.regState, RegStates, m.regNow)
	if o.Agent.Status != "" {
		m.agentNow = o.Agent
		setOne(m.agentStatus, AgentStatuses, o.Agent.Status)
	}
	for _, k := range []string{"sent", "received", "lost"} {
		m.rtpPackets.WithLabelValues(k) // present at 0 from the start
	}
	return m
}

// setOne sets the gauge of value to 1 and those of the other known values
// to 0; an unknown value gets a series of its own.
func setOne(g *prometheus.GaugeVec, known []string, value string) {
	for _, k := range known {
		g.WithLabelValues(k).Set(0)
	}
	g.WithLabelValues(value).Set(1)
}

// Registry is the registry the collectors are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Key counts one key press (give it to ui.UI.OnKey).
func (m *Metrics) Key(k hal.Key) { m.keys.WithLabelValues(string(k)).Inc() }

// Run feeds the collectors from the bus until ctx ends. It starts with a
// replay of the bus's buffer, so events since boot count even if Run starts
// late.
func (m *Metrics) Run(ctx context.Context) {
	events, stop := m.bus.SubscribeFrom(0, 256)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			m.apply(e)
		}
	}
}

// apply updates the collectors from one event.
func (m *Metrics) apply(e event.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch d := e.Data.(type) {
	case phone.RegistrationInfo:
		if d.State != m.regNow {
			m.regTransitions.WithLabelValues(m.regNow, d.State).Inc()
			m.regNow = d.State
			setOne(m.regState, RegStates, d.State)
		}
	case phone.SessionInfo: // onNewSession
		if e.Name == event.NewSession && m.sessions[d.SessionID] == nil {
			m.sessions[d.SessionID] = &call{direction: d.SessionDirection}
			m.inProgress.Inc()
		}
	case phone.SessionRef: // onAccepted
		if c := m.sessions[d.SessionID]; e.Name == event.Accepted && c != nil && c.accepted.IsZero() {
			c.accepted = e.Time
		}
	case phone.Ended:
		m.ended(e, d)
	case phone.StatusInfo:
		// A status asked for during a call is announced with the status
		// and its since unchanged (only pending is new): not a change.
		if d.Status != m.agentNow.Status || d.Reason != m.agentNow.Reason || d.Since != m.agentNow.Since {
			m.agentNow = d
			setOne(m.agentStatus, AgentStatuses, d.Status)
			m.statusChanges.WithLabelValues(d.Status, d.Source).Inc()
		}
	case phone.KickedInfo:
		m.kicked.Inc()
	case phone.ConnectionInfo:
		switch e.Name {
		case event.ConnectionLost:
			m.connLost.Inc()
		case event.TryToReconnect:
			m.reconnects.Inc()
		case event.ConnectionRecovery:
			m.recoveries.Inc()
		}
	case event.Lost:
		m.eventsLost.Add(float64(d.Count))
	}
}

// ended counts a call that ended, with its talk time and RTP counters.
func (m *Metrics) ended(e event.Event, d phone.Ended) {
	c := m.sessions[d.SessionID]
	if c == nil {
		// Its onNewSession was lost (events missed, or Run started after
		// the replay buffer moved on): count the end, direction unknown.
		c = &call{direction: "unknown"}
	} else {
		delete(m.sessions, d.SessionID)
		m.inProgress.Dec()
	}
	m.calls.WithLabelValues(c.direction, d.Reason).Inc()
	if !c.accepted.IsZero() {
		m.duration.WithLabelValues(c.direction).Observe(e.Time.Sub(c.accepted).Seconds())
	}
	if r := d.RTP; r != nil {
		m.rtpPackets.WithLabelValues("sent").Add(float64(r.PacketsSent))
		m.rtpPackets.WithLabelValues("received").Add(float64(r.PacketsReceived))
		if r.PacketsLost > 0 {
			m.rtpPackets.WithLabelValues("lost").Add(float64(r.PacketsLost))
		}
		if expected := int64(r.PacketsReceived) + r.PacketsLost; r.PacketsReceived > 0 && expected > 0 { //nolint:gosec // G115: a call's packet count is far below 2^63
			m.lossRatio.Observe(float64(max(r.PacketsLost, 0)) / float64(expected))
		}
	}
}
