package aec

import (
	"log/slog"
	"time"
)

// Options tune a Canceller. The zero value is the default.
type Options struct {
	// Tail is the echo path the adaptive filter models: sound card
	// buffers plus the room's reverberation. Default 200 ms; longer costs
	// CPU linearly and converges slower.
	Tail time.Duration
	// Frame is libspeexdsp's processing block: 10 or 20 ms. A device frame
	// must be a whole number of them. Default 20 ms when the device frame
	// allows (cheaper per sample, and as good: see TestRoomERLE), else 10.
	// The block adds no delay: a device frame is processed when read.
	Frame time.Duration
	// EchoSuppress is the residual echo attenuation in dB (negative) while
	// only the far end talks; EchoSuppressActive while the near end talks
	// too. Defaults -60 and -25: less suppression during double talk keeps
	// the agent's voice.
	EchoSuppress, EchoSuppressActive int
	// Denoise turns on the preprocessor's noise suppression. Off by
	// default: it takes a steady sound (a hum, a test tone) for noise and
	// cuts it by some 15 dB, and echo cancelling reaches its target without it.
	Denoise bool
}

// Stats count blocks cancelled, and mismatches between the two directions.
type Stats struct {
	Frames    int64 // blocks cancelled
	Underruns int64 // blocks cancelled against silence: no reference waiting
	Dropped   int64 // reference blocks dropped: the capture fell behind
}

// Mode says on which audio route the canceller runs.
type Mode string

// The modes (config: audio.echo_cancel).
const (
	// Auto cancels on the speaker (hands-free) route only: a handset or a
	// headset hears too little of its own speaker to need it. On a board
	// without routes nothing says the speaker is in use, so it stays off.
	Auto Mode = "auto"
	On   Mode = "on"  // on every route
	Off  Mode = "off" // never: Wrap returns the devices as they are
)

// SpeakerRoute is the hands-free route's name in board profiles.
const SpeakerRoute = "speaker"

// AudioOptions configure Wrap.
type AudioOptions struct {
	Mode    Mode
	Options              // each call's Canceller
	Log     *slog.Logger // a device pair that cannot have a canceller; nil = slog.Default()
}
