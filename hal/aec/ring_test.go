package aec

import (
	"slices"
	"testing"
)

// seq returns n samples counting from first: each sample says which it is.
func seq(first, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(first + i)
	}
	return s
}

// The pairing holds across jitter: a late playback costs one block of
// silence, and the capture after it gets the samples it would have had.
func TestRingLatePlayback(t *testing.T) {
	r := newRefRing(40, 10, 1000)
	dst := make([]int16, 10)
	r.put(seq(0, 10))
	if !r.take(dst) || !slices.Equal(dst, seq(0, 10)) {
		t.Fatalf("first take: %v", dst)
	}
	if r.take(dst) || !slices.Equal(dst, make([]int16, 10)) || r.underruns != 1 || r.moved {
		t.Fatalf("take with nothing written: %v (underruns %d), want silence and an underrun", dst, r.underruns)
	}
	r.put(seq(10, 10)) // the late block: stood in for by silence
	r.put(seq(20, 10))
	if !r.take(dst) || !slices.Equal(dst, seq(20, 10)) {
		t.Errorf("take after the late block: %v, want samples 20-29 (the pairing kept)", dst)
	}
	// A part of a block waiting at an underrun is dropped with the rest
	// owed.
	r.put(seq(30, 4))
	if r.take(dst) {
		t.Fatalf("take of 4 samples of 10: ok, want an underrun")
	}
	r.put(seq(34, 10)) // 34-39 owed, 40-43 kept
	r.put(seq(44, 10))
	if !r.take(dst) || !slices.Equal(dst, seq(40, 10)) {
		t.Errorf("after a partial underrun: %v, want 40-49", dst)
	}
}

// A stalled capture drops the oldest reference; a stopped playback is
// not owed forever, and its return moves the pairing.
func TestRingOverflowAndDebtCap(t *testing.T) {
	r := newRefRing(30, 10, 1000)
	dst := make([]int16, 10)
	for k := range 5 {
		r.put(seq(10*k, 10))
	}
	if r.dropped != 2 || !r.moved || !r.take(dst) || !slices.Equal(dst, seq(20, 10)) {
		t.Errorf("after 5 blocks into 3: dropped %d, moved %v, took %v; want 2 dropped, moved, and 20-29", r.dropped, r.moved, dst)
	}
	r.put(seq(0, 100)) // more than the ring at once: the newest 30
	if !r.take(dst) || !slices.Equal(dst, seq(70, 10)) {
		t.Errorf("after a put larger than the ring: took %v, want 70-79", dst)
	}
	r.reset()
	r.moved = false
	for range 10 { // the playback stopped
		r.take(dst)
	}
	if r.debt > 30 || !r.moved {
		t.Errorf("after 10 takes of a stopped playback: debt %d, moved %v; want at most the ring's 30 owed, moved", r.debt, r.moved)
	}
	r.put(seq(0, 40))
	if !r.take(dst) || !slices.Equal(dst, seq(10, 10)) {
		t.Errorf("playback resumed with 40 samples: took %v, want 10-19 (the ring's newest 30, oldest first)", dst)
	}
}

// Reference that keeps waiting for a whole window is trimmed to two blocks:
// the capture pairs with fresher reference from then on, and the
// Canceller hears that the pairing moved. The first window after a start
// is short.
func TestRingTrims(t *testing.T) {
	r := newRefRing(60, 10, 4) // windows of 4 takes; the first of 2
	dst := make([]int16, 10)
	next := 0
	put := func() { r.put(seq(next, 10)); next += 10 }
	put()
	put()
	put() // three blocks ahead, as a sound card's buffer fills first
	put()
	r.take(dst)
	if r.dropped != 0 || r.moved || !slices.Equal(dst, seq(0, 10)) {
		t.Fatalf("first take: dropped %d, moved %v, took %v", r.dropped, r.moved, dst)
	}
	put()
	r.take(dst) // the first window's end: 3 blocks left at least, trimmed to 2
	if r.dropped != 1 || r.n != 20 || !r.moved {
		t.Errorf("after the first window: dropped %d, held %d, moved %v; want 1 dropped, 20 held, moved", r.dropped, r.n, r.moved)
	}
	r.moved = false
	put()
	if r.take(dst); !slices.Equal(dst, seq(30, 10)) {
		t.Errorf("after the trim: took %v, want 30-39 (the freshest but two)", dst)
	}
	// In step from now: two blocks left after each take, nothing trimmed
	// over a full window.
	for range 8 {
		put()
		r.take(dst)
	}
	if r.dropped != 1 || r.moved || r.underruns != 0 {
		t.Errorf("in step: dropped %d, moved %v, underruns %d; want nothing more", r.dropped, r.moved, r.underruns)
	}
}

// A playback late for every capture (its clock behind, or fallen behind
// for good) is not dropped forever: after lateForGood underruns in a row
// the pairing moves to older reference, and the captures get it.
func TestRingLateForGood(t *testing.T) {
	r := newRefRing(40, 10, 1000)
	dst := make([]int16, 10)
	next := 0
	put := func() { r.put(seq(next, 10)); next += 10 }
	put()
	r.take(dst)
	for i := range lateForGood + 1 { // each capture now runs before its reference is written
		if r.take(dst) {
			t.Fatalf("take %d before its reference: ok", i)
		}
		put()
	}
	if !r.moved || r.debt != 0 {
		t.Fatalf("after %d underruns in a row: moved %v, debt %d; want moved, no debt", lateForGood+1, r.moved, r.debt)
	}
	for range 3 {
		if !r.take(dst) {
			t.Fatalf("after the move, a capture still found no reference")
		}
		put()
	}
	if want := seq(next-20, 10); !slices.Equal(dst, want) {
		t.Errorf("after the move took %v, want %v (one block older than written last)", dst, want)
	}
}
