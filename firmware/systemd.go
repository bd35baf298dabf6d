package main

// The firmware under systemd (packaging/debian/deskphone.service, Type=notify):
// readiness, status lines, watchdog pings and stopping over sd_notify, and
// log lines that journald stores with their priority. Outside systemd
// (NOTIFY_SOCKET and JOURNAL_STREAM unset) all of it is a no-op.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"deskphone/phone"
	"deskphone/phone/event"
)

// sd_notify states (sd_notify(3)).
const (
	sdReady     = daemon.SdNotifyReady
	sdStopping  = daemon.SdNotifyStopping
	sdReloading = daemon.SdNotifyReloading
	sdWatchdog  = daemon.SdNotifyWatchdog
)

// notify sends one sd_notify message; without NOTIFY_SOCKET it does nothing.
func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "error", err)
	}
}

// notifyStatus sets the one-line status `systemctl status` shows.
func notifyStatus(log *slog.Logger, format string, args ...any) {
	notify(log, "STATUS="+fmt.Sprintf(format, args...))
}

// watchdog pings systemd at half of WatchdogSec (WATCHDOG_USEC) until ctx
// ends. Each ping first calls alive, which takes the phone's locks: a phone
// stuck on a lock stops the pings and systemd restarts it.
func watchdog(ctx context.Context, log *slog.Logger, alive func()) {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog: ignoring a malformed WATCHDOG_USEC", "error", err)
		return
	}
	if every <= 0 {
		return
	}
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			alive()
			notify(log, sdWatchdog)
		}
	}
}

// followRegistration turns the phone's registration events into status
// lines until the subscription ends.
func followRegistration(log *slog.Logger, events <-chan event.Event) {
	for e := range events {
		if e.Name != event.Registration {
			continue
		}
		r, ok := e.Data.(phone.RegistrationInfo)
		if !ok {
			continue
		}
		switch {
		case r.State == "registered":
			notifyStatus(log, "registered")
		case r.Code != 0:
			notifyStatus(log, "not registered (%s: %d %s)", r.State, r.Code, r.Reason)
		case r.Reason != "":
			notifyStatus(log, "not registered (%s: %s)", r.State, r.Reason)
		default:
			notifyStatus(log, "not registered (%s)", r.State)
		}
	}
}

// newLogger logs key=value text to f at level. Under systemd, where
// JOURNAL_STREAM names f, each line starts with the sd-daemon priority
// prefix <N> (journald strips it and stores it as the entry's PRIORITY, so
// `journalctl -p warning` works) and the time is left to journald.
//
// This over go-systemd's journal package: one stream keeps the Go runtime's
// own panic output in order with the logs, nothing depends on the journal
// socket, and `journalctl -u deskphone` shows the key=value fields on the
// line (the journal package would move them into fields the default view
// hides).
func newLogger(f *os.File, level slog.Leveler) *slog.Logger {
	if !journalStream(f) {
		return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(newJournalHandler(f, level))
}

// journalStream reports whether f is the stream systemd connected to the
// journal: JOURNAL_STREAM holds its "device:inode" (systemd.exec(5)), so a
// child whose stderr was redirected elsewhere does not mistake it.
func journalStream(f *os.File) bool {
	v := os.Getenv("JOURNAL_STREAM")
	if v == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return v == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// journalHandler is slog's text handler with the priority prefix.
type journalHandler struct {
	slog.Handler
	out *prefixWriter
}

// prefixWriter puts prefix before each write; the text handler writes one
// record per Write, and journalHandler holds mu across it.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func newJournalHandler(w io.Writer, level slog.Leveler) *journalHandler {
	out := &prefixWriter{w: w}
	dropTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	return &journalHandler{
		Handler: slog.NewTextHandler(out, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime}),
		out:     out,
	}
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	h.out.prefix = priority(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{Handler: h.Handler.WithAttrs(as), out: h.out}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{Handler: h.Handler.WithGroup(name), out: h.out}
}

// priority is the sd-daemon(3) prefix for a level: err, warning, info, debug.
func priority(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "<3>"
	case l >= slog.LevelWarn:
		return "<4>"
	case l >= slog.LevelInfo:
		return "<6>"
	default:
		return "<7>"
	}
}
