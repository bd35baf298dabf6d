package main

import (
	"log/slog"
	"strings"
	"testing"

	"deskphone/boards/periphparts"
	"deskphone/config"
	"deskphone/hal"
)

// Every board opens: the sim anywhere, a real board's profile on a machine
// without GPIO as a boot error that says so.
func TestOpenBoard(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cfg := config.Default()
	b, readback, simp, err := openBoard(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if readback == nil || simp == nil || simOf(b) != simp.board {
		t.Fatalf("sim board: panel %v, sim %v", readback, simp)
	}
	if err := readback.Press("free"); err != nil {
		t.Errorf("the panel does not press the profile's status keys: %v", err)
	}
	if k := <-b.Presses(); k != hal.KeyFree {
		t.Errorf("pressed free, the board delivered %q", k)
	}
	if r, c := b.Size(); r != 4 || c != 20 {
		t.Errorf("sim display %dx%d, want the profile's 4x20", r, c)
	}

	if !noGPIO() {
		t.Skip("this machine has GPIO: the rest is for machines without")
	}
	for _, name := range []string{"rpi3", "rpi4", "rpi5", "rpizero2w"} {
		cfg.Board = name
		_, _, _, err := openBoard(cfg, log)
		if err == nil || !strings.Contains(err.Error(), "board "+name+": keypad (") || !strings.Contains(err.Error(), "no GPIO on this machine: ") {
			t.Errorf("board %s here: %v, want a boot error saying there is no GPIO", name, err)
		}
	}
	cfg.Board = "rpi9"
	if _, _, _, err := openBoard(cfg, log); err == nil || !strings.Contains(err.Error(), `unknown board "rpi9"; known boards: pc, rpi3, rpi4, rpi5, rpizero2w, sim`) {
		t.Errorf("unknown board: %v", err)
	}
}

func noGPIO() bool { return periphparts.HasGPIO() != nil }
