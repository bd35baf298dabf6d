package media

import "time"

// rxStats is what RFC 3550's reception report says about the far end's
// stream: sequence-number loss (A.3) and interarrival jitter (A.8). The
// receiver goroutine updates it once per packet without allocating; the
// RTCP goroutine reads it under the same lock (rtcpState.mu).
type rxStats struct {
	started  bool
	ssrc     uint32
	base     uint32 // extended sequence number of the first packet
	maxExt   uint32 // extended highest sequence number
	received uint32
	// A.3's "prior" values, taken at each report: the interval's loss.
	expectedPrior, receivedPrior uint32
	// A.8: jitter in RTP units scaled by 16, and the previous transit time.
	jitter      uint32
	transit     uint32
	haveTransit bool
}

// push counts one packet; audio packets also update the jitter (a
// telephone-event's timestamp is its start, not its sending time). arrival
// is the arrival time in RTP clock units.
func (r *rxStats) push(ssrc uint32, seq uint16, ts, arrival uint32, audio bool) {
	if !r.started || ssrc != r.ssrc {
		// A new source starts afresh: its loss and jitter count from here.
		*r = rxStats{started: true, ssrc: ssrc, base: uint32(seq), maxExt: uint32(seq)}
	} else {
		ext := uint32(int64(r.maxExt) + int64(seqDiff(seq, uint16(r.maxExt))))
		if int32(ext-r.maxExt) > 0 {
			r.maxExt = ext
		}
	}
	r.received++
	if !audio {
		return
	}
	transit := arrival - ts
	if r.haveTransit {
		d := int32(transit - r.transit)
		if d < 0 {
			d = -d
		}
		// J += (|D| − J)/16, kept scaled by 16 in integers as A.8 does.
		r.jitter += uint32(d) - ((r.jitter + 8) >> 4)
	}
	r.transit, r.haveTransit = transit, true
}

// expected is how many packets the sequence numbers say were sent.
func (r *rxStats) expected() uint32 { return r.maxExt - r.base + 1 }

// cumulativeLost is A.3's cumulative number of packets lost (negative with
// duplicates).
func (r *rxStats) cumulativeLost() int64 {
	return int64(r.expected()) - int64(r.received)
}

// interval takes A.3's loss since the previous call: the fraction lost
// (0–255, as the report carries it) and how many packets were expected.
func (r *rxStats) interval() (fraction uint8, expected uint32) {
	exp := r.expected()
	expInt := exp - r.expectedPrior
	recvInt := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = exp, r.received
	if expInt == 0 || int32(expInt-recvInt) <= 0 {
		return 0, expInt
	}
	return uint8(min((expInt-recvInt)<<8/expInt, 255)), expInt
}

// jitterUnits is the interarrival jitter in RTP clock units.
func (r *rxStats) jitterUnits() uint32 { return r.jitter >> 4 }

// rtpClock turns monotonic time since a stream's start into RTP clock
// units for the jitter's arrival times; it allocates nothing.
type rtpClock struct {
	epoch time.Time
	rate  int64
}

func (c rtpClock) at(t time.Time) uint32 {
	return uint32(int64(t.Sub(c.epoch)) * c.rate / int64(time.Second))
}
