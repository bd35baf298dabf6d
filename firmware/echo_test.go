//go:build cgo

package main

import (
	"log/slog"
	"testing"

	"deskphone/config"
	"deskphone/hal/aec"
)

// audio.echo_cancel reaches the phone's sound: auto follows the route on
// a board with routes (pc: alsa) and stays off on one without (sim); off
// leaves the board's sound as it is.
func TestEchoCancelWiring(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		board, mode string
		routed, on  bool // wrapped with routes; cancelling on at start
	}{
		{"sim", "auto", false, false},
		{"sim", "on", false, true},
		{"pc", "auto", true, false},
		{"pc", "on", true, true},
	} {
		cfg := config.Default()
		cfg.Board, cfg.Audio.EchoCancel = tc.board, tc.mode
		b, _, _, err := openBoard(cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		sound := echoCancel(cfg, b.Sound(), log)
		ctl, ok := sound.(interface{ Enabled() bool })
		if !ok {
			t.Fatalf("%s, %s: the phone's sound is a %T, not echo cancelling", tc.board, tc.mode, sound)
		}
		r, routed := sound.(*aec.RoutedAudio)
		if routed != tc.routed || ctl.Enabled() != tc.on {
			t.Errorf("%s, %s: routed %v, enabled %v; want %v, %v", tc.board, tc.mode, routed, ctl.Enabled(), tc.routed, tc.on)
		}
		if routed {
			if err := r.SetAudioRoute("speaker"); err != nil || !r.Enabled() {
				t.Errorf("%s, %s: setAudioRoute speaker: %v, enabled %v; want on", tc.board, tc.mode, err, r.Enabled())
			}
			if err := r.SetAudioRoute("headset"); err != nil || r.Enabled() != (tc.mode == "on") {
				t.Errorf("%s, %s: setAudioRoute headset: %v, enabled %v", tc.board, tc.mode, err, r.Enabled())
			}
		}
		cfg.Audio.EchoCancel = "off"
		if off := echoCancel(cfg, b.Sound(), log); off != b.Sound() {
			t.Errorf("%s, off: the phone's sound is a %T; want the board's own", tc.board, off)
		}
		b.Close()
	}
}
