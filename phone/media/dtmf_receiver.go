package media

// DTMFReceiver turns received telephone-event packets into digits, each
// reported exactly once.
//
// Policy: a digit is reported on the first packet seen for its event, i.e.
// the first packet carrying a new RTP timestamp (RFC 4733 keeps one
// timestamp for the whole event). Normally that is the marker packet at the
// tone's start, which gives the lowest latency; if the start packets were
// lost, the first continuation or end packet reports it instead. Later
// packets of the same event — continuations and the three end
// retransmissions — carry the same timestamp and are ignored, including
// ones that arrive late after the next event has begun (the last few event
// timestamps are remembered).
//
// Not handled yet: RFC 4733 §2.5.1.3 long events split into segments (each
// segment would count as a new press) and redundant events in one packet.
// The zero value is ready to use; it is not safe for concurrent use.
type DTMFReceiver struct {
	seen [4]uint32 // timestamps of recent events, newest at next-1
	n    int       // valid entries in seen
	next int
}

// Push feeds one telephone-event packet (its RTP timestamp and payload) and
// returns the digit if this packet starts a new event.
func (r *DTMFReceiver) Push(timestamp uint32, payload []byte) (digit rune, ok bool, err error) {
	var ev DTMFEvent
	if err := ev.Unmarshal(payload); err != nil {
		return 0, false, err
	}
	for i := range r.n {
		if r.seen[i] == timestamp {
			return 0, false, nil
		}
	}
	r.seen[r.next] = timestamp
	r.next = (r.next + 1) % len(r.seen)
	r.n = min(r.n+1, len(r.seen))
	d, isDigit := EventToDigit(ev.Event)
	return d, isDigit, nil
}
