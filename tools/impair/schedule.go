package impair

import (
	"container/heap"
	"time"
)

// schedule is the datagrams waiting to be sent, earliest first (equal
// times in the order they were queued). The relay's mutex guards it.
type schedule struct {
	h   dgHeap
	seq uint64
}

type dgHeap []*datagram

func (h dgHeap) Len() int { return len(h) }
func (h dgHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h dgHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *dgHeap) Push(x any) {
	d := x.(*datagram) //nolint:forcetypeassert // only datagrams go in
	d.idx = len(*h)
	*h = append(*h, d)
}
func (h *dgHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	d.idx = -1
	return d
}

func (s *schedule) push(d *datagram) {
	s.seq++
	d.seq = s.seq
	heap.Push(&s.h, d)
}

// pushTimeout queues a held-back datagram at its latest time: if no
// datagram of its flow comes to release it earlier, it goes then.
func (s *schedule) pushTimeout(d *datagram, at time.Time) {
	d.at = at
	s.push(d)
}

// removeTimeout takes a held-back datagram out before it is re-queued.
func (s *schedule) removeTimeout(d *datagram) {
	if d.idx >= 0 && d.idx < len(s.h) && s.h[d.idx] == d {
		heap.Remove(&s.h, d.idx)
	}
}

// popDue removes and returns the datagrams due by now.
func (s *schedule) popDue(now time.Time) []*datagram {
	var due []*datagram
	for len(s.h) > 0 && !s.h[0].at.After(now) {
		d := heap.Pop(&s.h).(*datagram) //nolint:forcetypeassert // only datagrams go in
		if d.flow.held == d {
			d.flow.held = nil // its timeout came first
		}
		due = append(due, d)
	}
	return due
}

// nextAt is when the earliest datagram is due.
func (s *schedule) nextAt() (time.Time, bool) {
	if len(s.h) == 0 {
		return time.Time{}, false
	}
	return s.h[0].at, true
}
