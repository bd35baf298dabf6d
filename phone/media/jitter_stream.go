package media

import "time"

// Adaptive jitter buffer defaults for streams: 64 slots hold 1.28 s of
// 20 ms packets (reordering, and room for the largest target delay).
const defaultAdaptiveSlots = 64

// jitterNow is the clock of Packet.Arrival and Pop's now: monotonic.
func jitterNow() time.Duration { return time.Duration(nanotime()) }

// JitterStats returns the jitter buffer's delay and counters as of the
// last frame played, with the frames the playout loop concealed. It takes
// no lock of the media path (jitter_pub.go). A buffer that does not report
// (a custom one) gives only Concealed.
func (s *Stream) JitterStats() JitterStats {
	st := s.jbPub.load()
	st.Concealed = s.concealed.Load()
	return st
}
