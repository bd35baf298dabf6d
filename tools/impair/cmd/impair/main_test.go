package main

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"deskphone/tools/impair"
)

func TestParseRanges(t *testing.T) {
	got, err := parseRanges("16384-16584, 20000")
	if want := []impair.PortRange{{Lo: 16384, Hi: 16584}, {Lo: 20000, Hi: 20000}}; err != nil || !slices.Equal(got, want) {
		t.Errorf("parseRanges = %v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"", "x-1", "5-1", "0-10", "1-70000"} {
		if _, err := parseRanges(bad); err == nil {
			t.Errorf("parseRanges(%q) accepted", bad)
		}
	}
}

func TestCommandsChangeSettingsLive(t *testing.T) {
	r, err := impair.Start(impair.Config{Addr: netip.MustParseAddr("127.0.0.77"), Target: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, line := range []string{"loss 0.1", "jitter 50ms", "dist normal", "reorder 0.02", "dup 0.01", "delay 5ms", "stats", ""} {
		if err := command(r, line); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	want := impair.Settings{Loss: 0.1, Jitter: 50 * time.Millisecond, Dist: "normal", Reorder: 0.02, Duplicate: 0.01, Delay: 5 * time.Millisecond}
	if got := r.Settings(); got != want {
		t.Errorf("settings %+v, want %+v", got, want)
	}
	for _, bad := range []string{"loss 2", "loss x", "speed 3", "jitter"} {
		if err := command(r, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
