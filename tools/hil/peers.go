package hil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"deskphone/tools/labkit"
)

// Lab starts and drives far ends (baresip, through tools/labkit) for peer
// steps: each registers as its extension on Registrar, the registrar the
// phone under test uses.
type Lab struct {
	Registrar string            // host:port
	Passwords map[string]string // extension → SIP password
	Dir       string            // where each peer's config and log go

	mu    sync.Mutex
	peers map[string]*labkit.Baresip
}

// Do runs one peer action: start [auto|manual], dial NUMBER, answer,
// hangup, dtmf DIGITS or stop.
func (l *Lab) Do(user, action string, args []string) error {
	if action == "start" {
		return l.start(user, args)
	}
	b, err := l.peer(user)
	if err != nil {
		return err
	}
	switch action {
	case "dial":
		return b.Dial(b.URI(args[0]))
	case "answer":
		return b.Answer()
	case "hangup":
		return b.Hangup()
	case "dtmf":
		return b.SendDTMF(args[0])
	case "stop":
		l.mu.Lock()
		delete(l.peers, user)
		l.mu.Unlock()
		return b.Stop()
	}
	return fmt.Errorf("peer baresip %s: unknown action %q", user, action)
}

func (l *Lab) start(user string, args []string) error {
	pw, ok := l.Passwords[user]
	if !ok {
		return fmt.Errorf("peer baresip %s: no password for %s; give -peer %s:PASSWORD", user, user, user)
	}
	mode := "manual"
	if len(args) == 1 {
		mode = args[0]
	}
	l.mu.Lock()
	_, running := l.peers[user]
	l.mu.Unlock()
	if running {
		return fmt.Errorf("peer baresip %s is already running; stop it first", user)
	}
	dir := filepath.Join(l.Dir, "baresip-"+user)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("peer baresip %s: %w", user, err)
	}
	b, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: dir, User: user, Password: pw, Registrar: l.Registrar, AnswerMode: mode, Codecs: "PCMU,PCMA",
	})
	if err != nil {
		return fmt.Errorf("peer baresip %s: %w", user, err)
	}
	l.mu.Lock()
	if l.peers == nil {
		l.peers = map[string]*labkit.Baresip{}
	}
	l.peers[user] = b
	l.mu.Unlock()
	return nil
}

func (l *Lab) peer(user string) (*labkit.Baresip, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.peers[user]
	if !ok {
		return nil, fmt.Errorf("peer baresip %s is not running; start it first: peer baresip %s start", user, user)
	}
	return b, nil
}

// WaitEvent waits for the peer's next baresip event of this type (e.g.
// CALL_ESTABLISHED, CALL_CLOSED); events are kept from its start.
func (l *Lab) WaitEvent(ctx context.Context, user, typ string) error {
	b, err := l.peer(user)
	if err != nil {
		return err
	}
	_, err = b.WaitEvent(ctx, typ)
	return err
}

// Logs is every running peer's log, for a failed run's report.
func (l *Lab) Logs() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	users := make([]string, 0, len(l.peers))
	for u := range l.peers {
		users = append(users, u)
	}
	sort.Strings(users)
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "--- baresip %s ---\n%s\n", u, l.peers[u].Log())
	}
	return b.String()
}

// Close stops every peer still running.
func (l *Lab) Close() error {
	l.mu.Lock()
	peers := l.peers
	l.peers = nil
	l.mu.Unlock()
	var errs []string
	for u, b := range peers {
		if err := b.Stop(); err != nil {
			errs = append(errs, fmt.Sprintf("baresip %s: %v", u, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("hil: stopping peers: %s", strings.Join(errs, "; "))
	}
	return nil
}
