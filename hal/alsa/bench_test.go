//go:build cgo

package alsa

import (
	"fmt"
	"testing"
)

// One 20 ms frame through the driver and alsa-lib (the file plugin, to
// /dev/null and from /dev/zero), per direction: at the codec's rate in mono,
// and at 44.1 kHz stereo (resampled and mixed). The wall clock that paces a
// PCM without a card is switched off: the figure is the cost per frame.
func BenchmarkFrame(b *testing.B) {
	for _, c := range []struct{ rate, ch int }{{0, 0}, {44100, 2}} {
		r := Route{Capture: `in:FILE="/dev/zero"`, Playback: `out:FILE="/dev/null"`, Rate: c.rate, Channels: c.ch}
		a, err := New(Config{Routes: map[string]Route{"handset": r}})
		if err != nil {
			b.Fatal(err)
		}
		name := "8000-mono"
		if c.rate != 0 {
			name = fmt.Sprintf("8000-%dx%d", c.rate, c.ch)
		}
		frame := make([]int16, 160)
		b.Run("capture/"+name, func(b *testing.B) {
			hc, err := a.OpenCapture(8000, 160)
			if err != nil {
				b.Fatal(err)
			}
			defer hc.Close()
			hc.(*Capture).d.params.Card = true
			b.ReportAllocs()
			for b.Loop() {
				if err := hc.Read(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("playback/"+name, func(b *testing.B) {
			hp, err := a.OpenPlayback(8000, 160)
			if err != nil {
				b.Fatal(err)
			}
			defer hp.Close()
			hp.(*Playback).d.params.Card = true
			b.ReportAllocs()
			for b.Loop() {
				if err := hp.Write(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
		_ = a.Close()
	}
}
