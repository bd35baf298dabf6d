// Package logtail keeps the last lines of the phone's own log in memory, so
// the control API (GET /v1/logs) and the web page can show them without a
// shell on the device. Wrap the firmware's slog handler with Wrap: every
// record still goes to it, and a text rendering of it goes to a Ring.
package logtail

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// DefaultLines is how many lines the firmware keeps.
const DefaultLines = 1000

// MaxLine bounds one kept line, so a huge attribute cannot hold much memory.
const MaxLine = 2048

// Ring holds the last lines written to it, oldest first; its size is fixed.
type Ring struct {
	mu    sync.Mutex
	lines []string
	next  int // where the next line goes
	full  bool
}

// NewRing keeps the last n lines (at least 1).
func NewRing(n int) *Ring { return &Ring{lines: make([]string, max(n, 1))} }

// Cap is how many lines the ring keeps.
func (r *Ring) Cap() int { return len(r.lines) }

// Write keeps p as one line (slog's text handler writes each record in one
// Write), without its trailing newline and cut at MaxLine bytes.
func (r *Ring) Write(p []byte) (int, error) {
	s := strings.TrimRight(string(p), "\n")
	if len(s) > MaxLine {
		s = strings.ToValidUTF8(s[:MaxLine], "") + " …"
	}
	r.mu.Lock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
	return len(p), nil
}

// Last returns up to n of the newest lines, oldest first.
func (r *Ring) Last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := r.next
	if r.full {
		have = len(r.lines)
	}
	n = min(max(n, 0), have)
	out := make([]string, n)
	for i := range n {
		out[i] = r.lines[(r.next-n+i+len(r.lines))%len(r.lines)]
	}
	return out
}

// RingOf returns the ring that l's handler keeps lines in, or nil if its
// handler is not one of Wrap's.
func RingOf(l *slog.Logger) *Ring {
	if h, ok := l.Handler().(*Handler); ok {
		return h.ring
	}
	return nil
}

// Handler sends each record to the wrapped handler and a text rendering of
// it to a Ring.
type Handler struct {
	next slog.Handler
	text slog.Handler // writes into ring
	ring *Ring
}

// Wrap returns a handler that logs to next and keeps a copy of each record
// that next takes in ring. The ring sees the records next is enabled for.
func Wrap(next slog.Handler, ring *Ring) *Handler {
	return &Handler{next: next, text: slog.NewTextHandler(ring, &slog.HandlerOptions{Level: slog.LevelDebug}), ring: ring}
}

// Enabled is the next handler's: the ring keeps what the log shows.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle writes r to the ring, then to the next handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	_ = h.text.Handle(ctx, r) // the ring never fails
	return h.next.Handle(ctx, r)
}

// WithAttrs adds attributes to both the ring's lines and the next handler's.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), text: h.text.WithAttrs(as), ring: h.ring}
}

// WithGroup opens a group in both the ring's lines and the next handler's.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), text: h.text.WithGroup(name), ring: h.ring}
}
