package sigtest

import (
	"time"

	"deskphone/config"
)

// Config is a phone configuration for tests on the fake stack: extension
// 1001, RTP on rtpPorts ("LO-HI", a range of the test package's own so
// packages tested in parallel do not collide), timers long enough never to
// fire by themselves, no in-dialog keepalive. tweak may change it.
func Config(rtpPorts string, tweak func(*config.Config)) *config.Config {
	cfg := config.Default()
	cfg.Account.User = "1001"
	cfg.Audio.RTPPorts = rtpPorts
	cfg.Calls.RingTimeout = 10 * time.Second
	cfg.Calls.AnswerTimeout = 10 * time.Second
	cfg.Calls.Keepalive = 0
	if tweak != nil {
		tweak(cfg)
	}
	return cfg
}
