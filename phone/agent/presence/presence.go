// Package presence is the "sip" agent-status backend: the agent status
// travels as SIP presence through the registrar's presence server.
//
// Report PUBLISHes (RFC 3903, Event: presence) a PIDF document (RFC 3863)
// for the agent's own AOR; Watch SUBSCRIBEs to that AOR and turns the
// NOTIFYs — the server's aggregate of every device's publication — into
// agent.Changes.
//
// # Document
//
// One tuple per device; its id ("dp-" and random hex unless
// Options.TupleID says otherwise) tells this device's publication from the
// others'. basic is open for free and closed otherwise. The exact status is
// in an extension element that declares its own namespace
// urn:deskphone:params:xml:ns:agent:
//
//	<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
//	          xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:1001@pbx">
//	 <tuple id="dp-5f0c…">
//	  <status><basic>closed</basic></status>
//	  <agent:agent xmlns:agent="urn:deskphone:params:xml:ns:agent"><agent:status>rest</agent:status><agent:reason>Meal</agent:reason><agent:since>2026-01-02T09:30:00Z</agent:since></agent:agent>
//	  <note>rest: Meal</note>
//	  <timestamp>2026-01-02T09:30:00Z</timestamp>
//	 </tuple>
//	 <dm:person id="p-dp-5f0c…"><rpid:activities><rpid:meal/></rpid:activities></dm:person>
//	</presence>
//
// agent:status is an SDK status name (agent.ParseStatus also takes the
// cloud API's afterCallWork); agent:reason is present for rest only;
// agent:since is RFC 3339 (UTC, nanoseconds when there are any) and falls
// back to the tuple's timestamp. The RPID activity (RFC 4480) is for
// watchers that know only standard presence: busy → on-the-phone,
// arrange/notReady → busy, rest → meal/meeting/away by reason, offline →
// permanent-absence, free → none.
//
// Of the tuples in a NOTIFY the one with the newest since wins; when that
// is this device's own (or ties with it) nothing is delivered. Tuples
// without the extension (other presence clients) are ignored. Changes
// never have Kicked set: presence has no notion of a takeover.
//
// Close the Backend (it removes this device's tuple) before the UA.
package presence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"deskphone/phone/agent"
	"deskphone/phone/sipua"
)

// Options configure a Backend.
type Options struct {
	// Expires is what PUBLISH and SUBSCRIBE ask for, in seconds (0: 600).
	Expires int
	// TupleID names this device's tuple ("": "dp-" and 12 random hex digits).
	TupleID string
	Logger  *slog.Logger
}

// Backend is the "sip" agent.Backend on one SIP user agent.
type Backend struct {
	ua   *sipua.UA
	opts Options
	pub  *sipua.Publication
}

var _ agent.Backend = (*Backend)(nil)

// New makes the backend; it sends nothing until Report or Watch.
func New(ua *sipua.UA, opts Options) *Backend {
	if opts.Expires <= 0 {
		opts.Expires = 600
	}
	if opts.TupleID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		opts.TupleID = "dp-" + hex.EncodeToString(b[:])
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := &Backend{ua: ua, opts: opts}
	b.pub = ua.NewPublication(sipua.PublishOptions{
		Event: "presence", Expires: opts.Expires,
		OnRefreshError: func(err error) {
			opts.Logger.Warn("agent status: refreshing the presence publication failed", "error", err)
		},
	})
	return b
}

// Name is "sip".
func (b *Backend) Name() string { return "sip" }

// TupleID is this device's tuple id.
func (b *Backend) TupleID() string { return b.opts.TupleID }

// Report publishes c. The server's final refusal is an *agent.RefusedError;
// no answer, a server failure or failed authentication are plain errors.
func (b *Backend) Report(ctx context.Context, c agent.Change) error {
	if c.Since.IsZero() {
		c.Since = time.Now()
	}
	aor := b.ua.AOR()
	body, err := Encode(aor.String(), b.opts.TupleID, c)
	if err != nil {
		return err
	}
	err = b.pub.Publish(ctx, ContentType, body)
	var se *sipua.StatusError
	if errors.As(err, &se) && refused(se.Code) {
		return &agent.RefusedError{Code: se.Code, Message: se.Reason}
	}
	if err != nil {
		return fmt.Errorf("publishing the agent status: %w", err)
	}
	return nil
}

// refused: the server heard us and said no. Not so: 401/407 (our
// credentials), 408/480 and 5xx (the server could not say), 412 (handled
// by the publication).
func refused(code int) bool {
	switch code {
	case 401, 407, 408, 412, 480:
		return false
	}
	return code >= 400 && code < 500 || code >= 600
}

// Watch subscribes to the agent's own presence and delivers what other
// devices publish, until ctx ends (nil) or the subscription is refused for
// good (its error). A refused first SUBSCRIBE is returned at once.
func (b *Backend) Watch(ctx context.Context, got func(agent.Change)) error {
	var (
		mu      sync.Mutex
		stopped bool
		last    *agent.Change
	)
	onNotify := func(n sipua.Notify) {
		if n.State == "terminated" || len(n.Body) == 0 {
			return
		}
		if ct := strings.ToLower(n.ContentType); ct != "" && !strings.HasPrefix(ct, ContentType) {
			b.opts.Logger.Warn("agent status: NOTIFY with an unexpected body type", "type", n.ContentType)
			return
		}
		ts, err := Decode(n.Body)
		if err != nil {
			b.opts.Logger.Warn("agent status: unreadable presence document", "error", err)
		}
		c, ok := pick(ts, b.opts.TupleID)
		mu.Lock()
		defer mu.Unlock()
		if !ok || stopped || (last != nil && same(*last, c)) {
			return
		}
		last = &c
		got(c)
	}
	sub, err := b.ua.Subscribe(ctx, sipua.SubscribeOptions{
		Event: "presence", Accept: []string{ContentType}, Expires: b.opts.Expires, OnNotify: onNotify,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribing to the agent's presence: %w", err)
	}
	var werr error
	select {
	case <-ctx.Done():
	case <-sub.Done():
		werr = fmt.Errorf("the agent's presence subscription ended: %w", sub.Err())
	}
	mu.Lock()
	stopped = true
	mu.Unlock()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sub.Close(cctx); err != nil {
		b.opts.Logger.Debug("agent status: un-SUBSCRIBE failed", "error", err)
	}
	return werr
}

// pick is the change to deliver: the newest tuple, unless it is our own or
// no newer than our own.
func pick(ts []Tuple, own string) (agent.Change, bool) {
	n := Newest(ts)
	if n == nil || n.ID == own {
		return agent.Change{}, false
	}
	for _, t := range ts {
		if t.ID == own && !t.Change.Since.Before(n.Change.Since) {
			return agent.Change{}, false
		}
	}
	return n.Change, true
}

func same(a, b agent.Change) bool {
	return a.Status == b.Status && a.Reason == b.Reason && a.Since.Equal(b.Since) && a.Kicked == b.Kicked
}

// Close withdraws this device's publication (PUBLISH with Expires: 0).
func (b *Backend) Close(ctx context.Context) error {
	err := b.pub.Remove(ctx)
	b.pub.Close()
	return err
}
