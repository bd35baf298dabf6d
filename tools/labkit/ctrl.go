package labkit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Event is one event baresip reports over ctrl_tcp.
type Event struct {
	Type       string `json:"type"`  // e.g. CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK
	Class      string `json:"class"` // "call", "register", ...
	Param      string `json:"param"` // depends on the type: the reason for CALL_CLOSED, the digit for CALL_DTMF_START
	PeerURI    string `json:"peeruri"`
	PeerName   string `json:"peerdisplayname"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"` // "incoming" or "outgoing"
	CallID     string `json:"id"`
	// RTCPStats is CALL_RTCP's (an RTCP sender report arrived): what
	// baresip's RTCP says of the call, as it encodes it.
	RTCPStats json.RawMessage `json:"rtcp_stats,omitempty"`
}

// ctrlMsg is either a response or an event: baresip sends both on one
// connection.
type ctrlMsg struct {
	IsEvent  bool   `json:"event"`
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Token    string `json:"token"`
	Event           // the event's fields, when IsEvent
}

// maxEvents bounds the unconsumed events kept (CALL_RTCP arrives every 5 s).
const maxEvents = 1000

// ctrl is a ctrl_tcp connection with a reader that keeps every event.
type ctrl struct {
	conn net.Conn

	cmdMu sync.Mutex // one command in flight: responses carry our token anyway
	seq   int

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced whenever events or resp change
	resp    map[string]ctrlMsg
	readErr error
}

// dialCtrl connects to addr, from inside ns if it is not nil.
func dialCtrl(ns *NetNS, addr string, timeout time.Duration) (*ctrl, error) {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := ns.dialTimeout("tcp", addr, time.Second)
		if err == nil {
			c := &ctrl{conn: conn, changed: make(chan struct{}), resp: map[string]ctrlMsg{}}
			go c.read()
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("ctrl_tcp %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *ctrl) read() {
	r := bufio.NewReader(c.conn)
	var err error
	for {
		var b []byte
		if b, err = readNetstring(r); err != nil {
			break
		}
		var m ctrlMsg
		if json.Unmarshal(b, &m) != nil {
			continue // not ours to judge: keep reading
		}
		c.mu.Lock()
		switch {
		case m.Response:
			c.resp[m.Token] = m
		case m.IsEvent:
			if len(c.events) >= maxEvents { // a long lab run: forget the oldest
				c.events = c.events[1:]
			}
			c.events = append(c.events, m.Event)
		}
		c.notifyLocked()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.readErr = err
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *ctrl) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// command sends one command and waits for its response.
func (c *ctrl) command(ctx context.Context, cmd, params string) (string, error) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	c.seq++
	token := "labkit-" + strconv.Itoa(c.seq)
	b, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": token})
	if _, err := c.conn.Write(appendNetstring(nil, b)); err != nil {
		return "", fmt.Errorf("baresip %s: %w", cmd, err)
	}
	for {
		c.mu.Lock()
		m, ok := c.resp[token]
		delete(c.resp, token)
		changed, rerr := c.changed, c.readErr
		c.mu.Unlock()
		if ok {
			if !m.OK {
				return m.Data, fmt.Errorf("baresip %s %s: %s", cmd, params, m.Data)
			}
			return m.Data, nil
		}
		if rerr != nil {
			return "", fmt.Errorf("baresip %s: connection lost: %w", cmd, rerr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("baresip %s: no response: %w", cmd, ctx.Err())
		}
	}
}

// waitEvent removes and returns the oldest unconsumed event that match
// accepts, waiting for one if needed; what names it in errors.
func (c *ctrl) waitEvent(ctx context.Context, what string, match func(Event) bool) (Event, error) {
	for {
		c.mu.Lock()
		for i, e := range c.events {
			if match(e) {
				c.events = append(c.events[:i], c.events[i+1:]...)
				c.mu.Unlock()
				return e, nil
			}
		}
		changed, rerr := c.changed, c.readErr
		c.mu.Unlock()
		if rerr != nil {
			return Event{}, fmt.Errorf("waiting for baresip event %s: connection lost: %w", what, rerr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for baresip event %s: %w", what, ctx.Err())
		}
	}
}

func (c *ctrl) close() error { return c.conn.Close() }

// Netstrings (https://cr.yp.to/proto/netstrings.txt): "LEN:DATA,".

const maxNetstring = 1 << 20

func appendNetstring(dst, b []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, ':')
	dst = append(dst, b...)
	return append(dst, ',')
}

var errNetstring = errors.New("malformed netstring")

func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > maxNetstring {
		return nil, fmt.Errorf("%w: length %q", errNetstring, head)
	}
	b := make([]byte, n+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[n] != ',' {
		return nil, fmt.Errorf("%w: no ',' after %d bytes", errNetstring, n)
	}
	return b[:n], nil
}
