package event

import (
	"sync"
	"testing"
	"time"
)

const patience = 5 * time.Second

// recv waits for the next event; a closed channel or a long silence fails.
func recv(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return e
	case <-time.After(patience):
		t.Fatal("no event")
	}
	return Event{}
}

// drained waits for ch to be closed, discarding what is left in it.
func drained(t *testing.T, ch <-chan Event) {
	t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel still open after unsubscribe")
		}
	}
}

// follow reads ch until it has accounted for every id up to last, failing
// on any gap that no onEventsLost covers exactly. It returns the notices.
func follow(t *testing.T, ch <-chan Event, next, last uint64) (lost []Lost) {
	t.Helper()
	for next <= last {
		e := recv(t, ch)
		if e.Name == EventsLost {
			l := e.Data.(Lost)
			if l.From != next || l.To < l.From || l.Count != l.To-l.From+1 || e.ID != l.To {
				t.Fatalf("want id %d, got notice id %d %+v", next, e.ID, l)
			}
			lost = append(lost, l)
			next = l.To + 1
			continue
		}
		if e.ID != next {
			t.Fatalf("want id %d, got %d (%s): silent gap or duplicate", next, e.ID, e.Name)
		}
		next++
	}
	return lost
}

func TestIDsAndTimestampsIncrease(t *testing.T) {
	const publishers, each = 4, 100
	b := NewBus()
	ch, stop := b.Subscribe(publishers * each)
	defer stop()
	start := time.Now().UnixMilli()
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range each {
				b.Publish(Muted, nil)
			}
		})
	}
	wg.Wait()
	end := time.Now().UnixMilli()
	var ts int64
	for i := uint64(1); i <= publishers*each; i++ {
		e := recv(t, ch)
		if e.ID != i {
			t.Fatalf("event %d has id %d", i, e.ID)
		}
		if e.TS < ts || e.TS < start || e.TS > end {
			t.Fatalf("id %d: ts %d after %d, outside [%d, %d]", e.ID, e.TS, ts, start, end)
		}
		if e.Time.UnixMilli() != e.TS {
			t.Fatalf("id %d: ts %d but time %v", e.ID, e.TS, e.Time)
		}
		ts = e.TS
	}
}

func TestFanOutAndSlowSubscriber(t *testing.T) {
	b := NewBus()
	a, stopA := b.Subscribe(4)
	slow, stopSlow := b.Subscribe(1)
	defer stopA()
	b.Publish(NewSession, "one")
	b.Publish(Ended, "two")
	for _, want := range []string{NewSession, Ended} {
		if e := recv(t, a); e.Name != want {
			t.Fatalf("got %s, want %s", e.Name, want)
		}
	}
	if b.Dropped() != 1 {
		t.Fatalf("dropped = %d, want 1 (the slow subscriber's second event)", b.Dropped())
	}
	// The slow subscriber still gets the event its full channel refused.
	for _, want := range []string{NewSession, Ended} {
		if e := recv(t, slow); e.Name != want {
			t.Fatalf("slow subscriber got %s, want %s", e.Name, want)
		}
	}
	b.Publish(Accepted, nil)
	if e := recv(t, slow); e.ID != 3 {
		t.Fatalf("slow subscriber got id %d after catching up, want 3", e.ID)
	}
	stopSlow()
	stopSlow() // idempotent
	drained(t, slow)
	b.Publish(Accepted, nil) // must not panic on a closed subscriber
	for _, want := range []uint64{3, 4} {
		if e := recv(t, a); e.ID != want {
			t.Fatalf("got id %d, want %d", e.ID, want)
		}
	}
}

// A subscriber that cannot keep up sees every id, or a notice for it.
func TestSlowSubscriberNeverMissesSilently(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name     string
		replay   int
		wantLost bool
	}{
		{"replayed", n, false},
		{"overwritten", 8, true},
		{"no replay buffer", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBusSize(tc.replay)
			ch, stop := b.Subscribe(1)
			defer stop()
			for range n {
				b.Publish(Muted, nil) // nobody reads yet: the channel fills at once
			}
			lost := follow(t, ch, 1, n)
			if (len(lost) > 0) != tc.wantLost {
				t.Fatalf("notices %+v, want some: %v", lost, tc.wantLost)
			}
			if b.Dropped() != n-1 {
				t.Fatalf("dropped = %d, want %d", b.Dropped(), n-1)
			}
			b.Publish(Ended, nil) // caught up: live again
			follow(t, ch, n+1, n+1)
		})
	}
}

// Reading while events are still being published and the reader is still
// catching up: no gap, no duplicate.
func TestSlowReaderWhilePublishing(t *testing.T) {
	const n = 2000
	b := NewBusSize(16)
	ch, stop := b.Subscribe(2)
	defer stop()
	go func() {
		for range n {
			b.Publish(Muted, nil)
		}
	}()
	follow(t, ch, 1, n)
}

func TestSubscribeFrom(t *testing.T) {
	b := NewBus()
	for range 10 {
		b.Publish(Muted, nil)
	}
	ch, stop := b.SubscribeFrom(4, 2) // more to replay than the channel holds
	defer stop()
	go func() {
		for range 5 {
			b.Publish(Muted, nil)
		}
	}()
	if lost := follow(t, ch, 5, 15); lost != nil {
		t.Fatalf("unexpected notices %+v", lost)
	}

	live, stopLive := b.SubscribeFrom(15, 4) // up to date: nothing to replay
	defer stopLive()
	b.Publish(Ended, nil)
	follow(t, live, 16, 16)

	// A Last-Event-ID from before a restart is ahead of the bus.
	all, stopAll := b.SubscribeFrom(1000, 0)
	defer stopAll()
	follow(t, all, 1, 16)
}

// Subscribing while events are being published leaves no gap and no
// duplicate between the replayed and the live events.
func TestSubscribeFromDuringPublish(t *testing.T) {
	const n = 1000
	b := NewBusSize(n)
	first, stopFirst := b.Subscribe(n)
	go func() {
		for range n {
			b.Publish(Muted, nil)
		}
	}()
	for recv(t, first).ID < n/4 { //nolint:revive // empty-block: the loop only drains frames until n/4
	}
	stopFirst()
	ch, stop := b.SubscribeFrom(n/8, 16)
	defer stop()
	if lost := follow(t, ch, n/8+1, n); lost != nil {
		t.Fatalf("unexpected notices %+v", lost)
	}
}

func TestSubscribeFromOlderThanBuffer(t *testing.T) {
	b := NewBusSize(4)
	for range 10 {
		b.Publish(Muted, nil) // ids 7..10 remain
	}
	for _, after := range []uint64{0, 2} {
		ch, stop := b.SubscribeFrom(after, 8)
		e := recv(t, ch)
		want := Lost{From: after + 1, To: 6, Count: 6 - after}
		if e.Name != EventsLost || e.Data != want || e.ID != 6 {
			t.Fatalf("after %d: first event %s id %d %+v, want notice %+v", after, e.Name, e.ID, e.Data, want)
		}
		follow(t, ch, 7, 10)
		stop()
	}
}

func TestUnsubscribeWhileCatchingUp(t *testing.T) {
	b := NewBus()
	ch, stop := b.Subscribe(0) // never read: its catch-up goroutine is stuck
	for range 3 {
		b.Publish(Muted, nil)
	}
	stop()
	drained(t, ch)
	b.Publish(Muted, nil)
}

// BenchmarkPublish: one draining subscriber and one that never reads.
func BenchmarkPublish(b *testing.B) {
	bus := NewBus()
	ch, stop := bus.Subscribe(256)
	defer stop()
	go func() {
		for range ch {
		}
	}()
	_, stopStalled := bus.Subscribe(1)
	defer stopStalled()
	var data any = Lost{Count: 1}
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(Muted, data)
	}
}
