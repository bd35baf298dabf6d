package media

// lossCounter counts packets lost by sequence number, as RFC 3550 A.3 does
// for receiver reports: expected (from the extended highest sequence
// number) minus received. Duplicates make the count dip, as in RTCP. A new
// SSRC starts a new count; losses already counted are kept.
type lossCounter struct {
	started  bool
	ssrc     uint32
	base     uint32 // extended sequence number of the first packet
	max      uint32 // extended highest sequence number
	received uint32
	prevLost int64 // from earlier SSRCs
}

func (l *lossCounter) push(ssrc uint32, seq uint16) {
	if !l.started || ssrc != l.ssrc {
		if l.started {
			l.prevLost = l.lost()
		}
		l.started, l.ssrc = true, ssrc
		l.base, l.max, l.received = uint32(seq), uint32(seq), 1
		return
	}
	l.received++
	// Extend seq to 32 bits relative to the highest so far.
	ext := uint32(int64(l.max) + int64(seqDiff(seq, uint16(l.max))))
	if int32(ext-l.max) > 0 {
		l.max = ext
	}
}

func (l *lossCounter) lost() int64 {
	if !l.started {
		return l.prevLost
	}
	return l.prevLost + max(int64(l.max-l.base)+1-int64(l.received), 0)
}
