package sim

import (
	"time"

	"deskphone/hal"
)

// clock paces a device: sample n is due at start + n/rate. Deadlines are
// computed from start, never by adding up sleeps, so lateness in one frame
// does not delay the next ones (no drift).
type clock struct {
	start time.Time
	rate  int64
	timer *time.Timer // reused: waiting allocates nothing
	done  <-chan struct{}
	off   bool // test hook: never wait
}

func newClock(rate int, done <-chan struct{}, off bool) clock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return clock{start: time.Now(), rate: int64(rate), timer: t, done: done, off: off}
}

// at is when sample n is due.
func (c *clock) at(n int64) time.Time {
	s := time.Duration(n/c.rate) * time.Second
	return c.start.Add(s + time.Duration(n%c.rate)*time.Second/time.Duration(c.rate))
}

// waitUntil blocks until sample n is due, or returns hal.ErrClosed if done
// is closed first.
func (c *clock) waitUntil(n int64) error {
	if c.off || n <= 0 {
		return nil
	}
	d := time.Until(c.at(n))
	if d <= 0 {
		return nil
	}
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
		return nil
	case <-c.done:
		c.timer.Stop()
		return hal.ErrClosed
	}
}
