package media

import (
	"fmt"
	"sync"
	"time"
)

// Timing of sent digits: a tone of dtmfTone, then dtmfPause before the next
// digit. The end packet is sent three times (RFC 4733 §2.5.1.4), in the
// first frames of the pause.
const (
	dtmfTone       = 100 * time.Millisecond
	dtmfPause      = 60 * time.Millisecond
	dtmfEndRepeats = 3
	dtmfVolume     = 10 // -10 dBm0
	dtmfQueueSize  = 64
)

// dtmfSender queues digits (any goroutine) and turns them, frame by frame,
// into telephone-event payloads (the sender goroutine only).
type dtmfSender struct {
	mu    sync.Mutex
	queue [dtmfQueueSize]uint8
	head  int
	n     int

	// Owned by the sender goroutine.
	tsPerFrame  uint32
	toneFrames  int
	pauseFrames int
	active      bool
	event       uint8
	eventTS     uint32
	frame       int // frames of the current event sent so far
	wait        int // audio frames still to send before the next digit
}

func newDTMFSender(ptime time.Duration, tsPerFrame uint32) *dtmfSender {
	frames := func(d time.Duration) int { return int((d + ptime - 1) / ptime) }
	return &dtmfSender{tsPerFrame: tsPerFrame, toneFrames: max(frames(dtmfTone), 1), pauseFrames: frames(dtmfPause)}
}

// enqueue queues all digits or none.
func (d *dtmfSender) enqueue(digits string) error {
	if err := ValidateDigits(digits); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n+len(digits) > len(d.queue) {
		return fmt.Errorf("%w: %d digits are waiting and %d more do not fit (at most %d); send them when the queue drains",
			ErrDTMFQueueFull, d.n, len(digits), len(d.queue))
	}
	for _, r := range digits {
		ev, _ := DigitToEvent(r)
		d.queue[(d.head+d.n)%len(d.queue)] = ev
		d.n++
	}
	return nil
}

func (d *dtmfSender) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

func (d *dtmfSender) pop() (uint8, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return 0, false
	}
	ev := d.queue[d.head]
	d.head = (d.head + 1) % len(d.queue)
	d.n--
	return ev, true
}

// dtmfFrame is what the sender puts in one frame's packet.
type dtmfFrame struct {
	send      bool   // false: send audio this frame
	timestamp uint32 // the event's timestamp (its start)
	marker    bool   // first packet of the event
	started   bool   // a new digit began with this frame
	ev        DTMFEvent
}

// next decides the frame whose audio timestamp is ts.
func (d *dtmfSender) next(ts uint32) dtmfFrame {
	var f dtmfFrame
	if !d.active {
		if d.wait > 0 {
			d.wait--
			return f
		}
		ev, ok := d.pop()
		if !ok {
			return f
		}
		d.active, d.event, d.eventTS, d.frame = true, ev, ts, 0
		f.started = true
	}
	d.frame++
	f.send, f.timestamp, f.marker = true, d.eventTS, d.frame == 1
	f.ev = DTMFEvent{Event: d.event, Volume: dtmfVolume}
	tone := min(d.frame, d.toneFrames)
	f.ev.Duration = uint16(min(uint32(tone)*d.tsPerFrame, 0xFFFF))
	f.ev.End = d.frame >= d.toneFrames
	if d.frame == d.toneFrames+dtmfEndRepeats-1 {
		d.active = false
		d.wait = max(d.pauseFrames-(dtmfEndRepeats-1), 0)
	}
	return f
}
