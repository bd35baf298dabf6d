package agent

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// SyncState is how far the phone and the contact center agree.
type SyncState struct {
	Backend string `json:"backend"`         // "relay", "sip"
	InSync  bool   `json:"inSync"`          // the contact center has the phone's status
	Error   string `json:"error,omitempty"` // why not, while not
}

// SyncOptions configure a Sync.
type SyncOptions struct {
	// Reports says which statuses the backend is told (nil: all). The
	// relay's cloud API takes only free, notReady and rest: it derives
	// busy and afterCallWork from the calls it routes itself.
	Reports func(Status) bool
	// OnKicked hears a change that takes this device offline (kickedOut).
	OnKicked func(Change)
	// OnRefused hears a status the contact center refused; the agent is
	// back to kept.
	OnRefused func(refused, kept Change, err *RefusedError)
	// OnState hears every change of the sync state.
	OnState func(SyncState)
	Log     *slog.Logger
	// MaxBackoff bounds the wait between retries (default 30 s).
	MaxBackoff time.Duration
	// Timeout bounds one report (default 10 s).
	Timeout time.Duration
}

// Sync keeps one Agent and the contact center in step through a Backend:
// the phone's changes are reported (the newest wins, retried until told),
// and changes made elsewhere are applied. While a report of ours is
// waiting, changes from elsewhere are ignored: ours is newer.
type Sync struct {
	a    *Agent
	b    Backend
	opts SyncOptions
	wake chan struct{}

	mu       sync.Mutex
	want     *Change // newest local change not yet told
	inflight bool
	good     Change // the last status the contact center agreed to
	state    SyncState
}

// NewSync ties a to b. Run starts it.
func NewSync(a *Agent, b Backend, opts SyncOptions) *Sync {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	s := &Sync{a: a, b: b, opts: opts, wake: make(chan struct{}, 1)}
	s.state = SyncState{Backend: b.Name(), Error: "not told yet"}
	cur := a.Status()
	s.good = cur
	s.queue(cur) // the status the phone starts in is the agent's
	a.Listen(func(now, _ Change, src Source) {
		if src != Remote {
			s.queue(now)
		}
	})
	return s
}

func (s *Sync) reports(st Status) bool { return s.opts.Reports == nil || s.opts.Reports(st) }

func (s *Sync) queue(c Change) {
	if !s.reports(c.Status) {
		return
	}
	s.mu.Lock()
	s.want = &c
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// State is the sync state now.
func (s *Sync) State() SyncState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Sync) setState(inSync bool, err string) {
	s.mu.Lock()
	changed := s.state.InSync != inSync || s.state.Error != err
	s.state.InSync, s.state.Error = inSync, err
	st := s.state
	s.mu.Unlock()
	if changed && s.opts.OnState != nil {
		s.opts.OnState(st)
	}
}

// Run reports and watches until ctx ends.
func (s *Sync) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.reportLoop(ctx) }()
	go func() { defer wg.Done(); s.watchLoop(ctx) }()
	wg.Wait()
}

func (s *Sync) backoff(n int) time.Duration {
	d := time.Second << min(n, 5)
	d = min(d, s.opts.MaxBackoff)
	return d/2 + rand.N(d/2+1) // jittered: a fleet does not retry in step
}

func (s *Sync) reportLoop(ctx context.Context) {
	fails := 0
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-retry:
		}
		retry = nil
		s.mu.Lock()
		c := s.want
		s.want = nil
		s.inflight = c != nil
		s.mu.Unlock()
		if c == nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		err := s.b.Report(rctx, *c)
		cancel()
		var refused *RefusedError
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			fails = 0
			s.mu.Lock()
			s.good, s.inflight = *c, false
			more := s.want != nil
			s.mu.Unlock()
			s.setState(!more, "")
		case errors.As(err, &refused):
			fails = 0
			s.mu.Lock()
			kept, newer := s.good, s.want != nil
			s.inflight = false
			s.mu.Unlock()
			s.opts.Log.Warn("the contact center refused the agent status", "status", c.Status, "reason", c.Reason, "code", refused.Code, "message", refused.Message)
			if !newer {
				s.a.Restore(*c, kept)
			}
			if s.opts.OnRefused != nil {
				s.opts.OnRefused(*c, kept, refused)
			}
			s.setState(!newer, "")
		default:
			fails++
			s.mu.Lock()
			if s.want == nil {
				s.want = c // retry it, unless a newer one came
			}
			s.inflight = false
			s.mu.Unlock()
			wait := s.backoff(fails)
			s.opts.Log.Warn("cannot report the agent status; retrying", "backend", s.b.Name(), "error", err, "retryIn", wait.Round(time.Millisecond))
			s.setState(false, err.Error())
			retry = time.After(wait)
		}
	}
}

func (s *Sync) watchLoop(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		start := time.Now()
		err := s.b.Watch(ctx, s.remote)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			fails = 0 // it ran for a while: a fresh outage
		}
		fails++
		wait := s.backoff(fails)
		if err != nil {
			s.opts.Log.Warn("agent status watch broke; watching again", "backend", s.b.Name(), "error", err, "retryIn", wait.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// remote applies a change made elsewhere.
func (s *Sync) remote(c Change) {
	if c.Kicked {
		s.opts.Log.Warn("the contact center took this device offline", "status", c.Status, "reason", c.Reason)
		if s.opts.OnKicked != nil {
			s.opts.OnKicked(c)
		}
		return
	}
	s.mu.Lock()
	busy := s.want != nil || s.inflight
	s.mu.Unlock()
	if busy {
		s.opts.Log.Debug("agent status from the contact center ignored: the phone's newer one is being reported", "status", c.Status)
		return
	}
	// Stale: older than the phone's own status. Compared in whole seconds,
	// the cloud API's resolution (LastStatusTimestamp), so a change made
	// elsewhere in the same second as ours is not taken for an old one.
	if cur := s.a.Status(); !c.Since.IsZero() && c.Since.Unix() < cur.Since.Unix() && cur.Status != Busy && cur.Status != Arrange {
		s.opts.Log.Debug("stale agent status from the contact center ignored", "status", c.Status, "since", c.Since)
		return
	}
	if s.a.Apply(c) {
		s.mu.Lock()
		s.good = c
		s.mu.Unlock()
	}
}
