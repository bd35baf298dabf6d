//go:build cgo

package opus

import (
	"errors"
	"fmt"

	"deskphone/phone/media"

	hopus "gopkg.in/hraban/opus.v2"
)

func init() {
	media.RegisterCodec(Name, func() media.Codec { return New(DefaultParams) })
}

// Codec is Opus for one call, or the prototype that offers it: mono at
// 48 kHz, libopus for both directions. Encode runs on the stream's sender
// goroutine and Decode/Conceal/DecodeFEC on its playout goroutine; each
// side has its own state, made at its first use (so a prototype that only
// offers costs no libopus memory).
type Codec struct {
	local  Params // our fmtp: what we want to receive
	remote Params // the far end's fmtp: how we encode

	enc    *hopus.Encoder
	encErr error
	dec    *hopus.Decoder
	decErr error
	last   int // samples of the last decoded frame: the size of a concealed one
}

// New returns an Opus codec offering local; its encoder follows the
// defaults until ForCall gives it the far end's fmtp.
func New(local Params) *Codec {
	return &Codec{local: local, remote: Params{MaxPlaybackRate: 48000}, last: defaultFrame}
}

const (
	// Name is the SDP encoding name (RFC 7587).
	Name = "opus"
	// PayloadType is the default dynamic payload type; SDP moves it when
	// telephone-event or another codec holds 111.
	PayloadType = 111
	// Rate is both the RTP clock and the PCM rate.
	Rate = 48000
	// Bitrate is what we send unless the far end's maxaveragebitrate is
	// lower: wideband speech at full quality.
	Bitrate = 32000
	// Complexity trades encoder CPU for quality (0-10; libopus's default
	// is 10). 5 halves the encoder's cost with little audible loss for
	// speech, which matters on a Pi Zero (figures in the README).
	Complexity = 5
	// FECLossPercent is the loss the encoder plans its in-band FEC for
	// when the far end wants FEC (libopus adds none at 0 %).
	FECLossPercent = 10

	defaultFrame = Rate / 50 // 20 ms
)

// Name is the SDP encoding name.
func (c *Codec) Name() string { return Name }

// PayloadType is the default dynamic payload type (111).
func (c *Codec) PayloadType() uint8 { return PayloadType }

// ClockRate is 48000 (RFC 7587: always, whatever the audio bandwidth).
func (c *Codec) ClockRate() int { return Rate }

// SampleRate is 48000: PCM in and out is mono 48 kHz.
func (c *Codec) SampleRate() int { return Rate }

// Channels is 2, as RFC 7587 requires in a=rtpmap; the audio is mono.
func (c *Codec) Channels() int { return 2 }

// Fmtp is our a=fmtp value.
func (c *Codec) Fmtp() string { return c.local.String() }

// PacketTimes are the packet times libopus frames (ms).
func (c *Codec) PacketTimes() []int { return []int{10, 20, 40, 60} }

// Remote is the far end's fmtp as this call's encoder uses it.
func (c *Codec) Remote() Params { return c.remote }

// ForCall returns a new codec for one call, its encoder set by the far
// end's fmtp (remoteFmtp; "" = RFC 7587's defaults).
func (c *Codec) ForCall(remoteFmtp string) (media.Codec, error) {
	n := New(c.local)
	n.remote = ParseParams(remoteFmtp)
	if n.remote.MaxPlaybackRate == 0 {
		n.remote.MaxPlaybackRate = Rate
	}
	return n, nil
}

// Encode encodes one frame of 10, 20, 40 or 60 ms (480 to 2880 samples).
func (c *Codec) Encode(pcm []int16, out []byte) (int, error) {
	if c.enc == nil && c.encErr == nil {
		c.enc, c.encErr = newEncoder(c.remote)
	}
	if c.encErr != nil {
		return 0, c.encErr
	}
	switch len(pcm) {
	case Rate / 100, Rate / 50, Rate / 25, Rate * 3 / 50:
	default:
		return 0, fmt.Errorf("opus: a frame of %d samples is not 10, 20, 40 or 60 ms at 48 kHz", len(pcm))
	}
	return c.enc.Encode(pcm, out)
}

// newEncoder makes a VoIP encoder and applies the far end's wishes.
func newEncoder(remote Params) (*hopus.Encoder, error) {
	enc, err := hopus.NewEncoder(Rate, 1, hopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus: cannot make the encoder: %w", err)
	}
	bitrate := Bitrate
	if remote.MaxAverageBitrate > 0 {
		bitrate = min(bitrate, remote.MaxAverageBitrate)
	}
	loss := 0
	if remote.UseInbandFEC {
		loss = FECLossPercent
	}
	err = errors.Join(
		enc.SetBitrate(bitrate),
		enc.SetComplexity(Complexity),
		enc.SetMaxBandwidth(bandwidthFor(remote.MaxPlaybackRate)),
		enc.SetInBandFEC(remote.UseInbandFEC),
		enc.SetPacketLossPerc(loss),
		enc.SetDTX(remote.UseDTX),
	)
	if err != nil {
		return nil, fmt.Errorf("opus: cannot configure the encoder: %w", err)
	}
	return enc, nil
}

// bandwidthFor is the widest audio band a receiver playing at rate uses.
func bandwidthFor(rate int) hopus.Bandwidth {
	switch {
	case rate <= 8000:
		return hopus.Narrowband
	case rate <= 12000:
		return hopus.Mediumband
	case rate <= 16000:
		return hopus.Wideband
	case rate <= 24000:
		return hopus.SuperWideband
	}
	return hopus.Fullband
}

func (c *Codec) decoder() (*hopus.Decoder, error) {
	if c.dec == nil && c.decErr == nil {
		c.dec, c.decErr = hopus.NewDecoder(Rate, 1)
		if c.decErr != nil {
			c.decErr = fmt.Errorf("opus: cannot make the decoder: %w", c.decErr)
		}
	}
	return c.dec, c.decErr
}

// Decode decodes one packet into pcm (room for up to 120 ms is needed
// for the longest packets) and returns the sample count. An empty payload
// is a lost frame: it is concealed.
func (c *Codec) Decode(payload []byte, pcm []int16) (int, error) {
	if len(payload) == 0 {
		return c.Conceal(pcm[:min(c.last, len(pcm))])
	}
	dec, err := c.decoder()
	if err != nil {
		return 0, err
	}
	n, err := dec.Decode(payload, pcm[:len(pcm):len(pcm)])
	if err != nil {
		return 0, err
	}
	c.last = n
	return n, nil
}

// Conceal fills pcm (one lost frame; a multiple of 2.5 ms) with the
// decoder's packet loss concealment.
func (c *Codec) Conceal(pcm []int16) (int, error) {
	dec, err := c.decoder()
	if err != nil {
		return 0, err
	}
	if err := dec.DecodePLC(pcm[:len(pcm):len(pcm)]); err != nil {
		return 0, err
	}
	return len(pcm), nil
}

// DecodeFEC rebuilds the frame lost before next (len(pcm) samples) from
// next's in-band FEC; libopus conceals instead when next carries none.
// Decode next itself afterwards.
func (c *Codec) DecodeFEC(next []byte, pcm []int16) (int, error) {
	if len(next) == 0 {
		return c.Conceal(pcm)
	}
	dec, err := c.decoder()
	if err != nil {
		return 0, err
	}
	if err := dec.DecodeFEC(next, pcm[:len(pcm):len(pcm)]); err != nil {
		return 0, err
	}
	return len(pcm), nil
}

// The interfaces SDP and the playout loop look for.
var (
	_ media.ChannelCounter = (*Codec)(nil)
	_ media.FmtpProvider   = (*Codec)(nil)
	_ media.Concealer      = (*Codec)(nil)
	_ media.CallCodec      = (*Codec)(nil)
	_ media.PacketTimer    = (*Codec)(nil)
)
