//go:build cgo

package opus

import (
	"fmt"
	"testing"

	pionopus "github.com/pion/opus"
)

// Per-frame cost of one 20 ms frame of the test signal, each direction:
// `go test -tags nolibopusfile -bench . -benchmem ./phone/media/opus/`.

func BenchmarkEncode(b *testing.B) {
	in := testSignal(Rate)
	c, _ := New(DefaultParams).ForCall("useinbandfec=1")
	out := make([]byte, 1500)
	if _, err := c.Encode(in[:960], out); err != nil { // makes the encoder: once per call, not per frame
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Encode(in[i:i+960], out); err != nil {
			b.Fatal(err)
		}
		i = (i + 960) % (len(in) - 960)
	}
}

// BenchmarkEncodeComplexity compares libopus's complexity settings (its
// default is 10), for the choice of Complexity.
func BenchmarkEncodeComplexity(b *testing.B) {
	in := testSignal(Rate)
	for _, cx := range []int{1, 3, 5, 8, 10} {
		b.Run(fmt.Sprint(cx), func(b *testing.B) {
			enc, err := newEncoder(ParseParams("useinbandfec=1"))
			if err != nil {
				b.Fatal(err)
			}
			if err := enc.SetComplexity(cx); err != nil {
				b.Fatal(err)
			}
			out := make([]byte, 1500)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := enc.Encode(in[i:i+960], out); err != nil {
					b.Fatal(err)
				}
				i = (i + 960) % (len(in) - 960)
			}
		})
	}
}

func BenchmarkDecodeLibopus(b *testing.B) {
	pkts := encodeAll(b, testSignal(Rate), 960, "useinbandfec=1")
	c := New(DefaultParams)
	pcm := make([]int16, Rate*120/1000)
	if _, err := c.Decode(pkts[0], pcm); err != nil { // makes the decoder: once per call
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Decode(pkts[i], pcm); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(pkts)
	}
}

func BenchmarkDecodePion(b *testing.B) {
	pkts := encodeAll(b, testSignal(Rate), 960, "useinbandfec=1")
	d, err := pionopus.NewDecoderWithOutput(Rate, 1)
	if err != nil {
		b.Fatal(err)
	}
	pcm := make([]int16, Rate*120/1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.DecodeToInt16(pkts[i], pcm); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(pkts)
	}
}

func BenchmarkConceal(b *testing.B) {
	pkts := encodeAll(b, testSignal(Rate), 960, "")
	c := New(DefaultParams)
	pcm := make([]int16, 960)
	if _, err := c.Decode(pkts[0], make([]int16, 5760)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Conceal(pcm); err != nil {
			b.Fatal(err)
		}
	}
}
