package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/tools/impair"
	"deskphone/tools/labkit"
)

// Link cuts. Everything the phone sends and receives goes through
// tools/impair's relay on 127.0.0.77: its registrar is the relay's
// stand-in for Kamailio, Kamailio reaches it back at the address its
// requests came from (KamailioOptions.NAT), and its RTP goes to and comes
// from the relay (SetMediaRelay). Setting the relay's loss to 1 is pulling
// the cable; back to 0, plugging it in again.
//
// A 5 s cut during a call: the call survives and baresip's tone is heard
// again after it. A long cut (DESKPHONE_LINKCUT_SECONDS, default 15;
// `make soak-linkcut` runs 60): the phone reports the loss while the link
// is down (keepalive 2 s) and registers again once it is back. The times
// are logged.
func TestLinkCut(t *testing.T) {
	long := 15 * time.Second
	if n, err := strconv.Atoi(os.Getenv("DESKPHONE_LINKCUT_SECONDS")); err == nil && n > 0 {
		long = time.Duration(n) * time.Second
	}
	kam := privateKamailio(t, labkit.KamailioOptions{NAT: true})
	far := farEnd(t, kam, "1002", "auto", 440)
	cfg := phoneConfig(t, net.JoinHostPort(relayAddr.String(), strconv.Itoa(kam.Port())), labUsers["1001"])
	cfg.Account.Keepalive = 2 * time.Second
	lo, hi := cfg.Audio.RTPPortRange()
	relay, err := impair.Start(impair.Config{
		Addr: relayAddr, Target: netip.MustParseAddr(labkit.Domain), Seed: 1,
		// Stand-ins from the start: Kamailio's port (the phone's registrar)
		// and the phone's RTP range (its SDP names the relay's address).
		Ports: []impair.PortRange{{Lo: kam.Port(), Hi: kam.Port()}, {Lo: lo, Hi: hi + 1}}, SideA: impair.PortRange{Lo: lo, Hi: hi + 1},
	})
	if err != nil {
		t.Fatalf("starting the relay: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	u := startPhone(t, cfg)
	u.d.phone.SetMediaRelay(relay)
	u.registered()
	if b, err := kam.Bindings("1001"); err != nil || len(b) != 1 {
		t.Fatalf("bindings of 1001: %v, %v", b, err)
	}

	// 1. A call, then a 5 s cut.
	id := callFarEnd(t, u, far, "1002")
	waitRelayed(t, relay, relay.Stats().ToA.Received+100) // 2 s of baresip's audio reached the phone
	cut := time.Now()
	if err := relay.Set(impair.Settings{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	dropped := relay.Stats().ToA.Dropped
	waitFor(t, 10*time.Second, func() bool { return relay.Stats().ToA.Dropped >= dropped+200 },
		func() string {
			return fmt.Sprintf("the relay dropped only %d datagrams to the phone", relay.Stats().ToA.Dropped-dropped)
		})
	time.Sleep(time.Until(cut.Add(5 * time.Second))) // the cut lasts 5 s
	if err := relay.Set(impair.Settings{}); err != nil {
		t.Fatal(err)
	}
	restored := time.Now()
	from := heardSamples(t, u)
	waitRelayed(t, relay, relay.Stats().ToA.Received+100) // 2 s of audio since
	to := heardSamples(t, u)
	if u.sessionState(id) == "" {
		t.Fatalf("the call did not survive a 5 s cut:\n%s", u.eventLog())
	}
	for _, e := range u.eventsSince(0) {
		if e.Name == event.Ended {
			t.Fatalf("the call ended during or after a 5 s cut: %v", e.Data)
		}
	}
	if lv := toneBetween(t, u, from, to, 440); lv < 0.05 {
		t.Errorf("after the cut, the phone's speaker does not carry baresip's 440 Hz (level %.3f over samples %d-%d)", lv, from, to)
	}
	t.Logf("5 s cut: the call stayed up; baresip's tone heard again within %v of the link's return", time.Since(restored).Round(time.Millisecond))
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)

	// 2. A long cut with no call, once registered again (a 5 s cut is
	// longer than the keepalive: the phone may have reported a loss).
	waitFor(t, 30*time.Second, func() bool { code, _ := u.do("GET", "/v1/login", nil); return code == 200 },
		func() string { return "not registered again after the 5 s cut:\n" + u.eventLog() })
	u.skipEvents()
	mark := u.eventCount()
	if err := relay.Set(impair.Settings{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	cut = time.Now()
	lost := u.waitEvent(event.ConnectionLost, long, nil) // while the link is down
	noticed := lost.Time.Sub(cut)
	time.Sleep(time.Until(cut.Add(long)))
	if err := relay.Set(impair.Settings{}); err != nil {
		t.Fatal(err)
	}
	restored = time.Now()
	rec := u.waitEvent(event.ConnectionRecovery, 90*time.Second, nil)
	t.Logf("%v cut: loss reported %v after the cut (keepalive %v); registered again %v after the link returned",
		long, noticed.Round(time.Millisecond), cfg.Account.Keepalive, rec.Time.Sub(restored).Round(time.Millisecond))
	var seq []string
	for _, e := range u.eventsSince(mark) {
		switch e.Name {
		case event.ConnectionLost, event.ConnectionRecovery:
			seq = append(seq, e.Name)
		}
	}
	if fmt.Sprint(seq) != "[onConnectionLost onConnectionRecovery]" {
		t.Errorf("connection events during the long cut: %v", seq)
	}
}

// heardSamples is how many samples the phone's speaker (the sim board's
// WAV) holds so far.
func heardSamples(t *testing.T, u *dut) int {
	t.Helper()
	a, err := wav.ReadFile(u.cfg.Sim.Output)
	if err != nil {
		return 0
	}
	return len(a.Mono())
}

// toneBetween is the level of hz in the phone's speaker between samples
// from and to.
func toneBetween(t *testing.T, u *dut, from, to int, hz float64) float64 {
	t.Helper()
	a, err := wav.ReadFile(u.cfg.Sim.Output)
	if err != nil {
		t.Fatalf("reading what the phone played: %v", err)
	}
	m := a.Mono()
	to = min(to, len(m))
	if to-from < a.Rate/4 {
		t.Fatalf("only %d samples played between the marks", to-from)
	}
	return media.ToneLevel(m[from:to], a.Rate, hz)
}

// skipEvents marks every event so far as seen: waitEvent then returns only
// later ones.
func (u *dut) skipEvents() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := range u.events {
		u.used[i] = true
	}
}
