package sipua

import (
	"context"
	"strings"
	"testing"
	"time"

	"deskphone/tools/labkit"
)

func pidf(note string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@127.0.0.1">
<tuple id="t-` + note + `"><status><basic>open</basic></status><note>` + note + `</note></tuple></presence>`)
}

// waitNotify waits for a NOTIFY whose body contains want.
func waitNotify(t *testing.T, ch <-chan Notify, want string) Notify {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-ch:
			if strings.Contains(string(n.Body), want) {
				return n
			}
		case <-deadline:
			t.Fatalf("no NOTIFY with %q within 10 s", want)
		}
	}
}

// PUBLISH (initial, refresh, modify, 412 recovery, remove) and SUBSCRIBE
// (NOTIFY delivery, refresh, un-SUBSCRIBE) against Kamailio's presence
// server, with its 407 challenges answered.
func TestPresenceAgainstKamailio(t *testing.T) {
	users := map[string]string{"1001": "pw-1001", "1002": "pw-1002"}
	k := startKamailio(t, labkit.KamailioOptions{Users: users, Presence: true})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log())
		}
	})
	pubUA := newUA(t, k, "udp", users["1001"])
	watcher, err := New(Config{Registrar: k.Addr(), Domain: k.Domain(), User: "1002", AuthUser: "1002",
		Password: users["1002"], Transport: "tcp", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watcher.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p := pubUA.NewPublication(PublishOptions{Event: "presence", Expires: 4})
	defer p.Close()
	if err := p.Publish(ctx, "application/pidf+xml", pidf("first")); err != nil {
		t.Fatal(err)
	}
	etag := p.ETag()
	if etag == "" {
		t.Fatal("no SIP-ETag after the initial PUBLISH")
	}

	notes := make(chan Notify, 32)
	target, _ := watcher.RequestURI("1001")
	sub, err := watcher.Subscribe(ctx, SubscribeOptions{Target: target, Event: "presence",
		Accept: []string{"application/pidf+xml"}, Expires: 4, OnNotify: func(n Notify) { notes <- n }})
	if err != nil {
		t.Fatal(err)
	}
	n := waitNotify(t, notes, "first")
	if n.State != "active" || !strings.HasPrefix(n.ContentType, "application/pidf+xml") {
		t.Fatalf("NOTIFY state %q type %q", n.State, n.ContentType)
	}

	// Both refresh (4 s granted) twice; the publication must outlive its
	// first expiry with a new entity tag each time.
	deadline := time.Now().Add(15 * time.Second)
	for p.ETag() == etag && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if p.ETag() == etag {
		t.Fatal("the publication was not refreshed before its expiry")
	}
	// The subscription (4 s) must have been refreshed in its dialog too.
	sub.mu.Lock()
	firstExpiry, firstDialog := sub.expiry, sub.d
	sub.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		sub.mu.Lock()
		refreshed, same := sub.expiry.After(firstExpiry.Add(time.Second)), sub.d == firstDialog
		sub.mu.Unlock()
		if refreshed {
			if !same {
				t.Fatal("the subscription was re-created instead of refreshed")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the subscription was not refreshed before its expiry")
		}
	}

	if err := p.Publish(ctx, "application/pidf+xml", pidf("second")); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, notes, "second")

	// The server forgot our entity tag: 412, then an initial PUBLISH.
	_ = p.lock(ctx)
	p.etag = "no-such-etag"
	p.unlock()
	if err := p.Publish(ctx, "application/pidf+xml", pidf("third")); err != nil {
		t.Fatalf("PUBLISH after 412: %v", err)
	}
	waitNotify(t, notes, "third")

	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(ctx); err != nil {
		t.Fatalf("un-SUBSCRIBE: %v", err)
	}
}
