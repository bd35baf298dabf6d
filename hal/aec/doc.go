// Package aec cancels the speaker's echo from the microphone on the
// hands-free route, with libspeexdsp's MDF echo canceller followed by its
// preprocessor's residual echo suppressor (speex_echo_*, speex_preprocess_*;
// https://www.speex.org/docs/manual/speex-manual/node7.html#SECTION00740000000000000000).
//
// It sits below phone/, as a pair of wrappers around a hal.Playback and a
// hal.Capture (or around a whole hal.Audio, see Wrap): what the Playback
// writes is the far end, the reference; each frame the Capture reads has
// the echo of that reference removed before the phone sees it. The phone
// knows nothing of it.
//
// The two directions run in different goroutines. The playback side only
// copies its frame into a ring under a short lock; the capture side takes
// the oldest reference from the ring and runs libspeexdsp, so the C state
// is used from one goroutine at a time and no lock is held across C calls
// by the playback side. Per frame nothing is allocated: C buffers are made
// once by New and freed by Close.
//
// Pairing: the reference written most recently is still in the sound
// card's playback buffer, so its echo is in a later capture. Pairing each
// capture with the freshest reference keeps the echo path causal; the
// adaptive filter (Tail, 200 ms by default) covers the playback buffer, the
// capture buffer and the room. The ring between them (ring.go) keeps the
// pairing fixed across the goroutines' jitter: a capture with no reference
// waiting is cancelled against silence and the late reference dropped
// (Stats.Underruns), unless it keeps coming late; reference beyond the
// ring, or kept waiting past a second, is dropped (Stats.Dropped). A move
// of the pairing restarts the filter.
//
// This package uses cgo and needs libspeexdsp (Debian: libspeexdsp-dev,
// in the Makefile's APT_PKGS). A build without cgo has only Wrap, which
// logs that it cannot cancel and returns the devices as they are.
package aec
