package media

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The codec registry maps SDP encoding names to constructors, so codecs
// that come later (Opus, behind cgo) register themselves from their own
// file or package without touching the stream or SDP code.
var registry = struct {
	sync.RWMutex
	m map[string]func() Codec
}{m: map[string]func() Codec{
	"PCMU": NewPCMU,
	"PCMA": NewPCMA,
}}

// RegisterCodec makes a codec available to CodecByName under name (matched
// case-insensitively). Registering a name twice replaces the first.
func RegisterCodec(name string, newCodec func() Codec) {
	registry.Lock()
	defer registry.Unlock()
	registry.m[strings.ToUpper(name)] = newCodec
}

// CodecByName returns a new codec for an SDP encoding name such as "PCMU"
// or "pcma".
func CodecByName(name string) (Codec, error) {
	registry.RLock()
	f, ok := registry.m[strings.ToUpper(strings.TrimSpace(name))]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q: supported codecs are %s", ErrUnknownCodec, name, strings.Join(SupportedCodecs(), ", "))
	}
	return f(), nil
}

// SupportedCodecs lists the registered codec names, sorted.
func SupportedCodecs() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Optional codec capabilities, asked for by SDP when present (Opus needs
// both; G.711 needs neither).
type (
	// ChannelCounter reports the channel count written in a=rtpmap.
	ChannelCounter interface{ Channels() int }
	// FmtpProvider gives the a=fmtp parameters to offer.
	FmtpProvider interface{ Fmtp() string }
)

// Concealer is a codec that can fill a lost frame better than silence: the
// playout loop asks it when the jitter buffer has nothing for a frame.
// Opus implements it with its decoder's PLC and in-band FEC; G.711 gets
// waveform repetition from the playout loop itself.
type Concealer interface {
	// Conceal writes one frame (len(pcm) samples) of concealment for a
	// lost packet and returns the sample count.
	Conceal(pcm []int16) (int, error)
	// DecodeFEC rebuilds the frame lost just before next from next's
	// in-band FEC data (Opus LBRR); codecs without FEC fall back to
	// Conceal.
	DecodeFEC(next []byte, pcm []int16) (int, error)
}

// CallCodec is a codec with per-call state (Opus's encoder and decoder):
// offer/answer asks it for the call's own instance, set up by the far
// end's a=fmtp for that payload type, since the configured codecs are
// shared by every call and one Codec serves one stream.
type CallCodec interface {
	ForCall(remoteFmtp string) (Codec, error)
}

// PacketTimer lists the packet times (ms) a codec can frame; codecs
// without it take any whole millisecond count from 10 to 120.
type PacketTimer interface{ PacketTimes() []int }
