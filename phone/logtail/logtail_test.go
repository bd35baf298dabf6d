package logtail

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRingKeepsTheNewest(t *testing.T) {
	r := NewRing(3)
	if got := r.Last(10); len(got) != 0 {
		t.Fatalf("empty ring: Last = %q", got)
	}
	for i := range 5 {
		fmt.Fprintf(r, "line %d\n", i)
	}
	if got, want := r.Last(10), []string{"line 2", "line 3", "line 4"}; !slices.Equal(got, want) {
		t.Fatalf("Last(10) = %q, want %q", got, want)
	}
	if got, want := r.Last(2), []string{"line 3", "line 4"}; !slices.Equal(got, want) {
		t.Fatalf("Last(2) = %q, want %q", got, want)
	}
	if got := r.Last(-1); len(got) != 0 {
		t.Fatalf("Last(-1) = %q", got)
	}
}

func TestRingCutsLongLines(t *testing.T) {
	r := NewRing(2)
	_, _ = r.Write([]byte(strings.Repeat("é", MaxLine))) // never fails; 2 bytes each: cut inside a rune
	got := r.Last(1)[0]
	if len(got) > MaxLine+len(" …") || !strings.HasSuffix(got, " …") || !strings.HasPrefix(got, "éé") {
		t.Fatalf("long line kept as %d bytes ending %q", len(got), got[len(got)-8:])
	}
	if !utf8Valid(got) {
		t.Fatal("cut line is not valid UTF-8")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestWrapLogsToBoth(t *testing.T) {
	var out bytes.Buffer
	ring := NewRing(10)
	log := slog.New(Wrap(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}), ring))
	log.Debug("hidden")
	log.With("call", "abc").WithGroup("sip").Info("ringing", "code", 180)
	log.Warn("lost", "attempt", 2)
	if RingOf(log.With("a", 1)) != ring || RingOf(slog.Default()) != nil {
		t.Fatal("RingOf does not find the wrapped logger's ring")
	}
	got := ring.Last(10)
	if len(got) != 2 {
		t.Fatalf("ring has %q, want the info and warn lines only (the debug one is below the handler's level)", got)
	}
	if !strings.Contains(got[0], `msg=ringing call=abc sip.code=180`) || !strings.Contains(got[1], "level=WARN msg=lost attempt=2") {
		t.Fatalf("ring lines %q lack the record's attributes", got)
	}
	if !strings.Contains(out.String(), "msg=ringing call=abc sip.code=180") || strings.Contains(out.String(), "hidden") {
		t.Fatalf("wrapped handler got %q", out.String())
	}
}

func TestRingConcurrent(t *testing.T) {
	ring := NewRing(50)
	log := slog.New(Wrap(slog.NewTextHandler(io.Discard, nil), ring))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				log.Info("x", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if got := ring.Last(100); len(got) != 50 {
		t.Fatalf("ring holds %d lines, want its 50", len(got))
	}
}
