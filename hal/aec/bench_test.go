//go:build cgo

package aec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"deskphone/hal/aec"
)

// BenchmarkCancel is the cost of one 20 ms frame with the default
// options: the capture side's libspeexdsp echo filter and preprocessor,
// and the playback side's copy into the ring.
func BenchmarkCancel(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			frame := rate / 50
			c, err := aec.New(rate, frame, aec.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			far, mic := make([]int16, frame), make([]int16, frame)
			b.ReportAllocs()
			for b.Loop() {
				for i := range far {
					far[i] = int16(rng.IntN(8000) - 4000)
					mic[i] = far[i]/2 + int16(rng.IntN(64))
				}
				c.Played(far)
				if err := c.Cancel(mic); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
