package media

import (
	"net"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistBucketsCoverEveryValue(t *testing.T) {
	prevUpper := uint64(0)
	for i := range histBuckets - 1 {
		up := histUpper(i)
		if i > 0 && up <= prevUpper {
			t.Fatalf("bucket %d's upper bound %d is not above bucket %d's (%d)", i, up, i-1, prevUpper)
		}
		lo := uint64(0)
		if i > 0 {
			lo = prevUpper + 1
		}
		for _, v := range []uint64{lo, up} {
			if got := histIndex(v); got != i {
				t.Fatalf("value %d µs goes to bucket %d, want %d (bounds %d..%d)", v, got, i, lo, up)
			}
		}
		if lo >= histLinear && float64(up-lo+1) > float64(lo)/histSub {
			t.Errorf("bucket %d (%d..%d µs) is wider than 1/%d of its values", i, lo, up, histSub)
		}
		prevUpper = up
	}
	if got := histIndex(1 << 40); got != histBuckets-1 {
		t.Errorf("2^40 µs goes to bucket %d, want the last (%d)", got, histBuckets-1)
	}
}

func TestLatencySummary(t *testing.T) {
	var h latencyHist
	for us := int64(1); us <= 1000; us++ {
		h.record(us * 1000)
	}
	h.record(-5) // a stamp never set: ignored
	s := h.summary()
	if s.Count != 1000 || s.Max != time.Millisecond || s.Mean != 500500*time.Nanosecond {
		t.Errorf("count %d max %v mean %v, want 1000, 1ms, 500.5µs", s.Count, s.Max, s.Mean)
	}
	for _, c := range []struct {
		name string
		got  time.Duration
		want float64 // µs
	}{{"p50", s.P50, 500}, {"p90", s.P90, 900}, {"p99", s.P99, 990}} {
		us := float64(c.got) / float64(time.Microsecond)
		if us < c.want || us > c.want*(1+1.0/histSub) {
			t.Errorf("%s = %v, want %v µs within +1/%d", c.name, c.got, c.want, histSub)
		}
	}
	var empty latencyHist
	if s := empty.summary(); s != (LatencySummary{}) {
		t.Errorf("an empty histogram summarises as %+v, want zeros", s)
	}
}

// quietSource and quietSink are sound devices paced by a ticker that
// allocate nothing, so a runtime/metrics delta counts only the stream.
type quietSource struct {
	tick *time.Ticker
	done chan struct{}
	n    atomic.Int64
}

func (s *quietSource) Read(frame []int16) error {
	select {
	case <-s.done:
		return errClosedDevice
	case <-s.tick.C:
	}
	for i := range frame {
		frame[i] = int16(i * 50)
	}
	s.n.Add(1)
	return nil
}

type quietSink struct {
	tick  *time.Ticker
	done  chan struct{}
	n     atomic.Int64
	heard atomic.Int64 // frames with a non-zero sample
}

func (s *quietSink) Write(frame []int16) error {
	select {
	case <-s.done:
		return errClosedDevice
	case <-s.tick.C:
	}
	s.n.Add(1)
	for _, v := range frame {
		if v != 0 {
			s.heard.Add(1)
			break
		}
	}
	return nil
}

// quietCall is two started streams talking over loopback UDP with quiet
// devices; it returns a's sink and the two streams.
func quietCall(t *testing.T) (sinks [2]*quietSink, streams [2]*Stream) {
	t.Helper()
	conns := [2]*net.UDPConn{udpConn(t), udpConn(t)}
	done := make(chan struct{})
	for i := range 2 {
		src := &quietSource{tick: time.NewTicker(20 * time.Millisecond), done: done}
		sinks[i] = &quietSink{tick: time.NewTicker(20 * time.Millisecond), done: done}
		s, err := NewStream(StreamConfig{
			Conn: conns[i], Remote: conns[1-i].LocalAddr().(*net.UDPAddr),
			Codec: NewPCMU(), PayloadType: 0, DTMFPayloadType: 101,
			Source: src, Sink: sinks[i],
		})
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = s
		t.Cleanup(func() { src.tick.Stop(); sinks[i].tick.Stop() })
	}
	t.Cleanup(func() {
		close(done)
		for _, s := range streams {
			s.Close()
		}
	})
	for _, s := range streams {
		s.Start()
	}
	return sinks, streams
}

func TestFixedJitterBufferHold(t *testing.T) {
	conn, peer := udpConn(t), udpConn(t)
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(),
		JitterBuffer: NewFixedJitterBuffer(3, 32, 1500)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); peer.Close() })
	if l := s.Latency(); l.JitterBuffer != 60*time.Millisecond || l.JitterTarget != 60*time.Millisecond {
		t.Errorf("a fixed buffer of 3 frames of 20 ms holds %v (target %v), want 60ms", l.JitterBuffer, l.JitterTarget)
	}
}

func TestStreamMeasuresLatency(t *testing.T) {
	sinks, streams := quietCall(t)
	waitFor(t, "audio played at both ends", func() bool { return sinks[0].heard.Load() > 10 && sinks[1].heard.Load() > 10 })
	for i, s := range streams {
		l := s.Latency()
		for _, st := range []struct {
			name string
			sum  LatencySummary
		}{{"capture→wire", l.CaptureToWire}, {"arrival→buffer", l.ArrivalToBuffer}, {"buffer→playout", l.BufferToPlayout}} {
			if st.sum.Count == 0 {
				t.Errorf("stream %d: %s measured nothing: %+v", i, st.name, l)
			}
			if st.sum.P50 > st.sum.P90 || st.sum.P90 > st.sum.P99 || st.sum.P99 > st.sum.Max {
				t.Errorf("stream %d: %s percentiles out of order: %+v", i, st.name, st.sum)
			}
		}
		if l.JitterTarget < 20*time.Millisecond || l.JitterTarget > defaultMaxDelay || l.Ptime != 20*time.Millisecond {
			t.Errorf("stream %d: jitter buffer target %v ptime %v, want the adaptive buffer's (20ms-%v) and 20ms", i, l.JitterTarget, l.Ptime, defaultMaxDelay)
		}
	}
	if n := len(LiveLatency()); n < 2 {
		t.Errorf("LiveLatency lists %d streams while two run", n)
	}
	streams[0].Close()
	live.Lock()
	_, still := live.m[streams[0]]
	live.Unlock()
	if still {
		t.Error("a closed stream is still listed by LiveLatency")
	}
}

// heapObjects is the count of heap objects allocated so far by the process.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestStreamAllocationsPerFrame runs a whole call — both ends sending,
// receiving and playing over real loopback sockets — and counts every heap
// allocation the process makes over it with runtime/metrics, the way a
// real call is measured (tools/bench). The media loop's target is none per
// frame; the bound leaves room for the test runtime's own rare ones.
func TestStreamAllocationsPerFrame(t *testing.T) {
	sinks, _ := quietCall(t)
	waitFor(t, "audio to flow both ways", func() bool { return sinks[0].heard.Load() > 5 && sinks[1].heard.Load() > 5 })
	runtime.GC()
	before, framesBefore := heapObjects(), sinks[0].n.Load()+sinks[1].n.Load()
	const frames = 200 // 100 per end: 2 s
	waitFor(t, "200 frames played", func() bool { return sinks[0].n.Load()+sinks[1].n.Load()-framesBefore >= frames })
	after, framesAfter := heapObjects(), sinks[0].n.Load()+sinks[1].n.Load()
	n := framesAfter - framesBefore
	perFrame := float64(after-before) / float64(n)
	t.Logf("%d heap objects over %d frames (both ends): %.3f per frame", after-before, n, perFrame)
	// waitFor itself allocates a little per poll (time.Now is free; the
	// closure is not re-made): 0.25 per frame is far below one per packet.
	if perFrame > 0.25 {
		t.Errorf("%.2f heap allocations per frame during a call (%d over %d frames); the media loop must allocate none", perFrame, after-before, n)
	}
}
