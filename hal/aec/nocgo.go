//go:build !cgo

package aec

import (
	"log/slog"

	"deskphone/hal"
)

// Wrap has no libspeexdsp in a build without cgo: unless opts.Mode is
// Off it says so once, and returns inner as it is.
func Wrap(inner hal.Audio, opts AudioOptions) hal.Audio {
	if opts.Mode != Off {
		log := opts.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("echo cancelling needs libspeexdsp through cgo, and this build has no cgo; the speaker's echo is not cancelled")
	}
	return inner
}
