package media

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// The phone's own delay on the audio path, measured in the pipeline with
// monotonic stamps (a few tens of ns each, no allocation):
//
//	send:    Source.Read returned    → the packet's WriteTo returned
//	receive: ReadFrom returned       → the payload is in the jitter buffer
//	playout: popped from the buffer  → Sink.Write of its samples returned
//
// The jitter buffer's own hold time comes between receive and playout and
// is reported apart (Latency.JitterBuffer, from its JitterStats): it is
// chosen for the network's jitter, not added work.
// playout includes waiting for room in the sound device, which clocks the
// loop; the device's own buffer after Write is not seen here.

// epoch anchors nanotime; time.Since reads the monotonic clock.
var epoch = time.Now()

// nanotime is monotonic nanoseconds since the package was loaded.
func nanotime() int64 { return int64(time.Since(epoch)) }

// Histogram geometry: values in µs; below histLinear one bucket per µs,
// above it histSub buckets per power of two (≤ 1/histSub relative error),
// up to 2^histMaxExp µs (about 18 minutes); longer ones land in the last.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	histLinear  = histSub
	histMaxExp  = 30
	histBuckets = histLinear + (histMaxExp-histSubBits)*histSub
)

// latencyHist is a lock-free histogram of durations: one goroutine
// records, any may read. Recording is a few atomic adds.
type latencyHist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64 // ns
	max    atomic.Int64 // ns
}

func histIndex(us uint64) int {
	if us < histLinear {
		return int(us)
	}
	msb := bits.Len64(us) - 1 // ≥ histSubBits
	if msb >= histMaxExp {
		return histBuckets - 1
	}
	shift := msb - histSubBits
	return histLinear + shift*histSub + int((us>>shift)&(histSub-1))
}

// histUpper is the largest µs value bucket i holds.
func histUpper(i int) uint64 {
	if i < histLinear {
		return uint64(i)
	}
	shift := (i - histLinear) / histSub
	m := uint64((i-histLinear)%histSub) | histSub
	return (m+1)<<shift - 1
}

// record adds one duration in ns; negative ones (a stamp never set) are
// ignored.
func (h *latencyHist) record(ns int64) {
	if ns < 0 {
		return
	}
	h.counts[histIndex(uint64(ns)/1000)].Add(1)
	h.n.Add(1)
	h.sum.Add(ns)
	if ns > h.max.Load() {
		h.max.Store(ns) // one writer: no lost update
	}
}

// since records the time from the stamp start (nanotime) to now.
func (h *latencyHist) since(start int64) {
	if start != 0 {
		h.record(nanotime() - start)
	}
}

// LatencySummary is one stage's delay distribution. Percentiles are bucket
// upper bounds: within 1 µs below 16 µs, within 1/16 above.
type LatencySummary struct {
	Count uint64        `json:"count"`
	Mean  time.Duration `json:"meanNs"`
	P50   time.Duration `json:"p50Ns"`
	P90   time.Duration `json:"p90Ns"`
	P99   time.Duration `json:"p99Ns"`
	Max   time.Duration `json:"maxNs"`
}

func (h *latencyHist) summary() LatencySummary {
	var c [histBuckets]uint64
	var total uint64
	for i := range h.counts {
		c[i] = h.counts[i].Load()
		total += c[i]
	}
	s := LatencySummary{Count: total, Max: time.Duration(h.max.Load())}
	if total == 0 {
		return s
	}
	if n := h.n.Load(); n > 0 {
		s.Mean = time.Duration(h.sum.Load() / int64(n))
	}
	pct := func(p float64) time.Duration {
		want := uint64(p*float64(total) + 0.5)
		want = max(want, 1)
		var acc uint64
		for i, k := range c {
			if acc += k; acc >= want {
				return min(time.Duration(histUpper(i))*time.Microsecond, s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P90, s.P99 = pct(0.50), pct(0.90), pct(0.99)
	return s
}

// streamLatency is a stream's three stages; each is recorded by one of its
// goroutines.
type streamLatency struct {
	send, receive, playout latencyHist
}

// Latency is a stream's delay so far (see the stage definitions above).
type Latency struct {
	// CaptureToWire: Source.Read returned → WriteTo returned (encode,
	// packetise, send).
	CaptureToWire LatencySummary `json:"captureToWire"`
	// ArrivalToBuffer: ReadFrom returned → in the jitter buffer.
	ArrivalToBuffer LatencySummary `json:"arrivalToBuffer"`
	// BufferToPlayout: popped → Sink.Write returned (decode, then wait for
	// room in the device: about one frame when the device clocks the loop).
	BufferToPlayout LatencySummary `json:"bufferToPlayout"`
	// JitterBuffer is the buffer's playout delay of the last frame and
	// JitterTarget the delay it aims for (JitterStats); the fixed buffer
	// reports its depth for both.
	JitterBuffer time.Duration `json:"jitterBufferNs"`
	JitterTarget time.Duration `json:"jitterTargetNs"`
	// Ptime is the stream's frame duration.
	Ptime time.Duration `json:"ptimeNs"`
}

// Latency returns the delay measured so far.
func (s *Stream) Latency() Latency {
	l := Latency{
		CaptureToWire:   s.lat.send.summary(),
		ArrivalToBuffer: s.lat.receive.summary(),
		BufferToPlayout: s.lat.playout.summary(),
		Ptime:           s.ptime,
	}
	l.JitterBuffer, l.JitterTarget = s.bufferHold()
	return l
}

// bufferHold is the jitter buffer's delay and target, as published by
// the playout loop (jitter_pub.go).
func (s *Stream) bufferHold() (delay, target time.Duration) {
	return time.Duration(s.jbPub.delay.Load()), time.Duration(s.jbPub.target.Load())
}

// live is the set of started, unclosed streams, for LiveLatency: a debug
// route reads the pipeline's delay without the phone handing streams out.
var live = struct {
	sync.Mutex
	m map[*Stream]struct{}
}{m: map[*Stream]struct{}{}}

func trackStream(s *Stream) {
	live.Lock()
	live.m[s] = struct{}{}
	live.Unlock()
}

func untrackStream(s *Stream) {
	live.Lock()
	delete(live.m, s)
	live.Unlock()
}

// LiveLatency returns the Latency of every running stream in this process
// (for a debug route and tools/bench), in no particular order.
func LiveLatency() []Latency {
	live.Lock()
	ss := make([]*Stream, 0, len(live.m))
	for s := range live.m {
		ss = append(ss, s)
	}
	live.Unlock()
	out := make([]Latency, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Latency())
	}
	return out
}
