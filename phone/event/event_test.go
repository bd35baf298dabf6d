package event

import "testing"

func TestBusFanOutAndDrop(t *testing.T) {
	b := NewBus()
	a, stopA := b.Subscribe(4)
	slow, stopSlow := b.Subscribe(1)
	defer stopA()
	b.Publish(NewSession, "one")
	b.Publish(Ended, "two")
	for _, want := range []string{NewSession, Ended} {
		if e := <-a; e.Name != want {
			t.Fatalf("got %s, want %s", e.Name, want)
		}
	}
	if e := <-slow; e.Name != NewSession {
		t.Fatalf("slow subscriber got %s first", e.Name)
	}
	if b.Dropped() != 1 {
		t.Fatalf("dropped = %d, want 1 (the slow subscriber's second event)", b.Dropped())
	}
	stopSlow()
	stopSlow() // idempotent
	if _, ok := <-slow; ok {
		t.Fatal("channel still open after unsubscribe")
	}
	b.Publish(Accepted, nil) // must not panic on a closed subscriber
	if e := <-a; e.Name != Accepted {
		t.Fatalf("got %s", e.Name)
	}
}
