package phone

import (
	"context"
	"time"

	"deskphone/phone/agent"
	"deskphone/phone/agent/presence"
	"deskphone/phone/sipua"
)

// startStatusSync starts the agent.sync backend once the SIP stack exists:
// relay (the integrator's backend) or sip (presence through the
// registrar).
func (p *Phone) startStatusSync(ua *sipua.UA) error {
	p.mu.Lock()
	running := p.sync != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	var b agent.Backend
	switch p.cfg.Agent.Sync {
	case "relay":
		c, err := relayClient(p.cfg)
		if err != nil {
			return newError(ErrHTTPRequestFailure, "%v", err)
		}
		b = c
	case "sip":
		pr := presence.New(ua, presence.Options{Logger: p.log.With("part", "presence")})
		p.mu.Lock()
		p.closeSync = func(ctx context.Context) { _ = pr.Close(ctx) } // withdraw the publication
		p.mu.Unlock()
		b = pr
	default:
		return nil
	}
	p.startSync(b)
	return nil
}

// stopStatusSync stops the sync and lets the backend say goodbye.
func (p *Phone) stopStatusSync(ctx context.Context) {
	p.mu.Lock()
	stop, done, closeSync := p.stopSync, p.syncDone, p.closeSync
	p.stopSync, p.closeSync = nil, nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
	if closeSync != nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		closeSync(cctx)
	}
}
