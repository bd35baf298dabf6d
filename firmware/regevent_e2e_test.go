package main

// account.reg_event end to end: Kamailio serves the registration event
// package (labkit's RegEvent: pua_reginfo + presence_reginfo, one contact
// per AOR) and the phone, subscribed to its own AOR, is kicked out as soon
// as another device registers its extension.

import (
	"context"
	"strings"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/sipua"
	"deskphone/tools/labkit"
)

// regEventLab is a Kamailio that NOTIFYs reg events, for 1001..1004.
func regEventLab(t *testing.T) *labkit.Kamailio {
	return privateKamailio(t, labkit.KamailioOptions{RegEvent: true})
}

// otherDevice is a second SIP device of user, registered (or failing the
// test within 10 s).
func otherDevice(t *testing.T, k *labkit.Kamailio, user string) *sipua.UA {
	t.Helper()
	ua, err := sipua.New(sipua.Config{Registrar: k.Addr(), Domain: labkit.Domain, User: user, AuthUser: user,
		Password: labUsers[user], Transport: "udp", Listen: "127.0.0.1:0", Expires: 300})
	if err != nil {
		t.Fatal(err)
	}
	reg := ua.Register(nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = reg.Stop(ctx)
		_ = ua.Close()
	})
	waitFor(t, 10*time.Second, func() bool { return reg.Status().State == sipua.Registered },
		func() string { return "the other device is not registered: " + string(reg.Status().State) })
	return ua
}

// waitRegSubscribed waits until Kamailio has NOTIFYed user's reg event to
// the phone at addr (host:port), i.e. its subscription is in place.
func waitRegSubscribed(t *testing.T, k *labkit.Kamailio, user, addr string) {
	t.Helper()
	want := "via sip:" + user + "@" + addr + " on behalf of sip:" + user + "@" + labkit.Domain + " for event reg"
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(k.Log(), want) },
		func() string { return "Kamailio never NOTIFYed the phone's reg event subscription" })
}

// The phone (1001, reg_event) is registered and subscribed; another device
// registers 1001, Kamailio replaces the phone's binding and NOTIFYs it
// terminated: the phone is kicked out at once (not at its next refresh),
// goes offline and stops registering.
func TestRegEventKicksOut(t *testing.T) {
	kam := regEventLab(t)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Account.RegEvent = true
	u := startPhone(t, cfg)
	u.registered()
	waitRegSubscribed(t, kam, "1001", u.d.phone.SIPAddr())

	other := otherDevice(t, kam, "1001")
	e := u.waitEvent(event.KickedOut, 10*time.Second, nil)
	if r, _ := field(e.Data, "reason").(string); !strings.Contains(r, "reg event") {
		t.Errorf("kickedOut %v: want the reg event reason", e.Data)
	}
	u.waitStatus("offline", "", 3*time.Second)
	u.waitDisplay("Kicked out", 3*time.Second)
	if got := u.d.phone.AgentStatus(); !got.Kicked || got.Status != "offline" {
		t.Errorf("agent state %+v: want kicked and offline", got)
	}
	// It stopped registering: no registration left, and the extension's
	// only binding is the other device's.
	waitFor(t, 10*time.Second, func() bool { return u.d.phone.State().Registration.State == string(sipua.Unregistered) },
		func() string { return "the phone still registers: " + u.d.phone.State().Registration.State })
	theirs := other.Contact()
	bs, err := kam.Bindings("1001")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Contact != theirs.String() {
		t.Errorf("bindings of 1001 %+v, want only the other device's %s", bs, theirs.String())
	}
	if err := u.d.phone.CheckLogin(); err == nil || !strings.Contains(err.Error(), "kicked out") {
		t.Errorf("checkLogin after the kick: %v", err)
	}
}

// A plain logout with reg_event on is no kick: the phone un-SUBSCRIBEs
// before it un-REGISTERs. A watcher (1002) sees the phone's contact
// terminated, so Kamailio did publish the un-registration.
func TestRegEventLogoutIsNoKick(t *testing.T) {
	kam := regEventLab(t)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Account.RegEvent = true
	u := startPhone(t, cfg)
	u.registered()
	addr := u.d.phone.SIPAddr()
	waitRegSubscribed(t, kam, "1001", addr)

	watcher := labUA(t, kam.Addr(), "1002")
	notes := make(chan sipua.Notify, 64)
	target, _ := watcher.RequestURI("1001")
	sub, err := watcher.Subscribe(ctxT(t, 10*time.Second), sipua.SubscribeOptions{Target: target, Event: "reg",
		Accept: []string{sipua.ReginfoContentType}, OnNotify: func(n sipua.Notify) { notes <- n }})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())

	if err := u.d.phone.Logout(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	ours := "sip:1001@" + addr
	deadline := time.After(10 * time.Second)
	for terminated := false; !terminated; {
		select {
		case n := <-notes:
			ri, err := sipua.ParseReginfo(n.Body)
			if err != nil {
				continue // the first NOTIFY may come before anything is published
			}
			for _, r := range ri.Registrations {
				for _, c := range r.Contacts {
					terminated = terminated || c.URI == ours && c.State == "terminated"
				}
			}
		case <-deadline:
			t.Fatalf("the watcher never saw %s terminated", ours)
		}
	}
	if err := u.d.phone.Close(ctxT(t, 10*time.Second)); err != nil {
		t.Errorf("close: %v", err)
	}
	if log := u.eventLog(); strings.Contains(log, event.KickedOut) {
		t.Errorf("a plain logout kicked the phone out:\n%s", log)
	}
}
