package media

// JitterBuffer reorders received audio packets and hands them to the
// playout loop one frame at a time. The stream serialises all calls, so
// implementations need no locking. The fixed-delay buffer below is the
// first one; an adaptive buffer replaces it behind this interface.
type JitterBuffer interface {
	// Push stores a copy of one packet's payload.
	Push(seq uint16, timestamp uint32, payload []byte)
	// Pop copies the next packet's payload into dst. ok is false when there
	// is nothing to play for this frame (still filling, or the packet was
	// lost or is late): the caller conceals the gap (silence for now).
	Pop(dst []byte) (n int, ok bool)
}

// FixedJitterBuffer holds packets for a fixed delay (depth packets) before
// playing them in sequence order. Late packets (behind the playout point)
// are dropped; a jump further ahead than the buffer holds restarts it; a
// backlog of three times depth (the far end's clock running fast) is cut
// back to depth by dropping the oldest packets. When
// it runs dry it refills to depth again, so a pause in the far end's audio
// (silence suppression, DTMF, hold) does not leave it behind.
type FixedJitterBuffer struct {
	slots   [][]byte // indexed by seq % len(slots)
	seqs    []uint16
	full    []bool
	depth   int
	count   int
	next    uint16 // sequence number to play next
	hi      uint16 // highest sequence number held
	playing bool
	dropped uint64
}

// Default fixed jitter buffer: 60 ms of 20 ms packets, room for reordering
// across 32 packets, payloads up to a full Ethernet MTU.
const (
	defaultJitterDepth    = 3
	defaultJitterSlots    = 32
	defaultJitterMaxBytes = 1500
)

// NewFixedJitterBuffer returns a buffer that starts playing once depth
// packets are held. slots (a power of two, > depth) bounds how far ahead a
// packet may be; maxPayload bounds a payload's size. All memory is
// allocated here.
func NewFixedJitterBuffer(depth, slots, maxPayload int) *FixedJitterBuffer {
	if slots <= depth || slots&(slots-1) != 0 || slots > 1<<15 {
		panic("media: jitter buffer slots must be a power of two greater than depth")
	}
	b := &FixedJitterBuffer{
		slots: make([][]byte, slots),
		seqs:  make([]uint16, slots),
		full:  make([]bool, slots),
		depth: max(depth, 1),
	}
	for i := range b.slots {
		b.slots[i] = make([]byte, 0, maxPayload)
	}
	return b
}

// seqDiff is a-b in sequence space (RFC 3550 wrap-around).
func seqDiff(a, b uint16) int { return int(int16(a - b)) }

func (b *FixedJitterBuffer) reset() {
	clear(b.full)
	b.count, b.playing = 0, false
}

// Push implements JitterBuffer.
func (b *FixedJitterBuffer) Push(seq uint16, _ uint32, payload []byte) {
	if len(payload) > cap(b.slots[0]) {
		b.dropped++
		return
	}
	if b.count == 0 && !b.playing {
		b.next, b.hi = seq, seq
	}
	d := seqDiff(seq, b.next)
	switch {
	case d < 0 && b.playing:
		b.dropped++ // late: its turn has passed
		return
	case d < 0:
		// Filling and an earlier packet arrived: start from it if the
		// window still covers everything held.
		if seqDiff(b.hi, seq) >= len(b.slots) {
			b.dropped++
			return
		}
		b.next = seq
	case d >= len(b.slots):
		b.reset() // far ahead: the far end restarted or we fell behind
		b.next, b.hi = seq, seq
	}
	i := int(seq) & (len(b.slots) - 1)
	if b.full[i] {
		b.dropped++ // duplicate
		return
	}
	b.slots[i] = append(b.slots[i][:0], payload...)
	b.seqs[i], b.full[i] = seq, true
	b.count++
	if seqDiff(seq, b.hi) > 0 {
		b.hi = seq
	}
	if !b.playing && b.count >= b.depth {
		b.playing = true
	}
	// Bound the delay: if the far end's clock runs faster than ours, the
	// backlog grows; drop the oldest packets back to depth.
	if b.playing && seqDiff(b.hi, b.next) >= b.maxSpan() {
		for seqDiff(b.hi, b.next) >= b.depth {
			i := int(b.next) & (len(b.slots) - 1)
			if b.full[i] {
				b.full[i] = false
				b.count--
				b.dropped++
			}
			b.next++
		}
	}
}

// maxSpan is the backlog (in packets) at which the oldest are dropped.
func (b *FixedJitterBuffer) maxSpan() int { return min(3*b.depth, len(b.slots)-1) }

// Pop implements JitterBuffer.
func (b *FixedJitterBuffer) Pop(dst []byte) (int, bool) {
	if !b.playing {
		return 0, false
	}
	if b.count == 0 {
		b.playing = false // ran dry: refill before playing again
		return 0, false
	}
	i := int(b.next) & (len(b.slots) - 1)
	b.next++
	if !b.full[i] {
		return 0, false // lost, or still on its way (it will be late)
	}
	b.full[i] = false
	b.count--
	if b.seqs[i] != b.next-1 {
		return 0, false // cannot happen while the window invariant holds
	}
	n := copy(dst, b.slots[i])
	return n, true
}

// Dropped counts packets discarded as late, duplicate or oversized.
func (b *FixedJitterBuffer) Dropped() uint64 { return b.dropped }
