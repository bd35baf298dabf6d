package media

import (
	"math"
	"testing"
)

// Textbook G.711 reconstruction levels (G.711 tables 1a/2a), written from
// the standard's formulas independently of the G.191 code under test.
func textbookUlaw(b byte) int {
	n := ^b & 0x7F
	e, m := int(n>>4), int(n&0xF)
	v := ((2*m + 33) << e) - 33 // 14-bit magnitude
	if b&0x80 == 0 {
		v = -v
	}
	return v * 4
}

func textbookAlaw(b byte) int {
	n := b ^ 0x55
	e, m := int(n>>4)&7, int(n&0xF)
	v := 2*m + 1 // 13-bit magnitude, in half steps
	if e > 0 {
		v = (2*m + 33) << (e - 1)
	}
	if b&0x80 == 0 {
		v = -v
	}
	return v * 8
}

func TestG711DecodeMatchesStandardTables(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got, want := int(ulawDecode[b]), textbookUlaw(b); got != want {
			t.Errorf("µ-law %#02x decodes to %d, G.711 says %d", b, got, want)
		}
		if got, want := int(alawDecode[b]), textbookAlaw(b); got != want {
			t.Errorf("A-law %#02x decodes to %d, G.711 says %d", b, got, want)
		}
	}
}

func TestG711KnownValues(t *testing.T) {
	cases := []struct {
		codec Codec
		in    int16
		code  byte
		out   int16
	}{
		{NewPCMU(), 0, 0xFF, 0},
		{NewPCMU(), -1, 0x7F, 0}, // one's complement: -1 is "negative zero"
		{NewPCMU(), 32767, 0x80, 32124},
		{NewPCMU(), -32768, 0x00, -32124},
		{NewPCMU(), 1000, 0xCE, 988}, // segment 3, mantissa 1
		{NewPCMA(), 0, 0xD5, 8},
		{NewPCMA(), -1, 0x55, -8},
		{NewPCMA(), 32767, 0xAA, 32256},
		{NewPCMA(), -32768, 0x2A, -32256},
		{NewPCMA(), 1000, 0xFA, 1008},
	}
	for _, c := range cases {
		var code [1]byte
		var pcm [1]int16
		if _, err := c.codec.Encode([]int16{c.in}, code[:]); err != nil {
			t.Fatal(err)
		}
		if code[0] != c.code {
			t.Errorf("%s encodes %d as %#02x, want %#02x", c.codec.Name(), c.in, code[0], c.code)
		}
		if _, err := c.codec.Decode(code[:], pcm[:]); err != nil {
			t.Fatal(err)
		}
		if pcm[0] != c.out {
			t.Errorf("%s: %d round-trips to %d, want %d", c.codec.Name(), c.in, pcm[0], c.out)
		}
	}
}

// Every sample must land in its G.711 quantisation cell: the decoded level
// is the middle of the cell, so the error is at most half the cell's step
// (textbook step sizes), plus the part of a sample below the law's
// resolution (14 bits µ-law, 12 bits for A-law's cells), which the
// standard drops. Beyond µ-law's last cell (±32636) samples clip to ±32124.
func TestG711QuantisationError(t *testing.T) {
	ulawStep := func(b byte) int { return (2 << ((^b & 0x7F) >> 4)) * 4 }
	alawStep := func(b byte) int {
		if e := ((b ^ 0x55) >> 4) & 7; e > 1 {
			return (2 << (e - 1)) * 8
		}
		return 16
	}
	for _, tc := range []struct {
		c     Codec
		step  func(byte) int
		slack int
		top   int // largest level
	}{{NewPCMU(), ulawStep, 4, 32124}, {NewPCMA(), alawStep, 1, 32256}} {
		prev := math.MinInt
		var code [1]byte
		var out [1]int16
		for x := math.MinInt16; x <= math.MaxInt16; x++ {
			if _, err := tc.c.Encode([]int16{int16(x)}, code[:]); err != nil {
				t.Fatal(err)
			}
			if _, err := tc.c.Decode(code[:], out[:]); err != nil {
				t.Fatal(err)
			}
			err := abs(int(out[0]) - x)
			allowed := tc.step(code[0])/2 + tc.slack
			if abs(x) > tc.top+tc.step(code[0])/2 {
				allowed = abs(x) - tc.top // clipped
			}
			if err > allowed {
				t.Fatalf("%s: %d encodes to %#02x = %d, error %d > %d", tc.c.Name(), x, code[0], out[0], err, allowed)
			}
			if int(out[0]) < prev {
				t.Fatalf("%s: not monotonic at %d: %d after %d", tc.c.Name(), x, out[0], prev)
			}
			prev = int(out[0])
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// G.711 keeps a roughly constant signal-to-quantisation-noise ratio of
// about 38 dB over a wide range of levels; require 33 dB from -6 to -30 dBFS.
func TestG711RoundTripSNR(t *testing.T) {
	for _, c := range []Codec{NewPCMU(), NewPCMA()} {
		for _, amp := range []float64{0.5, 0.1, 0.03} {
			pcm := sine(8000, 8000, 1013, amp)
			enc := make([]byte, len(pcm))
			dec := make([]int16, len(pcm))
			if _, err := c.Encode(pcm, enc); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Decode(enc, dec); err != nil {
				t.Fatal(err)
			}
			var sig, noise float64
			for i := range pcm {
				sig += float64(pcm[i]) * float64(pcm[i])
				d := float64(dec[i]) - float64(pcm[i])
				noise += d * d
			}
			snr := 10 * math.Log10(sig/noise)
			if snr < 33 {
				t.Errorf("%s at amplitude %.2f: SNR %.1f dB, want >= 33", c.Name(), amp, snr)
			}
		}
	}
}

func TestG711ShortBuffers(t *testing.T) {
	c := NewPCMU()
	if _, err := c.Encode(make([]int16, 160), make([]byte, 159)); err == nil {
		t.Error("Encode into a short buffer succeeded")
	}
	if _, err := c.Decode(make([]byte, 160), make([]int16, 10)); err == nil {
		t.Error("Decode into a short buffer succeeded")
	}
	n, err := c.Encode(make([]int16, 160), make([]byte, 400))
	if err != nil || n != 160 {
		t.Errorf("Encode 160 samples into a large buffer = %d, %v; want 160", n, err)
	}
}

// sine makes n samples of a tone at freq, amplitude amp of full scale.
func sine(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func BenchmarkG711Encode(b *testing.B) {
	for _, c := range []Codec{NewPCMU(), NewPCMA()} {
		b.Run(c.Name(), func(b *testing.B) {
			pcm, out := sine(160, 8000, 1000, 0.5), make([]byte, 160)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Encode(pcm, out) // checked by the tests; the loop measures the codec
			}
		})
	}
}

func BenchmarkG711Decode(b *testing.B) {
	for _, c := range []Codec{NewPCMU(), NewPCMA()} {
		b.Run(c.Name(), func(b *testing.B) {
			payload, pcm := make([]byte, 160), make([]int16, 160)
			if _, err := c.Encode(sine(160, 8000, 1000, 0.5), payload); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Decode(payload, pcm) // checked by the tests; the loop measures the codec
			}
		})
	}
}
