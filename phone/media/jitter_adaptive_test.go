package media

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// farEnd simulates a far end sending 20 ms G.711 packets through a network
// and the local sound card popping the buffer every 20 ms, on a fake clock:
// no real time passes.
type farEnd struct {
	t      *testing.T
	b      *AdaptiveJitterBuffer
	rng    *rand.Rand
	clock  float64       // far end's clock rate relative to ours (1.005 = 0.5 % fast)
	delay  time.Duration // fixed network delay
	jitter time.Duration // extra delay, uniform in [0, jitter)
	loss   float64       // probabilities per packet
	dup    float64
	spike  map[int]time.Duration // extra delay of packet k
	silent func(k int) bool      // packets the far end does not send (a pause)

	ssrc    uint32
	seq0    uint16
	ts0     uint32
	k       int // next packet to send (its frame number)
	sent    int // packets sent: sequence numbers do not skip over a pause
	now     time.Duration
	inNet   []arrival
	dst     []byte
	played  []int // packet numbers played, in order
	status  map[PopStatus]int
	delays  []time.Duration // JitterStats.Delay after each Pop that played
	targets []time.Duration
}

type arrival struct {
	at time.Duration
	p  Packet
}

func newFarEnd(t *testing.T, seed uint64) *farEnd {
	return &farEnd{
		t: t, b: NewAdaptiveJitterBuffer(8000, 20*time.Millisecond, 64, 1500),
		rng: rand.New(rand.NewPCG(seed, 1)), clock: 1, delay: 30 * time.Millisecond,
		ssrc: 0x1234, seq0: 1000, ts0: 5000, dst: make([]byte, 1500),
		spike: map[int]time.Duration{}, status: map[PopStatus]int{},
	}
}

// sendDue puts in the network every packet the far end sends by f.now.
func (f *farEnd) sendDue() {
	for {
		sendAt := time.Duration(float64(f.k) * float64(20*time.Millisecond) / f.clock)
		if sendAt > f.now {
			return
		}
		k := f.k
		f.k++
		if f.silent != nil && f.silent(k) {
			continue
		}
		f.sent++
		if f.rng.Float64() < f.loss {
			continue
		}
		payload := make([]byte, 160)
		binary.BigEndian.PutUint32(payload, uint32(k))
		p := Packet{
			Seq: f.seq0 + uint16(f.sent), Timestamp: f.ts0 + uint32(k)*160, SSRC: f.ssrc, Payload: payload,
			Marker: f.silent != nil && k > 0 && f.silent(k-1),
		}
		at := sendAt + f.delay + f.spike[k]
		if f.jitter > 0 {
			at += time.Duration(f.rng.Int64N(int64(f.jitter)))
		}
		f.inNet = append(f.inNet, arrival{at, p})
		if f.rng.Float64() < f.dup {
			f.inNet = append(f.inNet, arrival{at + time.Millisecond, p})
		}
	}
}

// run advances the fake clock by d, one 20 ms Pop at a time.
func (f *farEnd) run(d time.Duration) {
	end := f.now + d
	for f.now < end {
		f.now += 20 * time.Millisecond
		f.sendDue()
		slices.SortStableFunc(f.inNet, func(a, b arrival) int { return int(a.at - b.at) })
		n := 0
		for n < len(f.inNet) && f.inNet[n].at <= f.now {
			p := f.inNet[n].p
			p.Arrival = f.inNet[n].at
			f.b.Push(p)
			n++
		}
		f.inNet = f.inNet[n:]
		k, st := f.b.Pop(f.dst, f.now)
		f.status[st]++
		if st == PopFrame {
			if k != 160 {
				f.t.Fatalf("popped %d bytes, want 160", k)
			}
			f.played = append(f.played, int(binary.BigEndian.Uint32(f.dst)))
			js := f.b.JitterStats()
			f.delays = append(f.delays, js.Delay)
			f.targets = append(f.targets, js.Target)
		}
	}
}

// checkOrder fails unless packets played in increasing order, each once.
func (f *farEnd) checkOrder() {
	f.t.Helper()
	for i := 1; i < len(f.played); i++ {
		if f.played[i] <= f.played[i-1] {
			f.t.Fatalf("played packet %d after %d (at %d of %d)", f.played[i], f.played[i-1], i, len(f.played))
		}
	}
}

func maxDur(ds []time.Duration) time.Duration {
	m := time.Duration(0)
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func TestAdaptiveSteadyStream(t *testing.T) {
	f := newFarEnd(t, 1)
	f.seq0, f.ts0 = 65500, 0xFFFFF000 // both wrap within the first second
	f.run(10 * time.Second)
	f.checkOrder()
	st := f.b.JitterStats()
	if got := len(f.played); got < 495 {
		t.Errorf("played %d of 500 packets", got)
	}
	if st.Lost+st.Late+st.Underruns+st.Duplicates != 0 {
		t.Errorf("a clean stream gave %+v", st)
	}
	if st.Target != 20*time.Millisecond || maxDur(f.delays[50:]) > 40*time.Millisecond {
		t.Errorf("target %v, largest delay %v; want one frame and at most two", st.Target, maxDur(f.delays[50:]))
	}
}

func TestAdaptiveReordersAndDropsDuplicates(t *testing.T) {
	f := newFarEnd(t, 2)
	f.jitter = 50 * time.Millisecond // reorders often: packets are 20 ms apart
	f.dup = 0.05
	f.run(20 * time.Second)
	f.checkOrder()
	st := f.b.JitterStats()
	if st.Duplicates == 0 {
		t.Error("no duplicate counted")
	}
	// After the first second the target covers the jitter: (nearly) all play.
	if lost := 1000 - len(f.played); lost > 10 {
		t.Errorf("%d of 1000 packets not played (%+v)", lost, st)
	}
	if st.Target < 50*time.Millisecond || st.Target > 90*time.Millisecond {
		t.Errorf("target %v for 0-50 ms jitter; want 50-90 ms", st.Target)
	}
}

func TestAdaptiveDelayFollowsJitterUpAndDown(t *testing.T) {
	f := newFarEnd(t, 3)
	f.jitter = 5 * time.Millisecond
	f.run(10 * time.Second)
	calm := f.b.JitterStats().Target
	f.jitter = 80 * time.Millisecond
	f.run(2 * time.Second)
	up := f.b.JitterStats()
	f.run(8 * time.Second)
	lateBefore := up.Late + up.Lost
	st := f.b.JitterStats()
	if late := st.Late + st.Lost - lateBefore; late > 5 {
		t.Errorf("%d packets late or lost after the target adapted to 80 ms jitter", late)
	}
	f.jitter = 5 * time.Millisecond
	f.run(30 * time.Second)
	down := f.b.JitterStats()
	f.checkOrder()
	t.Logf("target: calm %v, 2 s into 80 ms jitter %v (delay %v), 30 s calm again %v (delay %v); %+v",
		calm, up.Target, up.Delay, down.Target, down.Delay, down)
	if up.Target < calm+50*time.Millisecond {
		t.Errorf("target rose only from %v to %v within 2 s of 80 ms jitter", calm, up.Target)
	}
	if down.Target > calm+10*time.Millisecond || down.Delay > down.Target+20*time.Millisecond {
		t.Errorf("30 s after the jitter stopped: target %v (calm %v), delay %v", down.Target, calm, down.Delay)
	}
}

// Packets start coming late (one in eight, by 120 ms): within 3 s the
// target covers them; a single late packet alone does not move it.
func TestAdaptiveLatePacketsGrowTarget(t *testing.T) {
	f := newFarEnd(t, 4)
	f.spike[100] = 150 * time.Millisecond
	f.run(4 * time.Second)
	if st := f.b.JitterStats(); st.Target > 30*time.Millisecond || st.Underruns+st.Late == 0 {
		t.Errorf("one packet 150 ms late: %+v; want it counted and the target left near 20 ms", st)
	}
	for k := 200; k < 1000; k += 8 {
		f.spike[k] = 120 * time.Millisecond
	}
	f.run(3 * time.Second)
	st := f.b.JitterStats()
	if st.Target < 120*time.Millisecond {
		t.Errorf("target %v after 3 s of one packet in eight 120 ms late; want ≥ 120 ms", st.Target)
	}
	f.checkOrder()
}

// A 400 ms stall (20 packets held, then all at once, as a starved
// receiver or a far end's hiccup gives): the delay the stall left is
// cut back quickly, and the target decays after it.
func TestAdaptiveRecoversFromStall(t *testing.T) {
	f := newFarEnd(t, 10)
	for k := 100; k < 120; k++ {
		f.spike[k] = time.Duration(120-k) * 20 * time.Millisecond
	}
	f.run(4 * time.Second)
	mid := f.b.JitterStats()
	f.run(10 * time.Second)
	st := f.b.JitterStats()
	t.Logf("2 s after the stall %+v; 12 s after %+v", mid, st)
	if mid.Delay > mid.Target+3*20*time.Millisecond {
		t.Errorf("2 s after a stall the delay is %v, target %v: the backlog was not cut", mid.Delay, mid.Target)
	}
	if st.Target > 40*time.Millisecond || st.Delay > st.Target+40*time.Millisecond {
		t.Errorf("12 s after a stall: target %v, delay %v", st.Target, st.Delay)
	}
	f.checkOrder()
}

func TestAdaptiveLossIsReportedLost(t *testing.T) {
	f := newFarEnd(t, 5)
	f.loss = 0.05
	f.run(20 * time.Second)
	f.checkOrder()
	st := f.b.JitterStats()
	missing := 1000 - len(f.played)
	if st.Lost < uint64(missing)/2 || f.status[PopLost] == 0 {
		t.Errorf("%d packets not played, Lost %d, PopLost %d times", missing, st.Lost, f.status[PopLost])
	}
}

// A far end whose clock runs 0.5 % fast or slow for ten minutes: the delay
// stays near its target instead of growing (3 s over the call) or running
// dry.
func TestAdaptiveClockDrift(t *testing.T) {
	for _, clock := range []float64{1.005, 0.995} {
		f := newFarEnd(t, 6)
		f.clock = clock
		f.jitter = 10 * time.Millisecond
		f.run(10 * time.Minute)
		f.checkOrder()
		st := f.b.JitterStats()
		lastMinute := f.delays[len(f.delays)-3000:]
		firstMinute := f.delays[500:3000]
		t.Logf("clock ×%.3f: delay max %v in minute 1, %v in minute 10; target %v; %+v",
			clock, maxDur(firstMinute), maxDur(lastMinute), st.Target, st)
		if maxDur(lastMinute) > st.Target+40*time.Millisecond {
			t.Errorf("clock ×%.3f: delay reached %v in the last minute (target %v)", clock, maxDur(lastMinute), st.Target)
		}
		// 0.5 % of 10 min is 3 s: 150 frames to drop or add.
		if st.DriftCorrections < 100 {
			t.Errorf("clock ×%.3f: %d drift corrections, want about 150", clock, st.DriftCorrections)
		}
		if st.Underruns+st.Lost > 50 {
			t.Errorf("clock ×%.3f: %d underruns, %d lost", clock, st.Underruns, st.Lost)
		}
	}
}

func TestAdaptiveSSRCChangeRestarts(t *testing.T) {
	f := newFarEnd(t, 7)
	f.run(2 * time.Second)
	played := len(f.played)
	// A new source (after a transfer): new SSRC, sequence and timestamps.
	f.ssrc, f.seq0, f.ts0 = 0xBEEF, 40000-uint16(f.sent), 123456789-uint32(f.k)*160
	f.run(2 * time.Second)
	st := f.b.JitterStats()
	if st.Resets != 1 || len(f.played)-played < 95 {
		t.Errorf("after an SSRC change: %d resets, %d of 100 packets played", st.Resets, len(f.played)-played)
	}
	f.checkOrder()
}

func TestAdaptiveSequenceJumpRestarts(t *testing.T) {
	f := newFarEnd(t, 8)
	f.run(2 * time.Second)
	played := len(f.played)
	f.seq0 += 10000 // same SSRC, far-off sequence numbers
	f.run(2 * time.Second)
	if st := f.b.JitterStats(); st.Resets != 1 || len(f.played)-played < 95 {
		t.Errorf("after a sequence jump: %d resets, %d of 100 played", st.Resets, len(f.played)-played)
	}
}

// Silence suppression: the far end stops for a second and starts a new
// talk spurt with the marker bit; the buffer pauses and starts again on
// time, with nothing counted lost.
func TestAdaptiveTalkSpurts(t *testing.T) {
	f := newFarEnd(t, 9)
	f.jitter = 10 * time.Millisecond
	f.silent = func(k int) bool { return k%150 >= 100 } // 2 s talk, 1 s silence
	f.run(30 * time.Second)
	f.checkOrder()
	st := f.b.JitterStats()
	t.Logf("talk spurts: %v, %+v", f.status, st)
	if st.Lost+st.Late != 0 || len(f.played) < 990 || maxDur(f.delays[50:]) > st.Target+40*time.Millisecond {
		t.Errorf("talk spurts: played %d of 1000, %+v", len(f.played), st)
	}
	if quiet := f.status[PopSilence] + f.status[PopConceal]; quiet < 495 {
		t.Errorf("only %d silent or concealed frames over 10 s of pauses", quiet)
	}
}

// A pause of two frames inside speech (DTX, sequence numbers contiguous):
// the buffer bridges it at its length (two frames to conceal: Opus's PLC
// makes comfort noise of them) and counts no delay change or loss.
func TestAdaptiveShortPauseKeepsItsLength(t *testing.T) {
	f := newFarEnd(t, 11)
	f.silent = func(k int) bool { return k%50 == 30 || k%50 == 31 }
	f.run(10 * time.Second)
	f.checkOrder()
	st := f.b.JitterStats()
	t.Logf("%v %+v", f.status, st)
	if quiet := f.status[PopSilence] + f.status[PopConceal]; quiet < 19 || quiet > 22 || st.Stretched+st.Dropped+st.Lost != 0 {
		t.Errorf("10 pauses of 2 frames: %d silent or concealed frames, %+v", quiet, st)
	}
}

func TestAdaptiveOversizedPayload(t *testing.T) {
	b := NewAdaptiveJitterBuffer(8000, 20*time.Millisecond, 16, 4)
	b.Push(Packet{Seq: 1, Payload: make([]byte, 5)})
	if _, st := b.Pop(make([]byte, 8), time.Second); st == PopFrame || b.JitterStats().Discarded != 1 {
		t.Error("an oversized payload was kept")
	}
}

func TestAdaptivePeekNextForFEC(t *testing.T) {
	b := NewAdaptiveJitterBuffer(8000, 20*time.Millisecond, 16, 64)
	dst := make([]byte, 64)
	for _, s := range []uint16{10, 11, 13, 14} {
		b.Push(Packet{Seq: s, Timestamp: uint32(s) * 160, Payload: []byte{byte(s)}, Arrival: time.Duration(s-10) * 20 * time.Millisecond})
	}
	var got []string
	for i := range 4 {
		n, st := b.Pop(dst, time.Duration(i+1)*20*time.Millisecond)
		s := st.String()
		if st == PopFrame && n == 1 {
			s = string(rune('0' + dst[0] - 10))
		}
		if st == PopLost {
			if k, ok := b.PeekNext(dst); !ok || k != 1 || dst[0] != 13 {
				t.Errorf("after losing 12, PeekNext = %d %v %d; want packet 13", k, ok, dst[0])
			}
		}
		got = append(got, s)
	}
	if want := []string{"0", "1", "lost", "3"}; !slices.Equal(got, want) {
		t.Errorf("popped %v, want %v", got, want)
	}
}

func BenchmarkJitterPushPop(b *testing.B) {
	jb := NewAdaptiveJitterBuffer(8000, 20*time.Millisecond, 64, 1500)
	payload, dst := make([]byte, 160), make([]byte, 1500)
	seq := uint16(0)
	now := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		jitter := time.Duration(seq%7) * 3 * time.Millisecond
		jb.Push(Packet{Seq: seq, Timestamp: uint32(seq) * 160, Arrival: now + jitter, Payload: payload})
		jb.Pop(dst, now+40*time.Millisecond)
		seq++
		now += 20 * time.Millisecond
	}
}

// The path's delay steps up for good (the far end could not send for a
// while and resumed with its packets 1.1 s behind, or the route changed):
// no packet comes for 1.1 s, then every one comes 1.1 s later than
// before. That is no backlog to cut: the buffer re-bases on the new delay
// and plays the stream on, rather than dropping frames it does not hold
// (found by firmware's TestLinkDown: baresip after a 5 s cut).
func TestAdaptiveTransitStep(t *testing.T) {
	f := newFarEnd(t, 12)
	f.run(3 * time.Second)
	f.delay += 1100 * time.Millisecond
	stepAt := f.k // the first packet sent with the new delay
	f.run(1500 * time.Millisecond)
	before := f.b.JitterStats()
	n0 := len(f.played)
	f.run(4 * time.Second)
	st := f.b.JitterStats()
	var after []int
	for _, k := range f.played[n0:] {
		if k >= stepAt {
			after = append(after, k)
		}
	}
	// 4 s of Pops at 20 ms: about 200 frames; the stream is there to play.
	if len(after) < 180 {
		t.Errorf("after the step, %d of ~200 frames played (dropped %d → %d, concealed %d → %d): the buffer cut a backlog it did not hold",
			len(after), before.Dropped, st.Dropped, before.Concealed, st.Concealed)
	}
	if st.Target > 60*time.Millisecond || st.Delay > st.Target+40*time.Millisecond {
		t.Errorf("4 s after the step: target %v, delay %v; want both back near a frame or two", st.Target, st.Delay)
	}
	f.checkOrder()
}

// A stall longer than the ceiling (700 ms: 35 packets held, then all at
// once) is a step, not jitter: the backlog it left is cut, and the target
// is not pinned at 400 ms for the next 15 s (it was, before re-basing;
// a starved test process heard almost nothing after such a stall).
func TestAdaptiveLongStallLeavesTargetLow(t *testing.T) {
	f := newFarEnd(t, 13)
	for k := 100; k < 135; k++ {
		f.spike[k] = time.Duration(135-k) * 20 * time.Millisecond
	}
	f.run(5 * time.Second)
	st := f.b.JitterStats()
	if st.Rebased == 0 || st.Target > 40*time.Millisecond || st.Delay > st.Target+40*time.Millisecond {
		t.Errorf("3 s after a 700 ms stall: %+v; want it re-based, the target and delay back near a frame or two", st)
	}
	f.checkOrder()
}

// A far end that sends 1.1 s of held audio in one burst (baresip after a
// link came back): the stale backlog is dropped at once — one jump in the
// frames played — and the stream plays on at its target, instead of two
// frames in, one out, for seconds (which no listener hears as speech).
func TestAdaptiveBurstBacklogFlushed(t *testing.T) {
	f := newFarEnd(t, 14)
	for k := 100; k < 155; k++ {
		f.spike[k] = time.Duration(155-k) * 20 * time.Millisecond
	}
	f.run(155*20*time.Millisecond + f.delay + 100*time.Millisecond) // the burst has come and gone 100 ms ago
	st := f.b.JitterStats()
	if st.Delay > st.Target+2*20*time.Millisecond {
		t.Errorf("100 ms after a 1.1 s burst: %+v; want the backlog gone", st)
	}
	jumps := 0
	for i := 1; i < len(f.played); i++ {
		if f.played[i] > f.played[i-1]+1 {
			jumps++
		}
	}
	if jumps > 2 {
		t.Errorf("the frames played jump %d times: the backlog was cut piecemeal, want one cut", jumps)
	}
	f.run(2 * time.Second)
	if st := f.b.JitterStats(); st.Target > 40*time.Millisecond {
		t.Errorf("2 s later the target is %v; a burst is no jitter", st.Target)
	}
	f.checkOrder()
}
