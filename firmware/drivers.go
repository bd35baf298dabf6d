package main

// The drivers this firmware ships, registered with boards so that a board
// profile (boards/*.yaml) can name them: the simulated board's parts here,
// the periph.io drivers for real boards (boards/periphparts), and ALSA
// sound in cgo builds (drivers_alsa.go).

import (
	"fmt"
	"log/slog"

	"deskphone/boards"
	_ "deskphone/boards/periphparts" // keypads, HD44780 and SSD1306 displays on periph.io
	"deskphone/config"
	"deskphone/hal"
	"deskphone/hal/sim"
)

// The simulated board is one device serving every part of the sim profile.
func init() {
	boards.RegisterKeypad("sim", func(env *boards.Env, _ *boards.KeypadPart) (hal.Keypad, error) { return simBoard(env) })
	boards.RegisterLEDs("sim", func(env *boards.Env, _ *boards.LEDsPart) (hal.LEDs, error) { return simBoard(env) })
	boards.RegisterDisplay("sim", func(env *boards.Env, _ *boards.DisplayPart) (hal.Display, error) { return simBoard(env) })
	boards.RegisterHook("sim", func(env *boards.Env, _ *boards.HookPart) (hal.Hook, error) { return simBoard(env) })
	boards.RegisterAudio("sim", func(env *boards.Env, _ *boards.AudioPart) (hal.Audio, error) { return simBoard(env) })
}

// simBoard opens the board's one simulated device on first use: the
// profile gives the display size and keys, the config's sim settings the
// microphone and speaker.
func simBoard(env *boards.Env) (*sim.Board, error) {
	v, err := env.Shared("sim", func() (any, error) {
		opts, _ := env.Settings["sim"].(sim.Options)
		p := env.Profile
		opts.Rows, opts.Cols, opts.ExtraKeys = p.Display.Rows, p.Display.Cols, p.Keys()
		b, err := sim.New(opts)
		if err != nil {
			return nil, err
		}
		env.SetPanel(&simPanel{board: b})
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sim.Board), nil
}

// simPanel adapts the simulated board to the control API's panel.
type simPanel struct{ board *sim.Board }

func (s *simPanel) Press(key string) error { return s.board.Press(hal.Key(key)) }
func (s *simPanel) Snapshot() any          { return s.board.Panel() }

// simOf returns the simulated device behind board, or nil on other boards.
func simOf(board hal.Board) *sim.Board {
	if b, ok := board.(*boards.Board); ok {
		if p, ok := b.Panel().(*simPanel); ok {
			return p.board
		}
	}
	return nil
}

// openBoard brings up the configured board from its profile with the
// registered drivers. panel is the board's readable front panel, if it has
// one; sim is the simulated device on the sim board (the console's keys).
func openBoard(cfg *config.Config, log *slog.Logger) (board *boards.Board, panel boards.Panel, simp *simPanel, err error) {
	for _, w := range cfg.Warnings { // a deprecated key; SRTP keys in clear SIP
		log.Warn("config: " + w.String())
	}
	prof, err := boards.Load(cfg.Board)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("board: %w", err)
	}
	b, err := boards.Open(&boards.Env{Profile: prof, Log: log, Settings: map[string]any{
		"sim": sim.Options{Input: cfg.Sim.Input, Output: cfg.Sim.Output},
	}})
	if err != nil {
		return nil, nil, nil, err
	}
	panel = b.Panel()
	simp, _ = panel.(*simPanel)
	return b, panel, simp, nil
}
