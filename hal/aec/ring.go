package aec

// refRing holds the far end's samples from the playback's Write until the
// capture's Read that pairs them with the microphone. Its job is to keep
// that pairing fixed while the two goroutines wake in no fixed order: the
// echo filter has learnt one alignment, and each shift of it costs a
// re-convergence (echo leaking for a second or so).
//
//   - A capture that finds no reference (the playback is late this once)
//     gets silence, and the samples that come late for it are dropped when
//     they arrive (debt), so later captures pair as before. That block's
//     echo is not cancelled: the margin below makes it rare. After
//     lateForGood underruns without a calm window between them the
//     reference is taken to be late for good (clocks drifting apart, or a
//     playback that fell behind), and the pairing moves to older reference
//     instead.
//   - Reference that piles up beyond the ring (the capture stalled) drops
//     the oldest.
//   - Reference that keeps waiting (more than keep blocks left after every
//     take for a whole window: 100 ms after a start, then a second) is
//     trimmed to keep: the pairing moves to fresher reference once, which
//     keeps the echo path short and causal (what was just written is still
//     in the sound card's buffer). keep, two blocks left at the window's
//     tightest moment, is the margin for a playback held up later.
//
// When the pairing moves (a drop, or a playback silent for longer than the
// ring) moved is set: the Canceller then starts its filter afresh, which
// converges in about 2 s, where unlearning the old alignment takes longer.
//
// Not safe for concurrent use: the Canceller locks around it.
type refRing struct {
	buf      []int16
	head, n  int // oldest sample, samples held
	block    int // samples per take
	debt     int // samples a take replaced with silence, to drop when written
	window   int // takes per trim window after the first
	first    int // takes in the first window after a reset
	taken    int // takes in this window
	minDepth int // least samples held after a take in this window
	started  bool
	late     int  // underruns since the last window without one
	moved    bool // the pairing moved since the Canceller last looked

	underruns, dropped int64 // blocks
}

// keepBlocks is the margin a trim leaves (see refRing).
const keepBlocks = 2

// lateForGood is how many underruns, with no calm window between them,
// mean the reference will not catch up: the ring then stops dropping it.
const lateForGood = 4

func newRefRing(size, block, window int) *refRing {
	r := &refRing{buf: make([]int16, size), block: block, window: window, first: max(2, window/10)}
	r.reset()
	return r
}

// reset empties the ring and forgets the debt.
func (r *refRing) reset() {
	r.head, r.n, r.debt, r.taken, r.minDepth = 0, 0, 0, 0, len(r.buf)
	r.started, r.moved, r.late = false, false, 0
}

// put appends frame, just played.
func (r *refRing) put(frame []int16) {
	if r.debt > 0 { // already stood in for by silence
		k := min(r.debt, len(frame))
		frame, r.debt = frame[k:], r.debt-k
	}
	size := len(r.buf)
	if len(frame) > size { // only the newest ring's worth can pair
		r.drop(r.n + len(frame) - size)
		frame = frame[len(frame)-size:]
	}
	if over := r.n + len(frame) - size; over > 0 {
		r.drop(over)
	}
	tail := (r.head + r.n) % size
	k := copy(r.buf[tail:], frame)
	copy(r.buf, frame[k:])
	r.n += len(frame)
}

// drop discards the oldest k samples (k <= r.n + what is being put).
func (r *refRing) drop(k int) {
	r.dropped += int64((k + r.block - 1) / r.block)
	r.moved = true
	k = min(k, r.n)
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
}

// take fills dst (one block) with the oldest reference, or with silence
// if there is none (reported false).
func (r *refRing) take(dst []int16) bool {
	if r.n < r.block {
		clear(dst)
		r.underruns++
		r.taken, r.minDepth = 0, len(r.buf)
		if r.late++; r.late > lateForGood {
			// Late for good (clocks drifting, or the playback fell behind
			// for good): pair with older reference from now on.
			r.debt, r.late, r.moved = 0, 0, true
			return false
		}
		if r.debt += r.block - r.n; r.debt > len(r.buf) { // a playback that stopped is not owed forever
			r.debt, r.moved = len(r.buf), true
		}
		r.head, r.n = 0, 0
		return false
	}
	k := copy(dst, r.buf[r.head:])
	copy(dst[k:], r.buf)
	r.head = (r.head + r.block) % len(r.buf)
	r.n -= r.block
	r.minDepth = min(r.minDepth, r.n)
	window := r.window
	if !r.started {
		window = r.first
	}
	if r.taken++; r.taken >= window { // a window without an underrun
		r.late = 0
		if excess := (r.minDepth - keepBlocks*r.block) / r.block * r.block; excess > 0 {
			r.drop(excess)
		}
		r.taken, r.minDepth, r.started = 0, len(r.buf), true
	}
	return true
}
