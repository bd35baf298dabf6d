// Package media carries a call's audio: codecs, RTP streams, RFC 4733 DTMF
// and SDP offer/answer. It knows no hardware: audio comes from an AudioSource
// and goes to an AudioSink (hal's Capture and Playback satisfy both).
//
// Each stream also runs RTCP (rtcp.go: SR/RR with loss, jitter and RTT, on
// its own socket or multiplexed), rates the call with the E-model
// (quality.go: MOS and the SDK's network quality) and meters the levels of
// what it sends and plays (level.go, for onAudioVolume).
//
// Received audio goes through an adaptive jitter buffer
// (jitter_adaptive.go: its target delay follows the measured lateness of
// packets, and it cancels clock drift between the far end and the sound
// device); a frame it cannot fill is concealed in the playout loop
// (plc_stream.go): by the codec's own PLC or in-band FEC when it has them
// (Concealer: Opus), else by G.711 Appendix I-style waveform repetition
// (plc.go). Stream.JitterStats reports the delay and the late, lost,
// concealed and duplicate counts.
//
// SDES-SRTP (srtp.go, srtp_sdp.go, stream_srtp.go): OfferSecure and
// AnswerSecure put a=crypto keys in the SDP as audio.srtp says,
// SecureAnswered reads the far end's, and a stream given
// StreamConfig.SRTP protects every RTP and RTCP packet it sends and
// authenticates every one it receives, still without allocating per frame.
package media

// AudioSource yields mono 16-bit frames; Read blocks until a frame exists,
// so the source's clock paces the sender (the sound card, or the simulated
// board's 20 ms clock).
type AudioSource interface {
	Read(frame []int16) error
}

// AudioSink takes mono 16-bit frames; Write blocks while the device is full.
type AudioSink interface {
	Write(frame []int16) error
}

// Codec turns PCM frames into RTP payloads and back. Implementations own no
// per-call buffers: callers pass them in, so the media loop allocates nothing
// per frame.
type Codec interface {
	// Name is the SDP encoding name, e.g. "PCMU".
	Name() string
	// PayloadType is the static or default dynamic RTP payload type.
	PayloadType() uint8
	// ClockRate is the RTP clock rate (8000 for G.711).
	ClockRate() int
	// SampleRate is the PCM rate the codec takes and gives.
	SampleRate() int
	// Encode writes the payload for pcm into out and returns its length.
	Encode(pcm []int16, out []byte) (int, error)
	// Decode writes the samples for payload into pcm and returns their count.
	Decode(payload []byte, pcm []int16) (int, error)
}
