package media

import "testing"

// The call-waiting tone is 440 Hz for 200 ms of every 2 s, mixed in.
func TestWaitingToneCadence(t *testing.T) {
	c, err := CodecByName("PCMU")
	if err != nil {
		t.Fatal(err)
	}
	s := &Stream{codec: c}
	pl := &player{frame: make([]int16, 160)}
	var out []int16
	for i := 0; i < 100; i++ { // 2 s of 20 ms frames
		clear(pl.frame)
		s.mixWaitingTone(pl)
		out = append(out, pl.frame...)
	}
	on, off := out[:1600], out[1600:]
	if lv := ToneLevel(on, 8000, 440); lv < 0.05 {
		t.Errorf("the beep's 440 Hz level is %.3f, want a clear tone", lv)
	}
	for i, v := range off {
		if v != 0 {
			t.Fatalf("sample %d after the 200 ms beep is %d, want silence", 1600+i, v)
		}
	}
}
