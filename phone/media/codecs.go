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
