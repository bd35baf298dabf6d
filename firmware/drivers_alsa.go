//go:build cgo

package main

// The ALSA sound driver, in builds with cgo (alsa-lib). Without cgo it is
// not registered: a board profile naming it opens without sound, and each
// call reports -1302/-1321 saying the driver is not in this build.

import (
	"time"

	"deskphone/boards"
	"deskphone/hal"
	"deskphone/hal/alsa"
)

func init() {
	boards.RegisterAudio("alsa", func(env *boards.Env, p *boards.AudioPart) (hal.Audio, error) {
		routes := map[string]alsa.Route{}
		for name, r := range p.Routes {
			routes[name] = alsa.Route{Capture: r.Capture, Playback: r.Playback, Rate: r.Rate, Channels: r.Channels}
		}
		a, err := alsa.New(alsa.Config{Routes: routes, Period: time.Duration(p.PeriodMS) * time.Millisecond, Periods: p.Periods, Log: env.Log})
		if err != nil {
			return nil, err
		}
		// A device missing now is the board's warning, not a boot failure:
		// it may be plugged in before the first call, which reports it.
		for _, err := range a.Check() {
			env.Log.Warn("audio: "+err.Error()+"; calls on this route will report it", "board", env.Profile.Name)
		}
		return a, nil
	})
}
