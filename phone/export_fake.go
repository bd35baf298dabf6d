package phone

import (
	"log/slog"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/phone/event"
	"deskphone/phone/signal"
)

// NewWithCalls is New with the SIP stack replaced by another signal.Calls
// (such as the fake in phone/signal/sigtest), for tests and simulators of
// the packages above phone (ui, control). The phone counts as logged in,
// never opens a SIP socket unless Login is called, and takes inbound calls
// from calls.OnIncoming as it does from the real stack.
func NewWithCalls(cfg *config.Config, audio hal.Audio, bus *event.Bus, log *slog.Logger, calls signal.Calls) (*Phone, error) {
	p, err := New(cfg, audio, bus, log)
	if err != nil {
		return nil, err
	}
	p.calls = calls
	p.loggedIn = func() error { return nil }
	calls.OnIncoming(p.onIncoming)
	return p, nil
}
