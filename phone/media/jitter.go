package media

import "time"

// JitterBuffer reorders received audio packets and hands them to the
// playout loop one frame at a time. The stream serialises all calls, so
// implementations need no locking. The adaptive buffer
// (AdaptiveJitterBuffer) is the stream's default; the fixed-delay one is
// the simplest.
type JitterBuffer interface {
	// Push stores a copy of one packet's payload.
	Push(p Packet)
	// Pop copies the next frame's payload into dst when st is PopFrame;
	// otherwise st says whether to conceal (PopLost, PopConceal) or play
	// silence. now is the playout clock (the same clock as
	// Packet.Arrival): when this frame is handed to the sound device.
	Pop(dst []byte, now time.Duration) (n int, st PopStatus)
	// PeekNext copies the payload of the packet Pop returns next, if it is
	// held: after PopLost it may carry the lost frame's FEC.
	PeekNext(dst []byte) (n int, ok bool)
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
func (b *FixedJitterBuffer) Push(p Packet) {
	seq, payload := p.Seq, p.Payload
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

// Pop implements JitterBuffer; the fixed buffer ignores the clock.
func (b *FixedJitterBuffer) Pop(dst []byte, _ time.Duration) (int, PopStatus) {
	if !b.playing {
		return 0, PopSilence
	}
	if b.count == 0 {
		b.playing = false // ran dry: refill before playing again
		return 0, PopSilence
	}
	i := int(b.next) & (len(b.slots) - 1)
	b.next++
	if !b.full[i] {
		return 0, PopLost // lost, or still on its way (it will be late)
	}
	b.full[i] = false
	b.count--
	if b.seqs[i] != b.next-1 {
		return 0, PopLost // cannot happen while the window invariant holds
	}
	n := copy(dst, b.slots[i])
	return n, PopFrame
}

// PeekNext implements JitterBuffer.
func (b *FixedJitterBuffer) PeekNext(dst []byte) (int, bool) {
	i := int(b.next) & (len(b.slots) - 1)
	if !b.playing || !b.full[i] || b.seqs[i] != b.next {
		return 0, false
	}
	return copy(dst, b.slots[i]), true
}

// Dropped counts packets discarded as late, duplicate or oversized.
func (b *FixedJitterBuffer) Dropped() uint64 { return b.dropped }
