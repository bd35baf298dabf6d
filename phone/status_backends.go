package phone

import (
	"deskphone/phone/agent"
	"deskphone/phone/sipua"
)

// startStatusSync starts the agent.sync backend once the SIP stack exists.
func (p *Phone) startStatusSync(ua *sipua.UA) error {
	p.mu.Lock()
	running := p.sync != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	var b agent.Backend
	switch p.cfg.Agent.Sync {
	case "relay", "sip":
		return newError(ErrSIPBadRequest, "agent.sync: %s is not in this build yet", p.cfg.Agent.Sync)
	}
	p.startSync(b)
	return nil
}
