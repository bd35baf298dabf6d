package sipua

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// SetHost moves the phone: the next REGISTER carries the new Contact and
// Via and removes the old binding (expires=0) once; the refresh after it
// names the new address alone. Setting the same address again is no move.
func TestSetHostRegistersTheNewContact(t *testing.T) {
	reg, other := newFakeRegistrar(t), newFakeRegistrar(t)
	u := failoverUA(t, reg, other)
	r := u.Register(nil)
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	waitFor(t, "registered", 5*time.Second, func() bool { return r.Status().State == Registered })
	if h, err := u.LocalHost(); err != nil || h != "127.0.0.1" {
		t.Fatalf("LocalHost with account.listen 127.0.0.1: %q, %v", h, err)
	}

	changed, err := u.SetHost("127.0.0.5")
	if err != nil || !changed {
		t.Fatalf("SetHost: changed %v, %v", changed, err)
	}
	if changed, _ := u.SetHost("127.0.0.5"); changed {
		t.Fatal("setting the same address again counted as a move")
	}
	if u.Host() != "127.0.0.5" || u.Contact().Host != "127.0.0.5" {
		c := u.Contact()
		t.Fatalf("after the move: Host %s, Contact %s", u.Host(), c.String())
	}
	reg.mu.Lock()
	n := len(reg.contacts)
	reg.mu.Unlock()
	r.Retry("the network address changed")
	var moved string
	waitFor(t, "a REGISTER from the new address", 5*time.Second, func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		for _, c := range reg.contacts[n:] {
			if strings.Contains(c, "@127.0.0.5") {
				moved = c
				return true
			}
		}
		return false
	})
	if !strings.Contains(moved, "<sip:1001@127.0.0.1:") || !strings.Contains(moved, ";expires=0") {
		t.Errorf("the REGISTER from the new address does not remove the old binding: Contact %s", moved)
	}
	if via := reg.lastVia(); !strings.Contains(via, "127.0.0.5") {
		t.Errorf("Via %q does not name the new address", via)
	}
	// The next refresh (granted 2 s) names the new address alone.
	reg.mu.Lock()
	n = len(reg.contacts)
	reg.mu.Unlock()
	waitFor(t, "a refresh", 5*time.Second, func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		return len(reg.contacts) > n
	})
	reg.mu.Lock()
	refresh := reg.contacts[n]
	reg.mu.Unlock()
	if strings.Contains(refresh, "127.0.0.1") || !strings.Contains(refresh, "@127.0.0.5") {
		t.Errorf("the refresh after the move: Contact %s, want the new address alone", refresh)
	}
}

// An address no interface has is no address; loopback always is one.
func TestHasAddress(t *testing.T) {
	if ok, err := hasAddress("127.0.0.1"); !ok || err != nil {
		t.Fatalf("loopback: %v, %v", ok, err)
	}
	if ok, err := hasAddress("192.0.2.123"); ok || err != nil { // TEST-NET-1: no machine has it
		t.Fatalf("192.0.2.123 (TEST-NET-1): %v, %v", ok, err)
	}
	u := &UA{bindHost: "192.0.2.123"}
	if _, err := u.LocalHost(); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("LocalHost with a listen address no interface has: %v, want ErrNoAddress", err)
	}
}
