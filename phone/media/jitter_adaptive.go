package media

import "time"

// AdaptiveJitterBuffer plays packets in sequence order after a delay that
// follows the network's jitter, and keeps that delay from drifting.
//
// Timing. Each packet's transit (arrival − RTP timestamp) is compared with
// the smallest transit of the last few seconds (base): the difference is
// how late the network made it. The target delay is the lateness that 95 %
// of recent packets came within (a histogram in which a packet's weight
// halves in about 3.5 s, as WebRTC's NetEq does), plus half a frame of
// margin, at least one frame. So it grows within a fraction of a second
// when packets start coming late, and shrinks over some 15 s once they
// stop; a single stall (a few packets very late) hardly moves it. The
// delay of a frame is its playout time minus the time it would have come
// with base transit.
//
// Control, once per Pop: a delay half a frame under target is raised by
// one frame — a silence between talk spurts where possible, otherwise one
// concealed frame (the stretch); a delay a frame over target is cut by one
// frame — at a talk-spurt boundary (marker bit, or a timestamp gap) at
// once, otherwise by dropping one frame, at most once a second (every
// other frame while the delay is more than two frames over, and all at
// once, in one discontinuity, when it is more than ten over). This same
// loop cancels clock drift: a far end whose clock runs fast fills the
// buffer (drops), a slow one drains it (stretches), so the delay stays put
// over a long call. Pop's now is the sound device's clock, smoothed.
//
// It survives sequence and timestamp wrap (both are extended to 64 bits),
// an SSRC change or a jump of more than its window in sequence numbers (it
// restarts), reordering within its window, and duplicates (dropped,
// counted). A packet behind the playout point is late: counted, dropped,
// and it raises the target.
//
// All memory is allocated by NewAdaptiveJitterBuffer: Push and Pop do not
// allocate.
type AdaptiveJitterBuffer struct {
	rate     int64         // RTP clock rate
	frame    time.Duration // the stream's frame (ptime); one Pop plays one packet
	frameTS  int64         // packet duration in RTP units, learned from consecutive packets
	minDelay time.Duration
	maxDelay time.Duration

	slots  [][]byte
	seqs   []int64 // extended sequence number in each slot
	tss    []int64 // extended timestamp in each slot
	marker []bool
	full   []bool
	played []int64 // extended sequence number last played from each slot: tells a duplicate from a late packet
	mask   int64

	started bool
	ssrc    uint32
	hiSeq   int64 // highest extended sequence number received
	lastTS  int64 // extended timestamp of the last packet pushed (the unwrap reference)
	ts0     int64 // extended timestamp at (re)start: times are taken relative to it
	count   int

	playing  bool
	begun    bool  // played since the last restart: an earlier packet is late
	next     int64 // extended sequence number to play next
	nextTS   int64 // its expected timestamp
	playedTS int64 // timestamp of the last frame played (or given up)
	dry      int   // frames in a row with nothing held

	// Timing (durations relative to ts0 on the Arrival clock).
	blockMin   [baseBlocks]time.Duration
	blockN     int
	blockI     int
	base       time.Duration // smallest transit over the blocks
	lastTrans  time.Duration
	haveTrans  bool
	jitter     time.Duration        // RFC 3550 J, in time
	lateHist   [lateBuckets]float32 // lateness histogram, older packets weighing less
	lateMass   float32
	target     time.Duration
	clock      time.Duration // smoothed playout clock
	clockSet   bool
	lastCut    time.Duration // when a frame was last dropped
	adjTarget  time.Duration // target at the last drop or stretch
	stats      JitterStats
	haveTarget bool
}

// Adaptive buffer tuning.
const (
	baseBlocks       = 8                      // base = min transit over 8 blocks …
	baseBlockLen     = 16                     // … of 16 packets (2.56 s of 20 ms packets)
	lateBuckets      = 81                     // lateness histogram: 5 ms buckets up to 400 ms and over
	lateBucket       = 5 * time.Millisecond   //
	lateForget       = 1 - 1.0/256            // a packet's weight falls by 1/e every 256 packets (≈ 5 s)
	lateQuantile     = 0.95                   // the target covers this share of packets
	cutEvery         = time.Second            // drops in mid-speech at most this often …
	farOver          = 2                      // … unless the delay is this many frames over target
	flushOver        = 10                     // a delay this many frames over target is cut at once
	maxDryFrames     = 3                      // concealed frames with nothing held before pausing
	clockSlack       = 4                      // a now more than 4 frames off the smoothed clock re-anchors it
	clockSmoothShift = 5                      // the smoothed clock moves 1/32 of the way to now per Pop
	maxTSJump        = 30                     // seconds: a timestamp this far from where the sequence puts it restarts
	defaultMaxDelay  = 400 * time.Millisecond // target ceiling
)

// NewAdaptiveJitterBuffer returns a buffer for a stream with the given RTP
// clock rate and frame duration. slots (a power of two) bounds reordering
// and the largest delay, maxPayload a payload's size.
func NewAdaptiveJitterBuffer(clockRate int, frame time.Duration, slots, maxPayload int) *AdaptiveJitterBuffer {
	if slots < 4 || slots&(slots-1) != 0 || slots > 1<<15 {
		panic("media: adaptive jitter buffer slots must be a power of two from 4")
	}
	if clockRate <= 0 || frame <= 0 {
		panic("media: adaptive jitter buffer needs a clock rate and a frame duration")
	}
	b := &AdaptiveJitterBuffer{
		rate:     int64(clockRate),
		frame:    frame,
		frameTS:  int64(clockRate) * int64(frame) / int64(time.Second),
		minDelay: frame,
		maxDelay: min(defaultMaxDelay, time.Duration(slots/2)*frame),
		slots:    make([][]byte, slots),
		seqs:     make([]int64, slots),
		tss:      make([]int64, slots),
		marker:   make([]bool, slots),
		full:     make([]bool, slots),
		played:   make([]int64, slots),
		mask:     int64(slots - 1),
	}
	for i := range b.slots {
		b.slots[i] = make([]byte, 0, maxPayload)
	}
	b.target = b.minDelay
	return b
}

// tsDur converts a timestamp (extended) to time since ts0.
func (b *AdaptiveJitterBuffer) tsDur(ts int64) time.Duration {
	d := ts - b.ts0
	return time.Duration(d/b.rate)*time.Second + time.Duration(d%b.rate)*time.Second/time.Duration(b.rate)
}

// restart forgets the packets held and the timing base, keeping the
// target (the network did not change) and the counters.
func (b *AdaptiveJitterBuffer) restart(p *Packet) {
	if b.started {
		b.stats.Resets++
	}
	clear(b.full)
	for i := range b.played {
		b.played[i] = -1
	}
	b.count, b.playing, b.begun, b.dry, b.haveTrans = 0, false, false, 0, false
	b.started, b.ssrc = true, p.SSRC
	// Extended numbers start well above zero so they never go negative.
	b.hiSeq = 1<<32 + int64(p.Seq)
	b.next = b.hiSeq
	b.lastTS = 1<<40 + int64(p.Timestamp)
	b.ts0 = b.lastTS
	b.nextTS, b.playedTS = b.lastTS, b.lastTS-b.frameTS
	transit := p.Arrival
	for i := range b.blockMin {
		b.blockMin[i] = transit
	}
	b.blockN, b.blockI, b.base = 0, 0, transit
}

// Push implements JitterBuffer.
func (b *AdaptiveJitterBuffer) Push(p Packet) {
	if len(p.Payload) > cap(b.slots[0]) {
		b.stats.Discarded++
		return
	}
	if !b.started || p.SSRC != b.ssrc {
		b.restart(&p)
	}
	seq := b.hiSeq + int64(int16(p.Seq-uint16(b.hiSeq)))
	ts := b.lastTS + int64(int32(p.Timestamp-uint32(b.lastTS)))
	if seq-b.hiSeq >= int64(len(b.slots)) || b.tsJumped(seq, ts) {
		b.restart(&p) // the far end restarted, or we lost track
		seq, ts = b.hiSeq, b.lastTS
	}
	i := seq & b.mask
	if (b.full[i] && b.seqs[i] == seq) || b.played[i] == seq {
		b.stats.Duplicates++
		return
	}
	b.lastTS = ts
	b.measure(p.Arrival, ts)
	if seq < b.next && (b.begun || b.hiSeq-seq >= int64(len(b.slots))) {
		b.stats.Late++ // its turn has passed (or it is older than the window)
		return
	}
	if seq < b.next {
		b.next = seq // not started yet: start from the earliest
	}
	if b.full[i] { // a packet a whole window older: give it up
		b.full[i] = false
		b.count--
	}
	b.slots[i] = append(b.slots[i][:0], p.Payload...)
	b.seqs[i], b.tss[i], b.marker[i], b.full[i] = seq, ts, p.Marker, true
	b.count++
	if prev := (seq - 1) & b.mask; b.full[prev] && b.seqs[prev] == seq-1 {
		if d := ts - b.tss[prev]; d > 0 && d <= b.rate/4 {
			b.frameTS = d
		}
	}
	if seq > b.hiSeq {
		b.hiSeq = seq
	}
}

// tsJumped reports a timestamp far from where its sequence number puts it
// (a new source that kept the SSRC): more than maxTSJump seconds off.
func (b *AdaptiveJitterBuffer) tsJumped(seq, ts int64) bool {
	want := b.lastTS + (seq-b.hiSeq)*b.frameTS
	d := ts - want
	return d > maxTSJump*b.rate || d < -maxTSJump*b.rate
}

// measure updates base, jitter and target with one packet's transit.
func (b *AdaptiveJitterBuffer) measure(arrival time.Duration, ts int64) {
	transit := arrival - b.tsDur(ts)
	if b.haveTrans {
		d := transit - b.lastTrans
		if d < 0 {
			d = -d
		}
		b.jitter += (d - b.jitter) / 16
	}
	b.lastTrans, b.haveTrans = transit, true
	// base: the smallest transit over the last baseBlocks blocks.
	if b.blockN == baseBlockLen {
		b.blockI = (b.blockI + 1) % baseBlocks
		b.blockMin[b.blockI], b.blockN = transit, 0
	}
	b.blockN++
	b.blockMin[b.blockI] = min(b.blockMin[b.blockI], transit)
	b.base = b.blockMin[0]
	for _, m := range b.blockMin[1:] {
		b.base = min(b.base, m)
	}
	late := transit - b.base
	if late > b.maxDelay {
		// Later than the buffer would ever wait: not jitter but a step —
		// the far end resumed behind after it could not send, the route
		// changed, or this process stalled and read a burst. Re-base on
		// it: packets that come sooner lower the base again at once (the
		// rest of a burst), and a lasting step is the new base instead of
		// a backlog to cut and a target pinned at the ceiling.
		for i := range b.blockMin {
			b.blockMin[i] = transit
		}
		b.base, late = transit, 0
		b.stats.Rebased++
	}
	// The histogram forgets old packets; the target is the lateness that
	// all but 5 % of recent packets came within.
	for i := range b.lateHist {
		b.lateHist[i] *= lateForget
	}
	b.lateHist[min(int(late/lateBucket), lateBuckets-1)]++
	b.lateMass = b.lateMass*lateForget + 1
	var cover time.Duration
	for i, sum, want := 0, float32(0), b.lateMass*lateQuantile; i < lateBuckets; i++ {
		if sum += b.lateHist[i]; sum >= want {
			cover = time.Duration(i+1) * lateBucket
			break
		}
	}
	b.target = min(max(cover+b.frame/2, b.minDelay), b.maxDelay)
	if !b.haveTarget {
		b.adjTarget, b.haveTarget = b.target, true
	}
}

// tick advances the smoothed playout clock by one packet's duration (a
// Pop plays one packet; packets may be shorter than the stream's frame)
// and pulls it toward now.
func (b *AdaptiveJitterBuffer) tick(now time.Duration) time.Duration {
	if !b.clockSet {
		b.clock, b.clockSet = now, true
		return now
	}
	b.clock += time.Duration(b.frameTS) * time.Second / time.Duration(b.rate)
	off := now - b.clock
	if off > clockSlack*b.frame || off < -clockSlack*b.frame {
		b.clock = now // a pause, or a device that restarted
	} else {
		b.clock += off >> clockSmoothShift
	}
	return b.clock
}

// Pop implements JitterBuffer.
func (b *AdaptiveJitterBuffer) Pop(dst []byte, now time.Duration) (int, PopStatus) {
	t := b.tick(now)
	if !b.playing {
		if b.count == 0 || !b.startDue(t) {
			return 0, PopSilence
		}
		b.playing, b.begun, b.dry = true, true, 0
	}
	flushing := false
	for cut := false; ; cut = true {
		i := b.next & b.mask
		held := b.full[i] && b.seqs[i] == b.next
		ts := b.nextTS
		if held {
			ts = b.tss[i]
		}
		b.stats.Delay = t - (b.tsDur(ts) + b.base)
		if !held {
			return b.missing()
		}
		b.dry = 0
		gap := ts-b.playedTS > b.frameTS*3/2 // the far end paused (silence suppression, DTX)
		boundary := b.marker[i] || gap
		if !cut && b.stats.Delay < b.target-b.frame/2 {
			if gap {
				return 0, PopSilence // the pause's own length, as its timestamps say
			}
			b.adjusted(&b.stats.Stretched)
			if boundary {
				return 0, PopSilence // a longer pause between talk spurts
			}
			return 0, PopConceal
		}
		flushing = flushing || b.stats.Delay > b.target+flushOver*b.frame
		if flushing && b.stats.Delay > b.target+b.frame {
			// A backlog of stale audio (a far end that sent what it held
			// after an outage, a long stall here): dropped in one go, one
			// discontinuity, rather than played at double speed for
			// seconds.
			b.lastCut = t
			b.stats.Dropped++
			b.take(i)
			continue
		}
		if !cut && b.stats.Delay > b.target+b.frame && (boundary || t-b.lastCut >= b.cutInterval()) {
			b.lastCut = t
			b.adjusted(&b.stats.Dropped)
			b.take(i)
			continue // play the one after it, if held
		}
		b.take(i)
		return copy(dst, b.slots[i]), PopFrame
	}
}

// cutInterval is how often a frame may be dropped mid-speech: once a
// second when the delay is a little over target (drift, a target
// decaying), every other frame when it is far over (after a stall that
// left a backlog).
func (b *AdaptiveJitterBuffer) cutInterval() time.Duration {
	if b.stats.Delay > b.target+farOver*b.frame {
		return 2 * b.frame
	}
	return cutEvery
}

// startDue reports whether the earliest packet held has waited its
// target delay: the start of a talk spurt, timed by its timestamp.
func (b *AdaptiveJitterBuffer) startDue(t time.Duration) bool {
	if oldest := b.hiSeq - b.mask; b.next < oldest {
		b.stats.Lost += uint64(oldest - b.next) // overwritten while paused
		b.next = oldest
	}
	for s := b.next; s <= b.hiSeq; s++ {
		if i := s & b.mask; b.full[i] && b.seqs[i] == s {
			b.stats.Lost += uint64(s - b.next) // given up on during the pause
			b.next = s
			b.stats.Delay = t - (b.tsDur(b.tss[i]) + b.base)
			return b.stats.Delay >= b.target-b.frame/2
		}
	}
	return false
}

// missing handles a frame whose packet is not held: lost if later ones
// are (it is given up), else nothing has come yet (conceal and wait, and
// after maxDryFrames pause until the next talk spurt).
func (b *AdaptiveJitterBuffer) missing() (int, PopStatus) {
	if b.count > 0 {
		b.stats.Lost++
		b.playedTS = b.nextTS
		b.nextTS += b.frameTS
		b.next++
		return 0, PopLost
	}
	b.stats.Underruns++
	if b.dry++; b.dry > maxDryFrames {
		b.playing = false
		return 0, PopSilence
	}
	return 0, PopConceal
}

// take consumes slot i (the next packet).
func (b *AdaptiveJitterBuffer) take(i int64) {
	b.full[i] = false
	b.count--
	b.played[i] = b.next
	b.playedTS = b.tss[i]
	b.nextTS = b.tss[i] + b.frameTS
	b.next++
}

// adjusted counts one drop or stretch; it is a drift correction when the
// target has not moved since the last one.
func (b *AdaptiveJitterBuffer) adjusted(c *uint64) {
	*c++
	if d := b.target - b.adjTarget; d < b.frame/4 && d > -b.frame/4 {
		b.stats.DriftCorrections++
	}
	b.adjTarget = b.target
}

// PeekNext implements JitterBuffer.
func (b *AdaptiveJitterBuffer) PeekNext(dst []byte) (int, bool) {
	i := b.next & b.mask
	if !b.full[i] || b.seqs[i] != b.next {
		return 0, false
	}
	return copy(dst, b.slots[i]), true
}

// JitterStats implements JitterStatser.
func (b *AdaptiveJitterBuffer) JitterStats() JitterStats {
	st := b.stats
	st.Target, st.Jitter = b.target, b.jitter
	return st
}

// Delay is the target delay (the latency report reads it).
func (b *AdaptiveJitterBuffer) Delay() time.Duration { return b.target }
