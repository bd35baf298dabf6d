package media

import (
	"errors"
	"math"
	"testing"
)

func TestGainCurve(t *testing.T) {
	var g Gain
	if g.Volume() != 100 {
		t.Fatalf("zero Gain has volume %d, want 100", g.Volume())
	}
	frame := []int16{1000, -1000, 32767, -32768, 0, 1}
	orig := append([]int16(nil), frame...)
	g.Apply(frame)
	for i := range frame {
		if frame[i] != orig[i] {
			t.Fatalf("volume 100 changed sample %d: %d → %d", i, orig[i], frame[i])
		}
	}
	for _, c := range []struct {
		vol int
		db  float64 // expected level change
	}{{50, -12.04}, {10, -40}, {71, -5.95}} {
		if err := g.SetVolume(c.vol); err != nil {
			t.Fatal(err)
		}
		f := []int16{20000, -20000}
		g.Apply(f)
		got := 20 * math.Log10(float64(f[0])/20000)
		if math.Abs(got-c.db) > 0.1 || f[1] != -f[0] {
			t.Errorf("volume %d: 20000 → %d (%.2f dB), want %.2f dB and symmetric (%d)", c.vol, f[0], got, c.db, f[1])
		}
	}
	if err := g.SetVolume(0); err != nil {
		t.Fatal(err)
	}
	f := []int16{123, -32768, 32767}
	g.Apply(f)
	if f[0] != 0 || f[1] != 0 || f[2] != 0 {
		t.Errorf("volume 0 left %v, want silence", f)
	}
}

func TestGainRejectsOutOfRange(t *testing.T) {
	var g Gain
	for _, v := range []int{-1, 101, 1000} {
		if err := g.SetVolume(v); err == nil {
			t.Errorf("SetVolume(%d) accepted", v)
		}
	}
	if g.Volume() != 100 {
		t.Errorf("a refused volume changed it to %d", g.Volume())
	}
}

type sliceSource struct{ v int16 }

func (s sliceSource) Read(f []int16) error {
	for i := range f {
		f[i] = s.v
	}
	return nil
}

type failSource struct{}

func (failSource) Read([]int16) error { return errors.New("unplugged") }

type lastSink struct{ got []int16 }

func (s *lastSink) Write(f []int16) error { s.got = append(s.got[:0], f...); return nil }

func TestGainSourceAndSink(t *testing.T) {
	g := &Gain{}
	if err := g.SetVolume(50); err != nil {
		t.Fatal(err)
	}
	f := make([]int16, 4)
	if err := (GainSource{Src: sliceSource{8000}, Gain: g}).Read(f); err != nil || f[0] != 2000 {
		t.Errorf("GainSource at 50: %v %v, want 2000s", f, err)
	}
	if err := (GainSource{Src: failSource{}, Gain: g}).Read(f); err == nil {
		t.Error("GainSource hid its source's error")
	}
	sink := &lastSink{}
	if err := (GainSink{Sink: sink, Gain: g}).Write([]int16{-8000, 8000}); err != nil || sink.got[0] != -2000 || sink.got[1] != 2000 {
		t.Errorf("GainSink at 50 wrote %v (%v), want [-2000 2000]", sink.got, err)
	}
}

func BenchmarkGainApply(b *testing.B) {
	var g Gain
	if err := g.SetVolume(63); err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i * 200)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.Apply(frame)
	}
}
