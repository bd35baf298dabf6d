// Package opus is the Opus codec (RFC 6716, RTP payload RFC 7587) for the
// media engine: mono 48 kHz, 10/20/40/60 ms frames, libopus through cgo
// (gopkg.in/hraban/opus.v2, built with -tags nolibopusfile) for encoding,
// decoding, packet loss concealment and in-band FEC (media.Concealer).
//
// Importing it registers "OPUS" in media's codec registry; SDP offers it as
// opus/48000/2 with DefaultParams in a=fmtp, and each call gets its own
// encoder and decoder (ForCall), set by the far end's fmtp: in-band FEC
// when it says useinbandfec=1, DTX for usedtx=1, the bitrate capped by
// maxaveragebitrate and the audio band by maxplaybackrate.
//
// The decoder is libopus's, not github.com/pion/opus's pure-Go one: pion
// decodes every packet libopus encodes at our settings but its output
// departs from libopus's on a fast tone sweep (conformance_test.go), it
// costs about 3x per frame, allocates, and has no PLC or FEC, which the
// jitter buffer needs on loss (figures in the README).
//
// Without cgo (the pure-Go cross builds) the package registers nothing,
// and a configuration listing OPUS fails at start-up naming the codecs
// this build has.
package opus
