package hil

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Client speaks the console protocol (phone/console) over a line: it sends
// one command at a time and keeps every pushed event, so that a script
// can wait for an event that came before it asked.
type Client struct {
	w    io.Writer
	cmd  sync.Mutex  // one command at a time
	resp chan string // response lines, in order

	mu     sync.Mutex
	events []Event
	used   []bool
	wake   chan struct{} // a new event, or the line ended
	err    error         // why reading stopped; nil while it runs
}

// Event is one pushed "event NAME JSON" line.
type Event struct {
	Name string
	Data json.RawMessage
	At   time.Time
}

// NewClient reads rw's lines until it fails (close rw to stop).
func NewClient(rw io.ReadWriter) *Client {
	c := &Client{w: rw, resp: make(chan string, 256), wake: make(chan struct{}, 1)}
	go c.read(rw)
	return c
}

func (c *Client) read(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("the console line ended: %w", err)
			c.mu.Unlock()
			close(c.resp)
			c.signal()
			return
		}
		if rest, ok := strings.CutPrefix(line, "event "); ok {
			name, data, _ := strings.Cut(rest, " ")
			c.mu.Lock()
			c.events = append(c.events, Event{Name: name, Data: json.RawMessage(data), At: time.Now()})
			c.used = append(c.used, false)
			c.mu.Unlock()
			c.signal()
			continue
		}
		if line == "" {
			continue
		}
		select {
		case c.resp <- line:
		default: // nobody asked: a stale answer; drop rather than block events
		}
	}
}

func (c *Client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// ConsoleError is an "err MESSAGE" answer.
type ConsoleError struct{ Cmd, Msg string }

func (e *ConsoleError) Error() string { return fmt.Sprintf("console answered %q: %s", e.Cmd, e.Msg) }

// Do sends one command and returns its data lines, or a *ConsoleError for
// an err answer; ctx bounds the wait.
func (c *Client) Do(ctx context.Context, cmd string) ([]string, error) {
	c.cmd.Lock()
	defer c.cmd.Unlock()
	for drained := false; !drained; { // answers to an earlier command that timed out
		select {
		case _, ok := <-c.resp:
			if !ok {
				return nil, c.readErr()
			}
		default:
			drained = true
		}
	}
	if _, err := io.WriteString(c.w, cmd+"\n"); err != nil {
		return nil, fmt.Errorf("sending %q: %w", cmd, err)
	}
	var data []string
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer to %q: %w (is the phone's console.serial this line, at this speed?)", cmd, ctx.Err())
		case l, ok := <-c.resp:
			if !ok {
				return nil, c.readErr()
			}
			switch {
			case l == "ok":
				return data, nil
			case strings.HasPrefix(l, "err "):
				return nil, &ConsoleError{Cmd: cmd, Msg: strings.TrimPrefix(l, "err ")}
			default:
				data = append(data, l)
			}
		}
	}
}

func (c *Client) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return errors.New("the console line ended")
	}
	return c.err
}

// WaitEvent returns the oldest event not yet returned that is named name
// and that match (may be nil) accepts, waiting until ctx ends.
func (c *Client) WaitEvent(ctx context.Context, name string, match func(json.RawMessage) bool) (Event, error) {
	for {
		c.mu.Lock()
		for i, e := range c.events {
			if !c.used[i] && e.Name == name && (match == nil || match(e.Data)) {
				c.used[i] = true
				c.mu.Unlock()
				return e, nil
			}
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return Event{}, err
		}
		select {
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-c.wake:
		}
	}
}

// Seen lists the names of the events received so far, for failure reports.
func (c *Client) Seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.events))
	for i, e := range c.events {
		out[i] = e.Name
	}
	return out
}
