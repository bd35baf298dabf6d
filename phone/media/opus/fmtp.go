package opus

import (
	"strconv"
	"strings"
)

// Params are the a=fmtp parameters of RFC 7587 §6.1 that the phone uses.
// Ours (offered and answered) say what we want to receive; the far end's
// configure our encoder.
type Params struct {
	// MaxPlaybackRate is the highest rate worth sending to the receiver
	// (8000-48000 Hz); 0 = not given (48000).
	MaxPlaybackRate int
	// MaxAverageBitrate caps the sender's average bitrate (6000-510000
	// b/s); 0 = not given.
	MaxAverageBitrate int
	// UseInbandFEC: the receiver can use in-band FEC, so the sender
	// should add it.
	UseInbandFEC bool
	// UseDTX: the receiver prefers discontinuous transmission.
	UseDTX bool
	// Stereo, SpropStereo: the receiver prefers / the sender is likely to
	// send stereo. The phone is mono both ways.
	Stereo, SpropStereo bool
	// MaxPtime and Ptime, when a far end puts them in fmtp rather than in
	// a=maxptime / a=ptime; in ms, 0 = not given.
	MaxPtime, Ptime int
}

// DefaultParams is what the phone offers: full band, mono, FEC welcome,
// no DTX (a silent far end would look like loss to the jitter buffer),
// at most 40 kb/s from the far end (plenty for wideband speech).
var DefaultParams = Params{MaxPlaybackRate: 48000, MaxAverageBitrate: 40000, UseInbandFEC: true}

// ParseParams reads an a=fmtp value such as
// "maxplaybackrate=16000;useinbandfec=1". Unknown parameters and values
// that do not parse are ignored, as RFC 7587 asks of a receiver; numbers
// outside their range are clamped.
func ParseParams(fmtp string) Params {
	var p Params
	for item := range strings.SplitSeq(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		switch k {
		case "maxplaybackrate":
			p.MaxPlaybackRate = clamp(n, 8000, 48000)
		case "maxaveragebitrate":
			p.MaxAverageBitrate = clamp(n, 6000, 510000)
		case "useinbandfec":
			p.UseInbandFEC = n == 1
		case "usedtx":
			p.UseDTX = n == 1
		case "stereo":
			p.Stereo = n == 1
		case "sprop-stereo":
			p.SpropStereo = n == 1
		case "maxptime":
			p.MaxPtime = max(n, 0)
		case "ptime":
			p.Ptime = max(n, 0)
		}
	}
	return p
}

// String is the a=fmtp value for p (without the payload type).
func (p Params) String() string {
	var b strings.Builder
	add := func(k string, v int) {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(v))
	}
	if p.MaxPlaybackRate > 0 {
		add("maxplaybackrate", p.MaxPlaybackRate)
		add("sprop-maxcapturerate", p.MaxPlaybackRate)
	}
	if p.MaxAverageBitrate > 0 {
		add("maxaveragebitrate", p.MaxAverageBitrate)
	}
	add("stereo", b2i(p.Stereo))
	add("sprop-stereo", b2i(p.SpropStereo))
	add("useinbandfec", b2i(p.UseInbandFEC))
	add("usedtx", b2i(p.UseDTX))
	return b.String()
}

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
