package media

import "testing"

func TestLossCounter(t *testing.T) {
	var l lossCounter
	for _, s := range []uint16{65530, 65531, 65533, 65532, 0, 3} { // 65534, 65535, 1, 2 lost; reordered
		l.push(7, s)
	}
	if got := l.lost(); got != 4 {
		t.Errorf("lost = %d, want 4", got)
	}
	// A new SSRC (the far end restarted) keeps the count and starts afresh.
	for _, s := range []uint16{100, 102} {
		l.push(8, s)
	}
	if got := l.lost(); got != 5 {
		t.Errorf("lost after SSRC change = %d, want 5", got)
	}
	var empty lossCounter
	if empty.lost() != 0 {
		t.Error("nothing received, yet packets lost")
	}
}
