package media

import (
	"math"
	"testing"
)

func TestToneLevel(t *testing.T) {
	tone := sine(8000, 8000, 1000, 0.5)
	if l := ToneLevel(tone, 8000, 1000); math.Abs(l-0.5) > 0.01 {
		t.Errorf("level of a 0.5 FS 1 kHz tone = %.3f, want 0.5", l)
	}
	for _, f := range []float64{697, 941, 1209, 1500, 2000} {
		if l := ToneLevel(tone, 8000, f); l > 0.005 {
			t.Errorf("a 1 kHz tone shows %.4f at %.0f Hz", l, f)
		}
	}
	// A frequency between bins still reads right (the window's scalloping
	// loss is small over a second of signal).
	if l := ToneLevel(sine(4000, 8000, 1336.3, 0.2), 8000, 1336.3); math.Abs(l-0.2) > 0.01 {
		t.Errorf("level of a 0.2 FS 1336.3 Hz tone = %.3f", l)
	}
	if ToneLevel(nil, 8000, 1000) != 0 || ToneLevel(make([]int16, 800), 8000, 1000) != 0 {
		t.Error("empty or silent input shows a tone")
	}
}

func TestDominantFrequency(t *testing.T) {
	// DTMF "5": 770 Hz + 1336 Hz, the low tone louder.
	a, b := sine(4000, 8000, 770, 0.3), sine(4000, 8000, 1336, 0.2)
	mix := make([]int16, len(a))
	for i := range mix {
		mix[i] = a[i] + b[i]
	}
	cands := []float64{697, 770, 852, 941, 1209, 1336, 1477}
	if f := DominantFrequency(mix, 8000, cands); f != 770 {
		t.Errorf("dominant = %.0f, want 770", f)
	}
	if f := DominantFrequency(mix, 8000, []float64{1209, 1336, 1477}); f != 1336 {
		t.Errorf("dominant high tone = %.0f, want 1336", f)
	}
	if f := DominantFrequency(nil, 8000, cands); f != 0 {
		t.Errorf("no samples gave %.0f", f)
	}
}
