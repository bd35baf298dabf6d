package media

import "fmt"

// G.711 (ITU-T G.711, 1988) PCMU (µ-law, RTP PT 0) and PCMA (A-law, PT 8) at
// 8 kHz. The tables are built once from the ITU-T G.191 reference
// algorithm (g711.c): encoding is one table look-up per sample, indexed by
// the sample's significant bits (14 for µ-law, 12 for A-law), decoding is
// one look-up per byte.

const g711Rate = 8000

var (
	ulawEncode [1 << 14]byte // index: uint16(sample) >> 2
	ulawDecode [256]int16
	alawEncode [1 << 12]byte // index: uint16(sample) >> 4
	alawDecode [256]int16
)

func init() {
	for i := range ulawEncode {
		ulawEncode[i] = ulawCompress(int16(uint16(i) << 2))
	}
	for i := range alawEncode {
		alawEncode[i] = alawCompress(int16(uint16(i) << 4))
	}
	for i := range 256 {
		ulawDecode[i] = ulawExpand(byte(i))
		alawDecode[i] = alawExpand(byte(i))
	}
}

// ulawCompress is G.191's ulaw_compress for one sample.
func ulawCompress(x int16) byte {
	var absno int32
	if x < 0 {
		absno = int32(^x>>2) + 33 // one's complement, as the reference does
	} else {
		absno = int32(x>>2) + 33 // 33: difference of the A-law and µ-law thresholds
	}
	absno = min(absno, 0x1FFF)
	seg := int32(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		seg++
	}
	high := 8 - seg
	low := 0xF - (absno>>seg)&0xF
	out := byte(high<<4 | low)
	if x >= 0 {
		out |= 0x80
	}
	return out
}

// ulawExpand is G.191's ulaw_expand for one byte.
func ulawExpand(b byte) int16 {
	sign := int32(1)
	if b < 0x80 {
		sign = -1
	}
	m := int32(^b)
	exp := (m >> 4) & 7
	m &= 0xF
	step := int32(4) << (exp + 1)
	return int16(sign * ((0x80 << exp) + step*m + step/2 - 4*33))
}

// alawCompress is G.191's alaw_compress for one sample.
func alawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32(^x >> 4)
	} else {
		ix = int32(x >> 4)
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55) // even bits are toggled on the line
}

// alawExpand is G.191's alaw_expand for one byte.
func alawExpand(b byte) int16 {
	ix := int32(b^0x55) & 0x7F
	exp := ix >> 4
	m := ix & 0xF
	if exp > 0 {
		m += 16
	}
	m = m<<4 + 8 // left-justify and add half a quantisation step
	if exp > 1 {
		m <<= exp - 1
	}
	if b > 127 {
		return int16(m)
	}
	return int16(-m)
}

// g711 is a G.711 codec; the two laws differ only in their tables.
type g711 struct {
	name  string
	pt    uint8
	enc   []byte
	shift uint
	dec   *[256]int16
}

// NewPCMU returns the G.711 µ-law codec (PT 0).
func NewPCMU() Codec {
	return &g711{name: "PCMU", pt: 0, enc: ulawEncode[:], shift: 2, dec: &ulawDecode}
}

// NewPCMA returns the G.711 A-law codec (PT 8).
func NewPCMA() Codec {
	return &g711{name: "PCMA", pt: 8, enc: alawEncode[:], shift: 4, dec: &alawDecode}
}

func (c *g711) Name() string       { return c.name }
func (c *g711) PayloadType() uint8 { return c.pt }
func (c *g711) ClockRate() int     { return g711Rate }
func (c *g711) SampleRate() int    { return g711Rate }
func (c *g711) String() string     { return c.name }

// Encode writes one byte per sample.
func (c *g711) Encode(pcm []int16, out []byte) (int, error) {
	if len(out) < len(pcm) {
		return 0, errShortEncode
	}
	out = out[:len(pcm)]
	for i, s := range pcm {
		out[i] = c.enc[uint16(s)>>c.shift]
	}
	return len(pcm), nil
}

// Decode writes one sample per byte.
func (c *g711) Decode(payload []byte, pcm []int16) (int, error) {
	if len(pcm) < len(payload) {
		return 0, errShortDecode
	}
	pcm = pcm[:len(payload)]
	for i, b := range payload {
		pcm[i] = c.dec[b]
	}
	return len(payload), nil
}

// Built once so that a short buffer on the hot path does not allocate.
var (
	errShortEncode = fmt.Errorf("%w: G.711 encode needs one output byte per sample", ErrShortBuffer)
	errShortDecode = fmt.Errorf("%w: G.711 decode needs one sample per payload byte", ErrShortBuffer)
)
