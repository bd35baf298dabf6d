package labkit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"deskphone/phone/sipua"
)

// regUA is a sipua UA for user on k's UDP port.
func regUA(t *testing.T, k *Kamailio, user, password string) *sipua.UA {
	t.Helper()
	u, err := sipua.New(sipua.Config{Registrar: k.Addr(), Domain: Domain, User: user, AuthUser: user,
		Password: password, Transport: "udp", Listen: "127.0.0.1:0", Expires: 300, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// register registers u and waits for the 200.
func register(t *testing.T, u *sipua.UA) *sipua.Registration {
	t.Helper()
	reg := u.Register(nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = reg.Stop(ctx)
	})
	for deadline := time.Now().Add(10 * time.Second); reg.Status().State != sipua.Registered; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not registered within 10 s: %+v", reg.Status())
		}
	}
	return reg
}

// contactOf is the contact URI u registers, as Kamailio lists it.
func contactOf(u *sipua.UA) string { return fmt.Sprintf("sip:1001@%s:%d", u.Host(), u.Port()) }

// contactInfo is one contact of a reginfo body: its state and event.
type contactInfo struct{ State, Event string }

// waitReginfo waits for a NOTIFY whose reginfo says what ok wants about
// the contacts (URI → state/event) and returns its body.
func waitReginfo(t *testing.T, notes <-chan sipua.Notify, what string, ok func(map[string]contactInfo) bool) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case n := <-notes:
			seen = append(seen, fmt.Sprintf("[%s %s] %s", n.State, n.ContentType, n.Body))
			if len(n.Body) == 0 {
				continue // nothing published yet
			}
			if n.ContentType != sipua.ReginfoContentType {
				t.Fatalf("NOTIFY Content-Type %q, want %s", n.ContentType, sipua.ReginfoContentType)
			}
			ri, err := sipua.ParseReginfo(n.Body)
			if err != nil {
				t.Fatalf("NOTIFY body: %v\n%s", err, n.Body)
			}
			cs := map[string]contactInfo{}
			for _, r := range ri.Registrations {
				for _, c := range r.Contacts {
					cs[c.URI] = contactInfo{c.State, c.Event}
				}
			}
			if ok(cs) {
				return string(n.Body)
			}
		case <-timeout:
			t.Fatalf("no NOTIFY where %s within 10 s; got:\n%s", what, strings.Join(seen, "\n----\n"))
			return ""
		}
	}
}

// With RegEvent a SUBSCRIBE to Event: reg is served from the location
// table: the NOTIFY lists the registered contact, and a REGISTER of the
// same AOR from another contact replaces the binding, which the next
// NOTIFY shows as the first contact terminated (event unregistered)
// beside the new one active (event created).
func TestKamailioRegEvent(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1"}, RegEvent: true})
	first := regUA(t, k, "1001", "pw1")
	register(t, first)

	notes := make(chan sipua.Notify, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := first.Subscribe(ctx, sipua.SubscribeOptions{Event: "reg", Accept: []string{sipua.ReginfoContentType},
		Expires: 300, OnNotify: func(n sipua.Notify) { notes <- n }})
	if err != nil {
		t.Fatalf("SUBSCRIBE Event: reg: %v", err)
	}
	defer sub.Close(context.Background())
	a, b := contactOf(first), ""
	body := waitReginfo(t, notes, a+" is active", func(cs map[string]contactInfo) bool { return cs[a].State == "active" })
	t.Logf("NOTIFY after the SUBSCRIBE:\n%s", body)

	second := regUA(t, k, "1001", "pw1")
	b = contactOf(second)
	register(t, second)
	body = waitReginfo(t, notes, a+" is terminated and "+b+" active", func(cs map[string]contactInfo) bool {
		return cs[a].State == "terminated" && cs[b].State == "active"
	})
	t.Logf("NOTIFY after the second REGISTER:\n%s", body)
	ri, _ := sipua.ParseReginfo([]byte(body))
	for _, r := range ri.Registrations {
		for _, c := range r.Contacts {
			if c.URI == a && c.Event != "unregistered" {
				t.Errorf("the replaced contact's event is %q, want unregistered", c.Event)
			}
		}
	}
	bs, err := k.Bindings("1001")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Contact != b {
		t.Errorf("bindings of 1001: %+v, want only %s", bs, b)
	}
	// The two PUBLISHes of one takeover (insert, then delete) race: the
	// second may reach the presence server before the first is stored and
	// get 412 ("No E_Tag match"); pua then publishes it afresh. Any other
	// error is one.
	for _, line := range strings.Split(k.Log(), "\n") {
		if strings.Contains(line, "ERROR") && !strings.Contains(line, "No E_Tag match") {
			t.Errorf("kamailio logged an error: %s", line)
		}
	}
}
