package agent

import (
	"sync"
	"testing"
	"time"
)

// fakeClock runs timers when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c    *fakeClock
	at   time.Time
	f    func()
	done bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// Advance moves the clock and runs the timers that fall due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

type seen struct {
	mu  sync.Mutex
	log []string
}

func (s *seen) listen(now, _ Change, src Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := string(src) + ":" + string(now.Status)
	if now.Reason != "" {
		e += "/" + now.Reason
	}
	s.log = append(s.log, e)
}

func (s *seen) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.log
	s.log = nil
	return out
}

func newAgent(t *testing.T, opts Options) (*Agent, *fakeClock, *seen) {
	t.Helper()
	clk := newFakeClock()
	opts.Clock = clk
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &seen{}
	a.Listen(s.listen)
	return a, clk, s
}

func expect(t *testing.T, s *seen, want ...string) {
	t.Helper()
	got := s.take()
	if len(got) != len(want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("changes %q, want %q", got, want)
		}
	}
}

func expectStatus(t *testing.T, a *Agent, st Status) {
	t.Helper()
	if got := a.Status().Status; got != st {
		t.Fatalf("status %s, want %s", got, st)
	}
}

func TestWrapUpAfterATalkedCall(t *testing.T) {
	a, clk, s := newAgent(t, Options{WrapUp: 30 * time.Second})
	a.CallStarted("c1")
	a.CallTalked("c1")
	clk.Advance(time.Minute)
	a.CallEnded("c1")
	expect(t, s, "call:busy", "call:arrange")
	if ok, _ := a.Accepts(); ok {
		t.Fatal("an agent in after-call work must not be offered calls")
	}
	clk.Advance(10 * time.Second)
	if left := a.Snapshot().WrapUp; left != 20*time.Second {
		t.Fatalf("wrap-up left %v, want 20s", left)
	}
	clk.Advance(19 * time.Second)
	expectStatus(t, a, Arrange)
	clk.Advance(time.Second)
	expect(t, s, "call:free")
	if a.Snapshot().WrapUp != 0 {
		t.Fatal("no wrap-up should be left")
	}
}

func TestNoWrapUpAfterAMissedCall(t *testing.T) {
	a, _, s := newAgent(t, Options{WrapUp: 30 * time.Second})
	a.CallStarted("c1")
	a.CallEnded("c1")
	expect(t, s, "call:busy", "call:free")
}

func TestWrapUpReturnsToThePreviousStatusOrFree(t *testing.T) {
	for _, after := range []string{AfterPrevious, AfterFree} {
		a, clk, s := newAgent(t, Options{Initial: NotReady, WrapUp: 5 * time.Second, AfterWrapUp: after})
		a.CallStarted("out") // notReady agents may call out
		a.CallTalked("out")
		a.CallEnded("out")
		clk.Advance(5 * time.Second)
		want := "call:notReady"
		if after == AfterFree {
			want = "call:free"
		}
		expect(t, s, "call:busy", "call:arrange", want)
	}
}

func TestWrapUpEndedEarly(t *testing.T) {
	a, clk, s := newAgent(t, Options{WrapUp: 30 * time.Second})
	a.CallStarted("c1")
	a.CallTalked("c1")
	a.CallEnded("c1")
	if _, pending, err := a.Set("free", ""); err != nil || pending {
		t.Fatalf("free during wrap-up: pending %v, %v", pending, err)
	}
	clk.Advance(time.Minute) // the stopped timer must not fire
	expect(t, s, "call:busy", "call:arrange", "phone:free")
}

func TestRestDuringACallStartsWhenItEnds(t *testing.T) {
	a, _, s := newAgent(t, Options{WrapUp: 30 * time.Second, RestReasons: []string{"Meal", "Meeting"}})
	a.CallStarted("c1")
	a.CallTalked("c1")
	c, pending, err := a.Set("rest", "Meal")
	if err != nil || !pending || c.Status != Rest {
		t.Fatalf("rest during a call: %+v pending=%v err=%v", c, pending, err)
	}
	if snap := a.Snapshot(); snap.Status != Busy || snap.Pending == nil || snap.Pending.Reason != "Meal" {
		t.Fatalf("snapshot %+v: want busy with rest/Meal pending", snap)
	}
	a.CallEnded("c1")
	expect(t, s, "call:busy", "phone:rest/Meal") // no wrap-up: the agent said what comes next
}

func TestTwoCallsOneBusy(t *testing.T) {
	a, _, s := newAgent(t, Options{})
	a.CallStarted("c1")
	a.CallStarted("c2")
	a.CallEnded("c1")
	expectStatus(t, a, Busy)
	a.CallEnded("c2")
	a.CallEnded("c2") // twice: ignored
	expect(t, s, "call:busy", "call:free")
}

func TestSetStatusRules(t *testing.T) {
	a, _, s := newAgent(t, Options{RestReasons: []string{"Meal"}})
	for _, bad := range []struct{ req, reason string }{
		{"busy", ""}, {"offline", ""}, {"lunch", ""}, {"rest", ""}, {"rest", "Nap"}, {"stopNotReady", ""},
	} {
		if _, _, err := a.Set(bad.req, bad.reason); err == nil {
			t.Errorf("Set(%q, %q) accepted", bad.req, bad.reason)
		}
	}
	mustSet(t, a, "notReady", "")
	if ok, _ := a.Accepts(); ok {
		t.Fatal("notReady must refuse inbound calls")
	}
	mustSet(t, a, "stopNotReady", "")
	mustSet(t, a, "arrange", "") // no timer: lasts until changed
	mustSet(t, a, "rest", "Meal")
	a.Offline(Local)
	if _, _, err := a.Set("free", ""); err == nil {
		t.Fatal("setStatus while offline accepted")
	}
	a.Online()
	expect(t, s, "phone:notReady", "phone:free", "phone:arrange", "phone:rest/Meal", "phone:offline", "phone:free")
}

func mustSet(t *testing.T, a *Agent, req, reason string) {
	t.Helper()
	if _, _, err := a.Set(req, reason); err != nil {
		t.Fatalf("Set(%q, %q): %v", req, reason, err)
	}
}

func TestRemoteChanges(t *testing.T) {
	a, clk, s := newAgent(t, Options{})
	clk.Advance(time.Second)
	if !a.Apply(Change{Status: Rest, Reason: "Meeting", Since: clk.Now()}) {
		t.Fatal("rest from the contact center not applied")
	}
	if a.Apply(Change{Status: Rest, Reason: "Meeting", Since: clk.Now()}) {
		t.Fatal("the same status applied twice")
	}
	if a.Apply(Change{Status: Busy}) || a.Apply(Change{Status: Arrange}) {
		t.Fatal("busy/arrange are the contact center's view of our own calls: not applied")
	}
	a.CallStarted("c1")
	a.Apply(Change{Status: Free, Since: clk.Now()}) // waits for the call's end
	expectStatus(t, a, Busy)
	a.CallEnded("c1")
	expect(t, s, "contactCenter:rest/Meeting", "call:busy", "phone:free")
}

func TestRestoreAfterRefusal(t *testing.T) {
	a, _, s := newAgent(t, Options{})
	before := a.Status()
	c, _, _ := a.Set("notReady", "")
	a.Restore(c, before)
	expect(t, s, "phone:notReady", "contactCenter:free")
	// Moved on since: the refusal of an older change undoes nothing.
	c, _, _ = a.Set("notReady", "")
	mustSet(t, a, "free", "")
	a.Restore(c, before)
	expect(t, s, "phone:notReady", "phone:free")
}

func TestInitialStatusChecked(t *testing.T) {
	for _, o := range []Options{{Initial: Busy}, {Initial: Rest, RestReasons: []string{"Meal"}, InitialReason: "Nap"}, {AfterWrapUp: "later"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// Listeners hear changes in order even when calls end on other goroutines.
func TestListenersHearChangesInOrder(t *testing.T) {
	a, _, s := newAgent(t, Options{})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := string(rune('a' + i%26))
			a.CallStarted(id + "x")
			a.CallEnded(id + "x")
		}()
	}
	wg.Wait()
	log := s.take()
	for i := 1; i < len(log); i++ {
		if log[i] == log[i-1] {
			t.Fatalf("the same status heard twice in a row: %q", log)
		}
	}
	if log[len(log)-1] != "call:free" {
		t.Fatalf("last change %q, want call:free", log[len(log)-1])
	}
}

func TestEndWrapUpEarly(t *testing.T) {
	a, clk, s := newAgent(t, Options{Initial: NotReady, WrapUp: time.Minute})
	if a.EndWrapUp() {
		t.Fatal("ended a wrap-up that was not running")
	}
	a.CallStarted("c1")
	a.CallTalked("c1")
	a.CallEnded("c1")
	if !a.EndWrapUp() {
		t.Fatal("the wrap-up did not end")
	}
	clk.Advance(time.Hour)
	mustSet(t, a, "arrange", "")
	a.EndWrapUp()
	expect(t, s, "call:busy", "call:arrange", "phone:notReady", "phone:arrange", "phone:free")
}
