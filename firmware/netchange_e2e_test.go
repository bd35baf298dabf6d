package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/labkit"
)

// The phone's address changes under it. Kamailio and baresip run in a
// network namespace of their own (labkit.NewNetNS), joined to the test's
// by a veth pair; the phone (in the test process, account.listen on
// 0.0.0.0) reaches them from the test side's address, which the test
// moves as a new DHCP lease would, then takes away and gives back.
//
//  1. A call is up; the address moves from .2 to .3: the connection is
//     lost with that reason and recovered (onConnectionLost →
//     onTryToReconnect → onConnectionRecovery), Kamailio holds the new
//     Contact only, and the call is re-INVITEd: each side hears the other
//     again, and the call stays up.
//  2. No call; the address goes: the loss is reported within the address
//     check; a new one (.4) comes: registered there again.
//
// Over UDP and over TCP (whose connection to Kamailio left from the old
// address: the phone closes it and connects again from the new one).
func TestAddressChange(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) { testAddressChange(t, tr) })
	}
}

func testAddressChange(t *testing.T, transport string) {
	ns, kam, far, cfg := netLab(t, transport)
	subnet := strings.TrimSuffix(ns.PeerIP(), ".1")
	first, moved, last := ns.LocalIP(), subnet+".3", subnet+".4"

	u := startPhone(t, cfg)
	u.registered()
	wantBinding(t, kam, first)

	// 1. The address moves during a call.
	id := callFarEnd(t, u, far, "1002")
	established := time.Now()
	rate := heardRate(t, u)
	from := heardSamples(t, u)
	waitHeard(t, u, from+2*rate)
	if lv := toneBetween(t, u, from, from+2*rate, 440); lv < 0.05 {
		t.Fatalf("before the move, the phone's speaker does not carry baresip's 440 Hz (level %.3f)", lv)
	}
	u.skipEvents()
	mark := u.eventCount()
	move := time.Now()
	if err := ns.SetLocalIP(moved); err != nil {
		t.Fatal(err)
	}
	lost := u.waitEvent(event.ConnectionLost, 10*time.Second, nil)
	if r, _ := field(lost.Data, "reason").(string); !strings.Contains(r, first) || !strings.Contains(r, moved) {
		t.Errorf("onConnectionLost's reason %q does not name the old and new addresses", r)
	}
	rec := u.waitEvent(event.ConnectionRecovery, 15*time.Second, nil)
	u.wantOutage(mark, "address change")
	wantBinding(t, kam, moved)
	from = heardSamples(t, u)
	waitHeard(t, u, from+rate/2) // the far end's re-INVITE answer and its audio settle
	from = heardSamples(t, u)
	waitHeard(t, u, from+3*rate)
	if lv := toneBetween(t, u, from, from+3*rate, 440); lv < 0.05 {
		t.Errorf("after the move, the phone's speaker does not carry baresip's 440 Hz (level %.3f)", lv)
	}
	if u.sessionState(id) == "" {
		t.Fatalf("the call did not survive the address change:\n%s", u.eventLog())
	}
	hangup := time.Now()
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	for _, e := range u.eventsSince(mark) {
		if e.Name == event.Warning || e.Name == event.Error { // a move is a lost connection, no error
			t.Errorf("%s during the move: %v", e.Name, e.Data)
		}
	}
	// baresip writes nothing for a frame it did not get: had the phone's
	// audio not followed, its recording would end at the move.
	var recs []string
	waitFor(t, 10*time.Second, func() bool { recs, _ = far.Recordings(); return len(recs) > 0 },
		func() string { return "baresip wrote no recording" })
	a, err := wav.ReadFile(recs[len(recs)-1])
	if err != nil {
		t.Fatal(err)
	}
	recorded := time.Duration(len(a.Mono())) * time.Second / time.Duration(a.Rate)
	before, after := move.Sub(established), hangup.Sub(move)
	if recorded < before+after/2 {
		t.Errorf("baresip recorded %v of the phone's audio: %v of call before the move and %v after it; the audio did not follow the new address",
			recorded.Round(time.Millisecond), before.Round(time.Millisecond), after.Round(time.Millisecond))
	}
	if m := a.Mono(); len(m) > a.Rate {
		if lv := media.ToneLevel(m[len(m)-a.Rate:], a.Rate, 1000); lv < 0.05 {
			t.Errorf("the last second baresip recorded does not carry the phone's 1000 Hz (level %.3f)", lv)
		}
	}
	t.Logf("address %s → %s during a call: lost after %v, registered at the new address %v after the move; baresip recorded %v of %v",
		first, moved, lost.Time.Sub(move).Round(time.Millisecond), rec.Time.Sub(move).Round(time.Millisecond),
		recorded.Round(time.Millisecond), hangup.Sub(established).Round(time.Millisecond))

	// 2. The address goes, and another one comes.
	waitFor(t, 10*time.Second, func() bool { code, _ := u.do("GET", "/v1/login", nil); return code == 200 },
		func() string { return "not registered before the address goes:\n" + u.eventLog() })
	u.skipEvents()
	mark = u.eventCount()
	gone := time.Now()
	if err := ns.RemoveLocalIP(); err != nil {
		t.Fatal(err)
	}
	lost = u.waitEvent(event.ConnectionLost, 2*cfg.Account.AddressCheck, nil)
	if r, _ := field(lost.Data, "reason").(string); !strings.Contains(r, "gone") {
		t.Errorf("onConnectionLost's reason %q does not say the address is gone", r)
	}
	u.waitDisplay("No service", 10*time.Second)
	back := time.Now()
	if err := ns.SetLocalIP(last); err != nil {
		t.Fatal(err)
	}
	rec = u.waitEvent(event.ConnectionRecovery, 15*time.Second, nil)
	u.wantOutage(mark, "address gone and back")
	wantBinding(t, kam, last)
	t.Logf("address gone: lost after %v; a new address %s: registered %v after it came", lost.Time.Sub(gone).Round(time.Millisecond), last, rec.Time.Sub(back).Round(time.Millisecond))
}

// The cable is pulled for 5 s during a call and plugged in again, in the
// same lab (the veth link set down and up): the route to the registrar
// goes with the link, so the loss is reported at once ("gone"), not at the
// next keepalive; the phone registers again as soon as the link is back,
// and the call — whose address did not change — stays up and is heard
// again. Over UDP and TCP (whose connection survives the cut).
func TestLinkDown(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) { testLinkDown(t, tr) })
	}
}

func testLinkDown(t *testing.T, transport string) {
	ns, kam, far, cfg := netLab(t, transport)
	u := startPhone(t, cfg)
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	rate := heardRate(t, u)
	waitHeard(t, u, heardSamples(t, u)+rate)

	u.skipEvents()
	mark := u.eventCount()
	link := func(up bool) {
		t.Helper()
		if err := ns.SetLink(up); err != nil {
			t.Fatal(err)
		}
	}
	cut := time.Now()
	link(false)
	t.Cleanup(func() { _ = ns.SetLink(true) })
	lost := u.waitEvent(event.ConnectionLost, 2*cfg.Account.AddressCheck, nil)
	if r, _ := field(lost.Data, "reason").(string); !strings.Contains(r, "gone") {
		t.Errorf("onConnectionLost's reason %q does not say the address is gone", r)
	}
	time.Sleep(time.Until(cut.Add(5 * time.Second))) // the cut lasts 5 s
	back := time.Now()
	link(true)
	rec := u.waitEvent(event.ConnectionRecovery, 15*time.Second, nil)
	u.wantOutage(mark, "link down")
	wantBinding(t, kam, ns.LocalIP())
	from := heardSamples(t, u)
	waitHeard(t, u, from+rate/2) // the far end's audio settles
	from = heardSamples(t, u)
	waitHeard(t, u, from+2*rate)
	if lv := toneBetween(t, u, from, from+2*rate, 440); lv < 0.05 {
		t.Errorf("after the link came back, the phone's speaker does not carry baresip's 440 Hz (level %.3f)", lv)
	}
	if u.sessionState(id) == "" {
		t.Fatalf("the call did not survive a 5 s link cut:\n%s", u.eventLog())
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	t.Logf("%s: link down 5 s in a call: lost after %v; registered again %v after the link came back; the call stayed up and is heard",
		transport, lost.Time.Sub(cut).Round(time.Millisecond), rec.Time.Sub(back).Round(time.Millisecond))
}

// netLab is the lab of these tests: Kamailio and baresip 1002
// (auto-answer, 440 Hz) in a network namespace of their own, and phone
// 1001's config for it over transport, listening on 0.0.0.0 (its address
// follows the route), with quick supervision.
func netLab(t *testing.T, transport string) (*labkit.NetNS, *labkit.Kamailio, *labkit.Baresip, *config.Config) {
	t.Helper()
	labkit.Require(t)
	ns, err := labkit.NewNetNS()
	if err != nil {
		t.Fatalf("a network namespace for the peers: %v", err)
	}
	t.Cleanup(func() { _ = ns.Close() })
	kam := privateKamailio(t, labkit.KamailioOptions{NetNS: ns})
	far := nsFarEnd(t, ns, kam)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Account.Transport = transport
	cfg.Account.Listen = "0.0.0.0:" + strconv.Itoa(labkit.FreePort(transport))
	cfg.Account.Keepalive = 2 * time.Second
	cfg.Account.RetryMin, cfg.Account.RetryMax = 500*time.Millisecond, 2*time.Second
	return ns, kam, far, cfg
}

// nsFarEnd is baresip 1002 (auto-answer, 440 Hz) in ns, registered on kam.
func nsFarEnd(t *testing.T, ns *labkit.NetNS, kam *labkit.Kamailio) *labkit.Baresip {
	t.Helper()
	far, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: t.TempDir(), User: "1002", Password: labUsers["1002"], Registrar: kam.Addr(),
		AnswerMode: "auto", ToneHz: 440, Codecs: "PCMU,PCMA", NetNS: ns,
	})
	if err != nil {
		t.Fatalf("starting baresip 1002 in the namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = far.Stop()
		if t.Failed() {
			t.Logf("baresip 1002's log:\n%s", far.Log())
		}
	})
	return far
}

// wantBinding waits until Kamailio holds one binding of 1001, at host.
func wantBinding(t *testing.T, kam *labkit.Kamailio, host string) {
	t.Helper()
	var b []labkit.Binding
	var err error
	waitFor(t, 5*time.Second, func() bool {
		b, err = kam.Bindings("1001")
		return err == nil && len(b) == 1 && strings.Contains(b[0].Contact, "@"+host+":")
	}, func() string { return fmt.Sprintf("bindings of 1001: %+v (%v), want one at %s", b, err, host) })
}

// heardRate is the sample rate of the phone's speaker file.
func heardRate(t *testing.T, u *dut) int {
	t.Helper()
	var a *wav.Audio
	waitFor(t, 5*time.Second, func() bool {
		var err error
		a, err = wav.ReadFile(u.cfg.Sim.Output)
		return err == nil && a.Rate > 0
	}, func() string { return "the phone's speaker file is not written" })
	return a.Rate
}

// waitHeard waits until the phone's speaker has played n samples.
func waitHeard(t *testing.T, u *dut, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool { return heardSamples(t, u) >= n },
		func() string {
			return fmt.Sprintf("the phone's speaker played %d samples, want %d", heardSamples(t, u), n)
		})
}
