package media

import "testing"

// popAll pops n frames and returns the first payload byte of each, or -1
// for a frame with nothing to play.
func popAll(b JitterBuffer, n int) []int {
	out := make([]int, n)
	dst := make([]byte, 64)
	for i := range out {
		k, st := b.Pop(dst, 0)
		out[i] = -1
		if st == PopFrame && k > 0 {
			out[i] = int(dst[0])
		}
	}
	return out
}

func push(b JitterBuffer, seqs ...uint16) {
	for _, s := range seqs {
		b.Push(Packet{Seq: s, Timestamp: uint32(s) * 160, Payload: []byte{byte(s)}})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestJitterReorders(t *testing.T) {
	b := NewFixedJitterBuffer(3, 16, 64)
	push(b, 12, 10)
	if got := popAll(b, 1); got[0] != -1 {
		t.Fatalf("played before holding depth packets: %v", got)
	}
	push(b, 11, 13)
	if got, want := popAll(b, 5), []int{10, 11, 12, 13, -1}; !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestJitterLossDuplicateAndLate(t *testing.T) {
	b := NewFixedJitterBuffer(2, 16, 64)
	push(b, 20, 21, 21, 23) // 21 duplicated, 22 lost
	if got, want := popAll(b, 3), []int{20, 21, -1}; !equalInts(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	push(b, 22) // late: its slot was already played as a gap
	if got, want := popAll(b, 1), []int{23}; !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if b.Dropped() != 2 {
		t.Errorf("Dropped = %d, want 2 (duplicate and late)", b.Dropped())
	}
}

func TestJitterSequenceWrap(t *testing.T) {
	b := NewFixedJitterBuffer(2, 16, 64)
	push(b, 65534, 0, 65535, 1)
	got := popAll(b, 4)
	want := []int{65534 & 0xFF, 65535 & 0xFF, 0, 1}
	if !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestJitterRefillsAfterRunningDry(t *testing.T) {
	b := NewFixedJitterBuffer(2, 16, 64)
	push(b, 1, 2)
	popAll(b, 4) // plays 1, 2, then runs dry
	// The far end paused (DTMF, silence suppression) and resumes further on.
	push(b, 9)
	if got := popAll(b, 1); got[0] != -1 {
		t.Fatalf("played a single packet without refilling: %v", got)
	}
	push(b, 10)
	if got, want := popAll(b, 2), []int{9, 10}; !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestJitterJumpRestarts(t *testing.T) {
	b := NewFixedJitterBuffer(2, 16, 64)
	push(b, 100, 101)
	push(b, 5000, 5001) // new sequence space (far end restarted)
	if got, want := popAll(b, 2), []int{5000 & 0xFF, 5001 & 0xFF}; !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestJitterBoundsDelay(t *testing.T) {
	b := NewFixedJitterBuffer(2, 16, 64)
	// The far end sends 10 packets before we play any (its clock is fast
	// or ours stalled): when the backlog reaches 3×depth (packet 6) it is
	// cut back to depth (5, 6), so 0-4 are never played.
	push(b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	if got, want := popAll(b, 6), []int{5, 6, 7, 8, 9, -1}; !equalInts(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestJitterOversizedPayload(t *testing.T) {
	b := NewFixedJitterBuffer(1, 16, 4)
	b.Push(Packet{Seq: 1, Payload: make([]byte, 5)})
	if _, st := b.Pop(make([]byte, 8), 0); st == PopFrame {
		t.Error("an oversized payload was kept")
	}
}

func BenchmarkJitterPushPopFixed(b *testing.B) {
	jb := NewFixedJitterBuffer(3, 32, 1500)
	payload, dst := make([]byte, 160), make([]byte, 1500)
	seq := uint16(0)
	push(jb, 0, 1, 2)
	seq = 3
	b.ReportAllocs()
	for b.Loop() {
		jb.Push(Packet{Seq: seq, Timestamp: uint32(seq) * 160, Payload: payload})
		jb.Pop(dst, 0)
		seq++
	}
}
