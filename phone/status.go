package phone

import (
	"context"
	"fmt"
	"time"

	"deskphone/config"
	"deskphone/phone/agent"
	"deskphone/phone/event"
)

// The agent status (tccc-agent.md §4.1) lives in phone/agent; this file
// ties it to the calls, the event bus and the sync backend.

// StatusInfo is statusChanged's payload: the web SDK's {status} plus the
// reason, since when, who changed it and what waits (phone).
type StatusInfo struct {
	Status     string      `json:"status"`
	Reason     string      `json:"reason,omitempty"`
	Since      int64       `json:"since"`            // Unix ms
	Source     string      `json:"source,omitempty"` // phone, call, contactCenter
	Pending    *StatusWant `json:"pending,omitempty"`
	WrapUpLeft int         `json:"wrapUpLeft,omitempty"` // seconds of timed after-call work left
}

// StatusWant is a status asked for that waits for the calls to end.
type StatusWant struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// AgentState is the agent part of State and of GET /v1/agent/status.
type AgentState struct {
	StatusInfo
	Sync        *agent.SyncState `json:"sync,omitempty"` // nil without a sync backend
	RestReasons []string         `json:"restReasons"`
	Kicked      bool             `json:"kicked,omitempty"` // another device took over; log in again
}

// KickedInfo is kickedOut's payload (phone: the reason).
type KickedInfo struct {
	Reason string `json:"reason,omitempty"`
}

func newAgent(cfg config.Agent) (*agent.Agent, error) {
	opts := agent.Options{
		Initial: agent.Status(cfg.InitialStatus), WrapUp: cfg.WrapUp,
		AfterWrapUp: cfg.AfterWrapUp, RestReasons: cfg.RestReasons,
	}
	if opts.Initial == agent.Rest && len(cfg.RestReasons) > 0 {
		opts.InitialReason = cfg.RestReasons[0]
	}
	return agent.New(opts)
}

func statusInfo(snap agent.Snapshot) StatusInfo {
	info := StatusInfo{Status: string(snap.Status), Reason: snap.Reason, Since: snap.Since.UnixMilli()}
	if snap.Pending != nil {
		info.Pending = &StatusWant{Status: string(snap.Pending.Status), Reason: snap.Pending.Reason}
	}
	if snap.WrapUp > 0 {
		info.WrapUpLeft = int((snap.WrapUp + time.Second - 1) / time.Second)
	}
	return info
}

// onStatus publishes statusChanged for every change of the agent status.
func (p *Phone) onStatus(now, prev agent.Change, src agent.Source) {
	info := statusInfo(p.agent.Snapshot())
	info.Status, info.Reason, info.Since = string(now.Status), now.Reason, now.Since.UnixMilli()
	info.Source = string(src)
	p.log.Info("agent status", "status", now.Status, "reason", now.Reason, "was", prev.Status, "by", src)
	p.bus.Publish(event.StatusChanged, info)
}

// AgentStatus is the agent's status now.
func (p *Phone) AgentStatus() AgentState {
	st := AgentState{StatusInfo: statusInfo(p.agent.Snapshot()), RestReasons: p.cfg.Agent.RestReasons}
	if st.RestReasons == nil {
		st.RestReasons = []string{}
	}
	p.mu.Lock()
	sync, kicked := p.sync, p.kicked
	p.mu.Unlock()
	if sync != nil {
		s := sync.State()
		st.Sync = &s
	}
	st.Kicked = kicked != ""
	return st
}

// SetAgentStatus is the SDK's Agent.setStatus: free, rest (with a reason),
// arrange, notReady or stopNotReady. During a call the status waits for the
// call's end (the result's pending says so).
func (p *Phone) SetAgentStatus(status, reason string) (AgentState, error) {
	if _, pending, err := p.agent.Set(status, reason); err != nil {
		return AgentState{}, newError(ErrSIPBadRequest, "%v", err)
	} else if pending {
		p.bus.Publish(event.StatusChanged, p.withSource(agent.Local))
	}
	return p.AgentStatus(), nil
}

// withSource is the status now, as a statusChanged payload.
func (p *Phone) withSource(src agent.Source) StatusInfo {
	info := statusInfo(p.agent.Snapshot())
	info.Source = string(src)
	return info
}

// EndWrapUp ends after-call work early (the ACW key); false when there
// was none.
func (p *Phone) EndWrapUp() bool { return p.agent.EndWrapUp() }

// AgentOnline is the SDK's Agent.online.
func (p *Phone) AgentOnline() AgentState {
	p.agent.Online()
	return p.AgentStatus()
}

// AgentOffline is the SDK's Agent.offline: no calls are offered meanwhile.
func (p *Phone) AgentOffline() AgentState {
	p.agent.Offline(agent.Local)
	return p.AgentStatus()
}

// refuseReason is the SIP answer to an inbound call the agent's status
// refuses, or "" when the call may ring.
func (p *Phone) refuseReason() (phrase, why string) {
	if !p.cfg.Agent.RefuseUnavailable {
		return "", ""
	}
	ok, st := p.agent.Accepts()
	if ok {
		return "", ""
	}
	switch st.Status {
	case agent.NotReady:
		return "Agent Not Ready", "the agent is not ready"
	case agent.Rest:
		return "Agent On Rest", fmt.Sprintf("the agent is on rest (%s)", st.Reason)
	case agent.Arrange:
		return "Agent In After-Call Work", "the agent is in after-call work"
	default:
		return "Agent Offline", "the agent is offline"
	}
}

// startSync starts the status sync with the configured backend, once.
func (p *Phone) startSync(b agent.Backend) {
	p.mu.Lock()
	if p.sync != nil || b == nil {
		p.mu.Unlock()
		return
	}
	reports := func(agent.Status) bool { return true }
	if b.Name() == "relay" {
		// The cloud API sets only these; it sees busy and afterCallWork
		// in the calls it routes.
		reports = func(st agent.Status) bool { return st == agent.Free || st == agent.NotReady || st == agent.Rest }
	}
	s := agent.NewSync(p.agent, b, agent.SyncOptions{
		Reports:  reports,
		OnKicked: func(c agent.Change) { p.kickOut(c.Reason) },
		OnRefused: func(refused, kept agent.Change, err *agent.RefusedError) {
			p.publishError(err.Code, fmt.Sprintf("the contact center refused status %s: %s; the agent stays %s", refused.Status, err.Message, kept.Status), b.Name())
		},
		OnState: func(st agent.SyncState) { p.bus.Publish(event.AgentSync, st) },
		Log:     p.log.With("part", "agent-sync"),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.sync, p.stopSync, p.syncDone = s, cancel, done
	p.mu.Unlock()
	go func() { defer close(done); s.Run(ctx) }()
}

// kickOut is kickedOut: another device took this agent over, or an admin
// forced it offline. The phone goes offline and stops registering until
// the agent logs in again.
func (p *Phone) kickOut(reason string) {
	if reason == "" {
		reason = "logged in on another device"
	}
	p.mu.Lock()
	if p.kicked != "" {
		p.mu.Unlock()
		return
	}
	p.kicked = reason
	p.mu.Unlock()
	p.log.Warn("kicked out", "reason", reason)
	p.bus.Publish(event.KickedOut, KickedInfo{Reason: reason})
	p.agent.Offline(agent.Remote)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.logout(ctx, true)
	}()
}

// markBusy counts the session as a call of the agent's, after its
// onNewSession. Under s.mu: a session that already ended is not counted,
// and one counted here is uncounted by finish, which ends it under s.mu
// first.
func (s *Session) markBusy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEnded {
		s.p.agent.CallStarted(s.ID)
	}
}
