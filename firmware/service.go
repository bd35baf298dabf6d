package main

// The running service: one device at a time, started from the config file,
// replaced when SIGHUP (systemctl reload) brings a changed file, and told to
// systemd (systemd.go) as it goes.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"deskphone/config"
	"deskphone/config/provision"
	"deskphone/hal/sim"
	"deskphone/hal/wav"
	"deskphone/phone/event"
)

// service owns the current device. Only run's goroutine changes it; the
// watchdog and the console read it through mu.
type service struct {
	path    string
	log     *slog.Logger
	bus     *event.Bus // kept across reloads, so event ids go on
	console bool

	mu       sync.Mutex
	dev      *device
	loaded   config.Config      // the file as loaded: start's provisioning fills in a copy
	stopDev  context.CancelFunc // the current device's console goroutines
	pending  *config.Config     // a changed config waiting for the calls to end
	waitLogs int                // calls last reported as holding up the reload
}

// newService prepares a service for the config file at path; bus may be
// nil (tests pass theirs to see every event).
func newService(path string, console bool, log *slog.Logger, bus *event.Bus) *service {
	if bus == nil {
		bus = event.NewBus()
	}
	return &service{path: path, console: console, log: log, bus: bus}
}

// run starts the phone from cfg, tells systemd it is ready and serves until
// ctx ends: SIGHUP reloads, and each second a reload held up by a call is
// tried again. It returns once the phone is closed.
func (s *service) run(ctx context.Context, cfg *config.Config) error {
	// Before the phone starts: the signal's default action would kill us.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	events, unsubscribe := s.bus.Subscribe(64)
	defer unsubscribe()
	go followRegistration(s.log, events)

	if err := s.startDevice(ctx, cfg); err != nil {
		return err
	}
	notify(s.log, sdReady)
	wctx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go watchdog(wctx, s.log, s.alive)

	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			notify(s.log, sdStopping)
			s.log.Info("shutting down: un-registering")
			return s.stopDevice()
		case <-hup:
			if err := s.reload(ctx); err != nil {
				notify(s.log, sdStopping)
				return err
			}
		case <-retry.C:
			if err := s.applyPending(ctx); err != nil {
				notify(s.log, sdStopping)
				return err
			}
		}
	}
}

// device is the phone running now.
func (s *service) device() *device {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev
}

// alive is the watchdog's check: it returns only if the phone's locks can
// be taken.
func (s *service) alive() {
	if d := s.device(); d != nil {
		_ = d.phone.State()
	}
}

// startDevice brings up a device from cfg and makes it the current one.
func (s *service) startDevice(ctx context.Context, cfg *config.Config) error {
	loaded := *cfg // provisioning rewrites cfg.Account; Account holds no pointers
	d, err := start(ctx, cfg, s.log, s.bus)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.dev, s.loaded, s.stopDev = d, loaded, cancel
	s.mu.Unlock()
	s.log.Info("deskphone running", "config", s.path, "board", d.board.Name(), "extension", cfg.Account.User, "registrar", cfg.Account.Registrar, "api", "http://"+d.apiAddr)
	if s.console && d.panel != nil {
		go printPanel(dctx, d.panel.board, os.Stdout)
	}
	return nil
}

// stopDevice closes the current device: un-registers, stops the API,
// releases the board.
func (s *service) stopDevice() error {
	s.mu.Lock()
	d, cancel := s.dev, s.stopDev
	s.mu.Unlock()
	cancel()
	return d.close()
}

// consoleBoard is the simulated board the console's keys go to.
func (s *service) consoleBoard() *sim.Board {
	if d := s.device(); d != nil && d.panel != nil {
		return d.panel.board
	}
	return nil
}

// reload reads the config file again (SIGHUP). A file that does not load
// is logged with its line-numbered problems and the phone keeps running
// as it is; an unchanged file changes nothing; a file that changes only
// calls.hold_music is applied live; any other change replaces the phone
// (applyPending), because phone.Phone reads its config from many goroutines
// without a lock and cannot take a new one while it runs. The error is for
// a phone that cannot be brought back at all.
func (s *service) reload(ctx context.Context) error {
	s.log.Info("reload: reading the configuration again", "config", s.path)
	cfg, err := provision.Load(ctx, s.path, s.log) // fetched again when provisioning is on
	if err != nil {
		s.log.Error("reload: configuration not applied; the phone keeps its current one", "config", s.path, "error", err)
		notifyStatus(s.log, "reload failed: %s has errors (see the log); running with the previous configuration", s.path)
		return nil
	}
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if reflect.DeepEqual(*cfg, loaded) {
		s.pending = nil
		s.log.Info("reload: configuration unchanged")
		return nil
	}
	if onlyHoldMusicChanged(cfg, &loaded) {
		s.pending = nil
		return s.applyHoldMusic(cfg)
	}
	s.pending, s.waitLogs = cfg, 0
	return s.applyPending(ctx)
}

// onlyHoldMusicChanged reports whether a and b differ in calls.hold_music
// alone, which Phone.SetHoldMusic can change while the phone runs.
func onlyHoldMusicChanged(a, b *config.Config) bool {
	c := *a
	c.Calls.HoldMusic = b.Calls.HoldMusic
	return reflect.DeepEqual(c, *b)
}

func (s *service) applyHoldMusic(cfg *config.Config) error {
	d := s.device()
	if cfg.Calls.HoldMusic == "" {
		d.phone.SetHoldMusic(nil, 0)
	} else {
		a, err := wav.ReadFile(cfg.Calls.HoldMusic)
		if err != nil {
			s.log.Error("reload: calls.hold_music not applied; the phone keeps its current music", "error", err)
			return nil
		}
		d.phone.SetHoldMusic(a.Mono(), a.Rate)
	}
	s.mu.Lock()
	s.loaded.Calls.HoldMusic = cfg.Calls.HoldMusic
	s.mu.Unlock()
	s.log.Info("reload: applied live", "calls.hold_music", cfg.Calls.HoldMusic)
	return nil
}

// applyPending replaces the phone with one built from the pending config,
// once no call is up: a reload never cuts an agent's call. If the new
// config does not start (say, api.listen is taken), the previous one is
// started again; the error is for when that fails too.
func (s *service) applyPending(ctx context.Context) error {
	cfg := s.pending
	if cfg == nil {
		return nil
	}
	if n := len(s.device().phone.State().Sessions); n > 0 {
		if n != s.waitLogs {
			s.waitLogs = n
			s.log.Info("reload: waiting for the calls to end before restarting the phone", "calls", n)
			notifyStatus(s.log, "reload waiting for %d call(s) to end", n)
		}
		return nil
	}
	s.pending = nil
	notify(s.log, sdReloading)
	s.log.Info("reload: restarting the phone with the new configuration")
	s.mu.Lock()
	previous := s.loaded
	s.mu.Unlock()
	if err := s.stopDevice(); err != nil {
		s.log.Warn("reload: closing the previous phone", "error", err)
	}
	if err := s.startDevice(ctx, cfg); err != nil {
		s.log.Error("reload: the new configuration does not start; starting the previous one again", "error", err)
		notifyStatus(s.log, "reload failed: %v; running with the previous configuration", err)
		if err2 := s.startDevice(ctx, &previous); err2 != nil {
			return fmt.Errorf("reload: neither the new configuration (%w) nor the previous one (%w) starts", err, err2)
		}
	}
	notify(s.log, sdReady)
	return nil
}
