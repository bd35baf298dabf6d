package keypad

import "time"

// debouncer turns raw key readings into Down, Up and Long. A key changes
// state only after reading the same for the debounce time, so contact
// bounce shorter than that is never seen.
type debouncer struct {
	keys      []keyState
	debounce  time.Duration
	longPress time.Duration
}

type keyState struct {
	raw    bool      // the last reading
	since  time.Time // when raw last changed
	down   bool      // the debounced state
	downAt time.Time // when down became true
	long   bool      // Long already sent for this press
}

func newDebouncer(n int, debounce, longPress time.Duration) *debouncer {
	return &debouncer{keys: make([]keyState, n), debounce: debounce, longPress: longPress}
}

// update takes one reading of every key at now and calls emit for each
// change, in key order.
func (d *debouncer) update(now time.Time, raw []bool, emit func(i int, k Kind)) {
	for i := range d.keys {
		s := &d.keys[i]
		if raw[i] != s.raw {
			s.raw, s.since = raw[i], now
		}
		if s.raw != s.down && now.Sub(s.since) >= d.debounce {
			s.down = s.raw
			if s.down {
				s.downAt, s.long = now, false
				emit(i, Down)
			} else {
				emit(i, Up)
			}
		}
		if s.down && !s.long && now.Sub(s.downAt) >= d.longPress {
			s.long = true
			emit(i, Long)
		}
	}
}

// busy reports whether any key is down or settling: the scanner must keep
// scanning until every key is up and settled.
func (d *debouncer) busy() bool {
	for _, s := range d.keys {
		if s.raw || s.down {
			return true
		}
	}
	return false
}
