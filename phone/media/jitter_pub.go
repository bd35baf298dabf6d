package media

import (
	"sync/atomic"
	"time"
)

// jitterPub holds the jitter buffer's figures as the playout loop last
// saw them, in atomics, so that their readers — the RTCP report, the
// delay stamps, /v1/state and the display through the phone — never take
// the lock the receiver and the playout loop share for the buffer itself.
// The playout loop stores them once per frame, under that lock.
type jitterPub struct {
	delay, target, jitter                                                atomic.Int64
	late, lost, duplicates, dropped, stretched, underruns, drift, resets atomic.Uint64
	discarded                                                            atomic.Uint64
}

// publishJitterLocked publishes the buffer's figures; s.jbMu must be held.
func (s *Stream) publishJitterLocked() {
	p := &s.jbPub
	switch jb := s.jb.(type) {
	case JitterStatser:
		st := jb.JitterStats()
		p.delay.Store(int64(st.Delay))
		p.target.Store(int64(st.Target))
		p.jitter.Store(int64(st.Jitter))
		p.late.Store(st.Late)
		p.lost.Store(st.Lost)
		p.duplicates.Store(st.Duplicates)
		p.dropped.Store(st.Dropped)
		p.stretched.Store(st.Stretched)
		p.underruns.Store(st.Underruns)
		p.drift.Store(st.DriftCorrections)
		p.resets.Store(st.Resets)
		p.discarded.Store(st.Discarded)
	case *FixedJitterBuffer:
		d := int64(time.Duration(jb.depth) * s.ptime)
		p.delay.Store(d)
		p.target.Store(d)
		p.discarded.Store(jb.Dropped())
	}
}

// load is the last published figures.
func (p *jitterPub) load() JitterStats {
	return JitterStats{
		Delay: time.Duration(p.delay.Load()), Target: time.Duration(p.target.Load()), Jitter: time.Duration(p.jitter.Load()),
		Late: p.late.Load(), Lost: p.lost.Load(), Duplicates: p.duplicates.Load(), Dropped: p.dropped.Load(),
		Stretched: p.stretched.Load(), Underruns: p.underruns.Load(), DriftCorrections: p.drift.Load(),
		Resets: p.resets.Load(), Discarded: p.discarded.Load(),
	}
}
