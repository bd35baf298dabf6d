package media

import (
	"math"
	"testing"
)

func levelSine(n int, amp float64) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = int16(amp * 32767 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return f
}

func TestLevel(t *testing.T) {
	square := make([]int16, 160)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32768
		}
	}
	cases := []struct {
		name  string
		frame []int16
		want  int
	}{
		{"silence", make([]int16, 160), 0},
		{"empty", nil, 0},
		{"full-scale square (0 dBFS)", square, 100},
		{"full-scale sine (-3 dBFS)", levelSine(160, 1), 95},
		{"sine at -20 dBFS", levelSine(160, 0.1), 62},  // RMS −23 dBFS: (60−23)·100/60
		{"sine at -60 dBFS", levelSine(160, 0.001), 0}, // RMS −63 dBFS: below the floor
	}
	for _, c := range cases {
		if got := Level(c.frame); got != c.want {
			t.Errorf("%s: level %d, want %d", c.name, got, c.want)
		}
	}
}

func TestLevelMeterTakesPeak(t *testing.T) {
	var m LevelMeter
	if _, ok := m.Take(); ok {
		t.Fatal("a fresh meter reports a level")
	}
	m.Measure(levelSine(160, 0.1))
	m.Measure(levelSine(160, 1))
	m.Measure(make([]int16, 160))
	if lvl, ok := m.Take(); !ok || lvl != 95 {
		t.Fatalf("Take = %d, %v; want the loudest frame's 95", lvl, ok)
	}
	if lvl, ok := m.Take(); ok || lvl != 0 {
		t.Fatalf("a second Take with no frames = %d, %v; want 0, false", lvl, ok)
	}
	m.Measure(make([]int16, 160))
	if lvl, ok := m.Take(); !ok || lvl != 0 {
		t.Fatalf("silence = %d, %v; want 0, true", lvl, ok)
	}
}

func TestStreamLevels(t *testing.T) {
	a, b := call(t, NewPCMU, 1000, 1000)
	waitFor(t, "a's microphone and b's speaker levels", func() bool {
		mic, _ := a.stream.TakeLevels()
		_, speaker := b.stream.TakeLevels()
		return mic > 50 && speaker > 50 // a 1 kHz tone at half scale: about 90
	})
}
