// Package agent is the contact-center agent's status on this phone: what
// the agent chose (free, notReady, rest with a reason, offline), what the
// calls make of it (busy during a call, arrange for the wrap-up after one),
// and the sync of that status with the contact center through a Backend.
//
// The rules, after the web SDK (tccc-agent.md §4.1):
//   - a call makes the agent busy from its first ring to its end;
//   - after a call that was talked on, the agent is in after-call work
//     (arrange) for the wrap-up time, then back to the status chosen before
//     the call, or to free (Options.AfterWrapUp);
//   - a status asked for during a call takes effect when the calls end, and
//     then skips the wrap-up: the agent said what comes next;
//   - any status asked for during the wrap-up ends it early;
//   - arrange asked for while idle is after-call work with no timer: it
//     lasts until the agent picks another status.
package agent

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Source says who made a change.
type Source string

// The sources of a change.
const (
	Local  Source = "phone"         // a key, the control API
	Calls  Source = "call"          // a call began or ended, or the wrap-up ran out
	Remote Source = "contactCenter" // the contact center (workbench, admin, another device)
)

// Clock is time as the agent model sees it; tests pass a fake one.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a running AfterFunc.
type Timer interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// After the wrap-up, the agent returns to…
const (
	AfterPrevious = "previous" // the status chosen before the call
	AfterFree     = "free"     // free
)

// Options configure an Agent.
type Options struct {
	Initial       Status        // free, notReady or rest; "" = free
	InitialReason string        // with Initial rest
	WrapUp        time.Duration // after-call work after each talked call; 0 = none
	AfterWrapUp   string        // AfterPrevious ("" too) or AfterFree
	RestReasons   []string      // allowed rest reasons; empty = any
	Clock         Clock         // nil = the real clock
}

// Listener hears every change of the effective status, in order. It runs
// outside the Agent's lock but must not change the Agent itself.
type Listener func(now, prev Change, src Source)

// Agent is one agent's status. Its methods are safe for concurrent use.
type Agent struct {
	opts  Options
	clock Clock

	mu      sync.Mutex
	chosen  Change          // what the agent chose: free, notReady, rest, offline, or arrange (no timer)
	pending *Change         // asked for during a call
	calls   map[string]bool // live calls → talked on
	talked  bool            // one of the calls since the last idle moment was talked on
	wrapEnd time.Time       // the wrap-up's end; zero when none runs
	wrap    Timer
	cur     Change // the effective status
	listen  []Listener

	// Changes are queued under mu and delivered under notify, which is
	// never taken while mu is held: a listener may read the agent
	// (Snapshot takes mu) while another change is being committed.
	queue  []committed // committed, not yet delivered (guarded by mu)
	notify sync.Mutex  // held while listeners run: they hear changes in order
}

// committed is one change waiting for the listeners.
type committed struct {
	c, prev Change
	src     Source
	ls      []Listener
}

// New returns an agent in its initial status (online).
func New(opts Options) (*Agent, error) {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Initial == "" {
		opts.Initial = Free
	}
	switch opts.Initial {
	case Free, NotReady:
	case Rest:
		if err := checkReason(opts.RestReasons, opts.InitialReason); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("initial status %q: use free, notReady or rest", opts.Initial)
	}
	switch opts.AfterWrapUp {
	case "", AfterPrevious, AfterFree:
	default:
		return nil, fmt.Errorf("after wrap-up %q: use previous or free", opts.AfterWrapUp)
	}
	a := &Agent{opts: opts, clock: opts.Clock, calls: map[string]bool{}}
	now := a.clock.Now()
	a.chosen = Change{Status: opts.Initial, Since: now}
	if opts.Initial == Rest {
		a.chosen.Reason = opts.InitialReason
	}
	a.cur = a.chosen
	return a, nil
}

func checkReason(allowed []string, reason string) error {
	if len(allowed) == 0 || slices.Contains(allowed, reason) {
		return nil
	}
	if reason == "" {
		return fmt.Errorf("rest needs a reason: one of %v", allowed)
	}
	return fmt.Errorf("rest reason %q is not configured: use one of %v (agent.rest_reasons)", reason, allowed)
}

// Listen adds a listener of changes.
func (a *Agent) Listen(l Listener) {
	a.mu.Lock()
	a.listen = append(a.listen, l)
	a.mu.Unlock()
}

// Status is the effective status now.
func (a *Agent) Status() Change {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// Snapshot is the status with what is waiting on it.
type Snapshot struct {
	Change
	Pending *Change       `json:"pending,omitempty"` // asked for during a call
	WrapUp  time.Duration `json:"-"`                 // time left of a timed wrap-up
}

// Snapshot reports the status, a pending request and the wrap-up left.
func (a *Agent) Snapshot() Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Snapshot{Change: a.cur}
	if a.pending != nil {
		p := *a.pending
		s.Pending = &p
	}
	if !a.wrapEnd.IsZero() {
		s.WrapUp = max(a.wrapEnd.Sub(a.clock.Now()), 0)
	}
	return s
}

// Accepts says whether an inbound call may be offered: not while the agent
// is not ready, resting, wrapping up or offline.
func (a *Agent) Accepts() (bool, Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.cur.Status {
	case Free, Busy:
		return true, a.cur
	default:
		return false, a.cur
	}
}

// Set is the SDK's setStatus: free, rest (with a reason), arrange,
// notReady or stopNotReady. During a call the status waits for the call's
// end (pending is true). It returns the status that is (or will be) in
// effect.
func (a *Agent) Set(req, reason string) (c Change, pending bool, err error) {
	a.mu.Lock()
	st, err := a.request(req, reason)
	if err != nil {
		a.mu.Unlock()
		return Change{}, false, err
	}
	want := Change{Status: st, Since: a.clock.Now()}
	if st == Rest {
		want.Reason = reason
	}
	if len(a.calls) > 0 {
		if st == a.chosen.Status && want.Reason == a.chosen.Reason {
			a.pending = nil // back to what it was: nothing waits
		} else {
			a.pending = &want
		}
		a.mu.Unlock()
		return want, true, nil
	}
	a.stopWrapLocked()
	a.chosen = want
	a.commit(want, Local) // unlocks
	return want, false, nil
}

// request checks a setStatus request against the current state; a.mu held.
func (a *Agent) request(req, reason string) (Status, error) {
	if a.chosen.Status == Offline {
		return "", fmt.Errorf("the agent is offline: go online first")
	}
	switch req {
	case string(Free), string(NotReady), string(Arrange):
		return Status(req), nil
	case string(Rest):
		return Rest, checkReason(a.opts.RestReasons, reason)
	case StopNotReady:
		next := a.chosen.Status
		if a.pending != nil {
			next = a.pending.Status
		}
		if next != NotReady {
			return "", fmt.Errorf("stopNotReady: the agent is %s, not notReady", a.cur.Status)
		}
		return Free, nil
	case string(Busy):
		return "", fmt.Errorf("busy is set by calls, not asked for: use free, rest, arrange, notReady or stopNotReady")
	case string(Offline):
		return "", fmt.Errorf("use offline to go offline, not setStatus")
	}
	return "", fmt.Errorf("unknown status %q: use free, rest, arrange, notReady or stopNotReady", req)
}

// Online brings an offline agent back, to free.
func (a *Agent) Online() {
	a.mu.Lock()
	if a.chosen.Status != Offline {
		a.mu.Unlock()
		return
	}
	a.chosen = Change{Status: Free, Since: a.clock.Now()}
	if len(a.calls) > 0 {
		a.mu.Unlock()
		return
	}
	a.commit(a.chosen, Local)
}

// Offline takes the agent offline (src says who did): at once, even during
// a call, since it also means no more calls are offered.
func (a *Agent) Offline(src Source) {
	a.mu.Lock()
	a.stopWrapLocked()
	a.pending = nil
	a.chosen = Change{Status: Offline, Since: a.clock.Now()}
	a.commit(a.chosen, src)
}

// CallStarted marks a call (any direction, ringing or not): the agent is
// busy until the last call ends.
func (a *Agent) CallStarted(id string) {
	a.mu.Lock()
	if _, ok := a.calls[id]; ok {
		a.mu.Unlock()
		return
	}
	a.calls[id] = false
	a.stopWrapLocked()
	if a.cur.Status == Busy || a.chosen.Status == Offline {
		a.mu.Unlock()
		return
	}
	a.commit(Change{Status: Busy, Since: a.clock.Now()}, Calls)
}

// CallTalked marks a call as answered: its end starts the wrap-up.
func (a *Agent) CallTalked(id string) {
	a.mu.Lock()
	if _, ok := a.calls[id]; ok {
		a.calls[id] = true
		a.talked = true
	}
	a.mu.Unlock()
}

// CallEnded removes a call. When none is left the agent goes to what was
// asked for during the calls, or into wrap-up, or back to the status chosen.
func (a *Agent) CallEnded(id string) {
	a.mu.Lock()
	if _, ok := a.calls[id]; !ok {
		a.mu.Unlock()
		return
	}
	delete(a.calls, id)
	if len(a.calls) > 0 || a.chosen.Status == Offline {
		a.mu.Unlock()
		return
	}
	talked := a.talked
	a.talked = false
	now := a.clock.Now()
	switch {
	case a.pending != nil:
		a.chosen = *a.pending
		a.chosen.Since = now
		a.pending = nil
		a.commit(a.chosen, Local)
	case talked && a.opts.WrapUp > 0:
		a.wrapEnd = now.Add(a.opts.WrapUp)
		end := a.wrapEnd
		a.wrap = a.clock.AfterFunc(a.opts.WrapUp, func() { a.wrapDone(end) })
		a.commit(Change{Status: Arrange, Since: now}, Calls)
	default:
		a.commit(a.back(now), Calls)
	}
}

// back is the status after the calls (or the wrap-up); a.mu held.
func (a *Agent) back(now time.Time) Change {
	if a.opts.AfterWrapUp == AfterFree && a.chosen.Status != Offline {
		a.chosen = Change{Status: Free, Since: now}
	}
	c := a.chosen
	c.Since = now
	return c
}

// EndWrapUp ends after-call work early, the way its timer would: back to
// the status before the call, or to free (a manual arrange goes to free).
// It reports whether there was a wrap-up to end.
func (a *Agent) EndWrapUp() bool {
	a.mu.Lock()
	switch {
	case !a.wrapEnd.IsZero():
		a.stopWrapLocked()
		a.commit(a.back(a.clock.Now()), Local)
		return true
	case a.chosen.Status == Arrange && len(a.calls) == 0:
		a.chosen = Change{Status: Free, Since: a.clock.Now()}
		a.commit(a.chosen, Local)
		return true
	}
	a.mu.Unlock()
	return false
}

func (a *Agent) wrapDone(end time.Time) {
	a.mu.Lock()
	if !a.wrapEnd.Equal(end) || a.wrapEnd.IsZero() {
		a.mu.Unlock() // ended early, or a newer wrap-up runs
		return
	}
	a.wrapEnd, a.wrap = time.Time{}, nil
	a.commit(a.back(a.clock.Now()), Calls)
}

func (a *Agent) stopWrapLocked() {
	if a.wrap != nil {
		a.wrap.Stop()
	}
	a.wrap, a.wrapEnd = nil, time.Time{}
}

// Apply takes a change made elsewhere (the contact center). busy and
// arrange are the contact center's view of the phone's own calls and are
// not applied; a change equal to the current one is not either. During a
// call the change waits for the call's end. It reports whether the status
// changed or a change is now pending.
func (a *Agent) Apply(c Change) bool {
	a.mu.Lock()
	switch c.Status {
	case Free, NotReady, Rest:
	case Offline:
		if a.chosen.Status == Offline {
			a.mu.Unlock()
			return false
		}
		a.stopWrapLocked()
		a.pending = nil
		a.chosen = Change{Status: Offline, Since: c.Since}
		a.commit(a.chosen, Remote)
		return true
	default:
		a.mu.Unlock()
		return false
	}
	if c.Status != Rest {
		c.Reason = ""
	}
	c.Kicked = false
	if c.Since.IsZero() {
		c.Since = a.clock.Now()
	}
	if len(a.calls) > 0 {
		if a.pending != nil && same(*a.pending, c) || a.pending == nil && same(a.chosen, c) {
			a.mu.Unlock()
			return false
		}
		a.pending = &c
		a.mu.Unlock()
		return true
	}
	if same(a.cur, c) {
		a.mu.Unlock()
		return false
	}
	a.stopWrapLocked()
	a.chosen = c
	a.commit(c, Remote)
	return true
}

// Restore puts back a status the contact center refused to leave (the
// change to `from` was refused): the agent keeps `to`.
func (a *Agent) Restore(from, to Change) {
	a.mu.Lock()
	if a.pending != nil && same(*a.pending, from) {
		a.pending = nil
		a.mu.Unlock()
		return
	}
	if !same(a.chosen, from) {
		a.mu.Unlock() // moved on since: nothing to undo
		return
	}
	a.chosen = to
	if len(a.calls) > 0 || !a.wrapEnd.IsZero() {
		a.mu.Unlock()
		return
	}
	a.commit(to, Remote)
}

func same(x, y Change) bool { return x.Status == y.Status && x.Reason == y.Reason }

// commit makes c the effective status and tells the listeners, in order.
// a.mu must be held; commit releases it.
func (a *Agent) commit(c Change, src Source) {
	prev := a.cur
	if same(prev, c) {
		a.mu.Unlock()
		return
	}
	a.cur = c
	a.queue = append(a.queue, committed{c, prev, src, slices.Clone(a.listen)})
	a.mu.Unlock()
	// Whoever holds notify first delivers every queued change in commit
	// order; commit returns once its own change has been delivered.
	a.notify.Lock()
	defer a.notify.Unlock()
	for {
		a.mu.Lock()
		if len(a.queue) == 0 {
			a.mu.Unlock()
			return
		}
		next := a.queue[0]
		a.queue = a.queue[1:]
		a.mu.Unlock()
		for _, l := range next.ls {
			l(next.c, next.prev, next.src)
		}
	}
}
