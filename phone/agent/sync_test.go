package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeBackend is a contact center in memory.
type fakeBackend struct {
	mu       sync.Mutex
	told     []Change
	fail     error // Report's answer while set
	changes  chan Change
	watching chan struct{}
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{changes: make(chan Change, 8), watching: make(chan struct{}, 8)}
}

func (f *fakeBackend) Name() string { return "fake" }

func (f *fakeBackend) Report(_ context.Context, c Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.told = append(f.told, c)
	return nil
}

func (f *fakeBackend) Watch(ctx context.Context, got func(Change)) error {
	f.watching <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-f.changes:
			got(c)
		}
	}
}

func (f *fakeBackend) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeBackend) last() (Change, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.told) == 0 {
		return Change{}, 0
	}
	return f.told[len(f.told)-1], len(f.told)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runSync(t *testing.T, a *Agent, b Backend, opts SyncOptions) *Sync {
	t.Helper()
	opts.MaxBackoff = 20 * time.Millisecond
	s := NewSync(a, b, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func TestSyncReportsLocalChangesOnly(t *testing.T) {
	a, _ := New(Options{})
	b := newFakeBackend()
	s := runSync(t, a, b, SyncOptions{Reports: func(st Status) bool { return st == Free || st == NotReady || st == Rest }})
	eventually(t, "the initial status reported", func() bool { c, _ := b.last(); return c.Status == Free })
	eventually(t, "in sync", func() bool { return s.State().InSync })
	mustSet(t, a, "notReady", "")
	eventually(t, "notReady reported", func() bool { c, _ := b.last(); return c.Status == NotReady })
	a.CallStarted("c1") // busy is not reported to this backend
	a.CallEnded("c1")
	eventually(t, "notReady again after the call", func() bool { _, n := b.last(); return n == 3 })
	<-b.watching
	b.changes <- Change{Status: Rest, Reason: "Meal", Since: time.Now()}
	eventually(t, "rest from the contact center applied", func() bool { return a.Status().Status == Rest })
	if _, n := b.last(); n != 3 {
		t.Fatalf("a change from the contact center was reported back (%d reports)", n)
	}
}

func TestSyncRetriesUntilTold(t *testing.T) {
	a, _ := New(Options{})
	b := newFakeBackend()
	b.setFail(errors.New("connection refused"))
	s := runSync(t, a, b, SyncOptions{})
	eventually(t, "out of sync", func() bool { st := s.State(); return !st.InSync && st.Error == "connection refused" })
	mustSet(t, a, "notReady", "") // kept locally while the backend is down
	expectStatus(t, a, NotReady)
	b.setFail(nil)
	eventually(t, "the newest status told", func() bool { c, _ := b.last(); return c.Status == NotReady })
	eventually(t, "in sync", func() bool { return s.State().InSync })
	if _, n := b.last(); n != 1 {
		t.Fatalf("%d reports: only the newest status should be told after an outage", n)
	}
}

func TestSyncRefusedKeepsTheOldStatus(t *testing.T) {
	a, _ := New(Options{})
	b := newFakeBackend()
	refusedCh := make(chan *RefusedError, 1)
	s := runSync(t, a, b, SyncOptions{OnRefused: func(refused, kept Change, err *RefusedError) {
		if refused.Status == Rest && kept.Status == Free {
			refusedCh <- err
		}
	}})
	eventually(t, "in sync", func() bool { return s.State().InSync })
	b.setFail(&RefusedError{Code: 422, Message: "rest reason not allowed"})
	mustSet(t, a, "rest", "Nap")
	select {
	case err := <-refusedCh:
		if err.Message != "rest reason not allowed" {
			t.Fatalf("refusal %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal heard")
	}
	eventually(t, "back to free", func() bool { return a.Status().Status == Free })
}

func TestSyncKicked(t *testing.T) {
	a, _ := New(Options{})
	b := newFakeBackend()
	kicked := make(chan Change, 1)
	runSync(t, a, b, SyncOptions{OnKicked: func(c Change) { kicked <- c }})
	<-b.watching
	b.changes <- Change{Status: Offline, Kicked: true, Reason: "logged in elsewhere"}
	select {
	case c := <-kicked:
		if c.Reason != "logged in elsewhere" {
			t.Fatalf("kicked %+v", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kickedOut not heard")
	}
}

func TestSyncIgnoresStaleRemoteStatus(t *testing.T) {
	a, _ := New(Options{})
	heard := &seen{}
	a.Listen(heard.listen)
	b := newFakeBackend()
	s := runSync(t, a, b, SyncOptions{})
	eventually(t, "in sync", func() bool { return s.State().InSync })
	<-b.watching
	b.changes <- Change{Status: Rest, Reason: "Meal", Since: time.Now().Add(-time.Hour)}
	b.changes <- Change{Status: NotReady, Since: time.Now().Add(time.Second)}
	eventually(t, "the newer remote status", func() bool { return a.Status().Status == NotReady })
	expect(t, heard, "contactCenter:notReady") // the stale rest never applied
}
