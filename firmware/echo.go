package main

import (
	"log/slog"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/hal/aec"
)

// echoCancel puts the echo canceller (hal/aec, libspeexdsp) between the
// phone and the board's sound as audio.echo_cancel says: auto cancels on
// the speaker route of a board with routes, following setAudioRoute.
func echoCancel(cfg *config.Config, sound hal.Audio, log *slog.Logger) hal.Audio {
	if sound == nil {
		return nil
	}
	return aec.Wrap(sound, aec.AudioOptions{Mode: aec.Mode(cfg.Audio.EchoCancel), Log: log.With("part", "aec")})
}
