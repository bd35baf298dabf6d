package sipua

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A flood of sipgo records becomes a bounded trickle of short lines, and
// the next line says how many were dropped.
func TestQuietLogger(t *testing.T) {
	var buf bytes.Buffer
	l := newQuietLogger(slog.New(slog.NewTextHandler(&buf, nil)), 3, time.Hour)
	garbage := strings.Repeat("A", 5000)
	for i := 0; i < 200; i++ {
		l.Error("failed to parse", "data", garbage)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 200 records, want the burst of 3", len(lines))
	}
	for _, ln := range lines {
		if len(ln) > 400 || !strings.Contains(ln, "(5000 bytes)") {
			t.Errorf("line not cut: %d bytes: %.80s", len(ln), ln)
		}
	}
	lim := &logLimiter{burst: 1, interval: time.Second, tokens: 1}
	now := time.Now()
	lim.allow(now)
	for i := 0; i < 5; i++ {
		if ok, _ := lim.allow(now); ok {
			t.Fatal("allowed past the burst")
		}
	}
	if ok, dropped := lim.allow(now.Add(time.Second)); !ok || dropped != 5 {
		t.Errorf("after an interval: ok %v dropped %d, want true 5", ok, dropped)
	}
}
