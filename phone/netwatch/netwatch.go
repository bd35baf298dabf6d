// Package netwatch tells when the machine's network may have changed: an
// interface, address or route came or went. On Linux the kernel says so at
// once (a netlink socket on the link, IPv4/IPv6 address and IPv4 route
// groups); everywhere, and as a safety net for news that was missed, a
// tick every so often does too. What changed is for the caller to find
// out (phone/address.go asks the routing table which address reaches the
// registrar): a signal means "look again", several in a row are one.
package netwatch

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Watch returns a channel that receives when the network may have changed
// and at least every `every` (0: only on news), until ctx ends. Signals
// that come while one is pending are merged.
func Watch(ctx context.Context, every time.Duration, log *slog.Logger) <-chan struct{} {
	ch := make(chan struct{}, 1)
	poke := func() {
		select {
		case ch <- struct{}{}:
		default: // one is pending: the caller looks once for both
		}
	}
	news, err := subscribe()
	if err != nil {
		log.Warn("cannot follow the kernel's network news; the address is checked by polling only", "error", err, "every", every)
	} else {
		go read(news, poke)
	}
	// One goroutine ticks and, when ctx ends, closes the socket (which
	// ends read). Both are started here, before Watch returns, so a caller
	// counting goroutines after it sees them all.
	go func() {
		var tick <-chan time.Time
		if every > 0 {
			t := time.NewTicker(every)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-ctx.Done():
				if news != nil {
					_ = news.Close() // ends the read
				}
				return
			case <-tick:
				poke()
			}
		}
	}()
	return ch
}

// read pokes once per batch of messages until the socket is closed. The
// messages are not parsed: any of them is a reason to look again. News
// that overflowed the socket's buffer (ENOBUFS: a burst of route changes)
// is news too.
func read(r io.Reader, poke func()) {
	buf := make([]byte, 16<<10)
	for {
		if _, err := r.Read(buf); err != nil && !overflowed(err) {
			return
		}
		poke()
	}
}
