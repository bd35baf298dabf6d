package sipua

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sipgo logs what it cannot parse at ERROR, the whole datagram included,
// so a flood of garbage at the SIP port would become a flood on disk. Its
// transport and transaction layers log through quietHandler instead: long
// values are cut, records are rate-limited, and how many were dropped is
// said once the flood passes.

// logValueMax is the longest string value kept in a sipgo log record.
const logValueMax = 160

// quietHandler wraps the phone's handler for sipgo's records.
type quietHandler struct {
	next slog.Handler
	lim  *logLimiter
}

// logLimiter allows burst records, then one per interval.
type logLimiter struct {
	mu       sync.Mutex
	burst    int
	interval time.Duration
	tokens   int
	last     time.Time
	dropped  int
}

func newQuietLogger(l *slog.Logger, burst int, interval time.Duration) *slog.Logger {
	return slog.New(&quietHandler{next: l.Handler(), lim: &logLimiter{burst: burst, interval: interval, tokens: burst}})
}

// allow reports whether a record may go out now, and how many were dropped
// before it.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.last = now
	}
	if n := int(now.Sub(l.last) / l.interval); n > 0 {
		l.tokens = min(l.burst, l.tokens+n)
		l.last = l.last.Add(time.Duration(n) * l.interval)
	}
	if l.tokens == 0 {
		l.dropped++
		return false, 0
	}
	l.tokens--
	d := l.dropped
	l.dropped = 0
	return true, d
}

func (h *quietHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return h.next.Enabled(ctx, lv)
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	ok, dropped := h.lim.allow(r.Time)
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, cut(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(cutAttr(a))
		return true
	})
	if dropped > 0 {
		out.AddAttrs(slog.Int("dropped_before", dropped))
	}
	return h.next.Handle(ctx, out)
}

func (h *quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	cs := make([]slog.Attr, len(as))
	for i, a := range as {
		cs[i] = cutAttr(a)
	}
	return &quietHandler{next: h.next.WithAttrs(cs), lim: h.lim}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{next: h.next.WithGroup(name), lim: h.lim}
}

func cutAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, cut(v.String()))
	case slog.KindAny:
		if s, ok := v.Any().(interface{ String() string }); ok {
			return slog.String(a.Key, cut(s.String()))
		}
	default: // numbers, times, groups: short already
	}
	return a
}

func cut(s string) string {
	if len(s) <= logValueMax {
		return s
	}
	return s[:logValueMax] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// RouteLibraryLogs sends what sipgo logs through its package-wide default
// logger (its TCP and UDP connections' notes, e.g. a connection closed
// under a transaction, "TCP ref went negative") to l, rate-limited like
// the rest of its logs. sipgo reads that logger without a lock: call this
// once at start-up, before any UA exists (firmware's main does).
func RouteLibraryLogs(l *slog.Logger) {
	sip.SetDefaultLogger(newQuietLogger(l.With("part", "sip"), 20, time.Second))
}
