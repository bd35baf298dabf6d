package hal

import "time"

// Clock is the time source of drivers that debounce, scan or blink: the
// system clock in a phone, a fake in tests (github.com/jonboulle/clockwork's
// clocks satisfy it).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
