package media

import "time"

// Packet is one received audio packet as a jitter buffer sees it: the RTP
// fields that order and time it, and when it arrived.
type Packet struct {
	Seq       uint16
	Timestamp uint32
	SSRC      uint32
	Marker    bool          // RTP marker bit: the first packet of a talk spurt
	Arrival   time.Duration // when it was read, on the clock Pop's now uses
	Payload   []byte        // copied by Push
}

// PopStatus tells the playout loop what to play for one frame.
type PopStatus uint8

const (
	// PopSilence means nothing to play (not started yet, or paused between talk
	// spurts): play silence.
	PopSilence PopStatus = iota
	// PopFrame means dst holds the next packet's payload; decode it.
	PopFrame
	// PopLost means the next packet is lost (given up on): conceal one frame.
	// The packet after it may already be held (PeekNext), for FEC.
	PopLost
	// PopConceal means nothing is due yet (a packet is late, or the buffer is
	// adding delay): conceal one frame; the buffer keeps its place, so the
	// late packet still plays when it comes.
	PopConceal
)

// String names the status for logs and test failures.
func (s PopStatus) String() string {
	switch s {
	case PopSilence:
		return "silence"
	case PopFrame:
		return "frame"
	case PopLost:
		return "lost"
	case PopConceal:
		return "conceal"
	}
	return "unknown"
}

// JitterStats is a jitter buffer's state and counters. Delay, Target and
// Jitter are zero for buffers that do not measure them (the fixed one).
type JitterStats struct {
	Delay            time.Duration // playout delay of the last frame: its hold time past the earliest arrival seen
	Target           time.Duration // the delay the buffer aims for, from the measured jitter
	Jitter           time.Duration // interarrival jitter, RFC 3550 §6.4.1 estimate
	Late             uint64        // packets that came after their turn to play
	Lost             uint64        // frames given up on at their turn (lost, or late)
	Duplicates       uint64        // packets received twice
	Dropped          uint64        // frames dropped to cut the delay
	Stretched        uint64        // frames concealed (or silences inserted) to add delay
	Underruns        uint64        // frames concealed because nothing had arrived
	DriftCorrections uint64        // drops and stretches while the target held steady: clock drift
	Resets           uint64        // restarts: new SSRC, or a jump in sequence or timestamp
	Rebased          uint64        // steps in the path's delay taken as the new base (adaptive: a packet later than the ceiling)
	Discarded        uint64        // payloads too large to hold
	Concealed        uint64        // frames the playout loop concealed (filled in by the stream)
}

// JitterStatser is a jitter buffer that reports its JitterStats.
type JitterStatser interface{ JitterStats() JitterStats }
