package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// Failover (issue 14 §3): two Kamailios, the phone registered on the
// primary. The primary is killed → the phone registers on the secondary
// (onConnectionLost, onTryToReconnect ×n, onConnectionRecovery) and a
// call through it to a baresip registered there works. The primary comes
// back → after account.failback_after answered probes the phone registers
// there again, without a connection event, removes its binding on the
// secondary, and calls go through the primary. The
// figures (kill → registered on the secondary, primary answering →
// registered on it again) are logged, not asserted.
func TestFailover(t *testing.T) { testFailover(t, "udp", 2) }

// The same over TCP: the phone's connection to the primary dies with it
// (a closed connection is a lost one), it connects to the secondary, and
// fails back over a new connection to the primary.
func TestFailoverTCP(t *testing.T) { testFailover(t, "tcp", 1) }

func testFailover(t *testing.T, transport string, runs int) {
	primary := privateKamailio(t, labkit.KamailioOptions{})
	secondary := privateKamailio(t, labkit.KamailioOptions{})
	farB := farEnd(t, secondary, "1003", "auto", 660)
	cfg := phoneConfig(t, primary.Addr(), labUsers["1001"])
	cfg.Account.Transport = transport
	failoverConfig(cfg, secondary.Addr())
	u := startPhone(t, cfg)
	u.registered()
	waitBound(t, primary, "the primary")
	if bs, _ := primary.Bindings("1001"); len(bs) != 1 || transport == "tcp" && !strings.Contains(bs[0].Contact, "transport=tcp") {
		t.Fatalf("the binding on the primary is not over %s: %+v", transport, bs)
	}

	for run := 1; run <= runs; run++ {
		moved := failoverOnce(t, u, primary, secondary)
		// A call now goes through the secondary to its baresip.
		u.callWorks(farB, "1003")
		back := failbackOnce(t, u, primary, secondary)
		// And through the primary again, to a baresip registered there
		// (the restart lost every binding: one registers afresh).
		farA := farEnd(t, primary, "1002", "auto", 440)
		u.callWorks(farA, "1002")
		t.Logf("%s run %d: kill → registered on the secondary %v; primary answering → registered on it again %v",
			transport, run, moved.Round(time.Millisecond), back.Round(time.Millisecond))
	}
}

// The registrar as a name: SRV records (priorities 10 and 20) on the
// lab's DNS server name the two Kamailios; the phone registers on the
// priority-10 one, fails over to the priority-20 one and comes back.
func TestFailoverSRV(t *testing.T) {
	primary := privateKamailio(t, labkit.KamailioOptions{})
	secondary := privateKamailio(t, labkit.KamailioOptions{})
	dns, err := labkit.StartDNS(
		fmt.Sprintf("_sip._udp.pbx.lab.test. 60 IN SRV 20 0 %d b.lab.test.", secondary.Port()),
		fmt.Sprintf("_sip._udp.pbx.lab.test. 60 IN SRV 10 0 %d a.lab.test.", primary.Port()),
		"a.lab.test. 60 IN A 127.0.0.1",
		"b.lab.test. 60 IN A 127.0.0.1",
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dns.Close() })
	cfg := phoneConfig(t, primary.Addr(), labUsers["1001"])
	failoverConfig(cfg)
	cfg.Account.Registrar, cfg.Account.DNS = "pbx.lab.test", dns.Addr() // the domain stays 127.0.0.1
	u := startPhone(t, cfg)
	u.registered()
	waitBound(t, primary, "the SRV record of priority 10")
	if dns.Queries() == 0 {
		t.Fatal("the phone registered without asking the DNS server")
	}
	moved := failoverOnce(t, u, primary, secondary)
	back := failbackOnce(t, u, primary, secondary)
	t.Logf("SRV: kill → registered on the priority-20 target %v; priority-10 target answering → registered on it again %v",
		moved.Round(time.Millisecond), back.Round(time.Millisecond))
}

// failoverConfig sets quick supervision and failback for the lab.
func failoverConfig(cfg *config.Config, failover ...string) {
	a := &cfg.Account
	a.Failover = failover
	a.Keepalive = time.Second
	a.FailoverTimeout = 2 * time.Second
	a.FailbackProbe = time.Second
	a.FailbackAfter = 3
}

// failoverOnce kills the primary, waits for the phone on the secondary
// and checks the connection events; it returns kill → recovery.
func failoverOnce(t *testing.T, u *dut, primary, secondary *labkit.Kamailio) time.Duration {
	t.Helper()
	mark := u.eventCount()
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	rec := u.waitEvent(event.ConnectionRecovery, 30*time.Second, nil)
	waitBound(t, secondary, "the secondary")
	u.wantOutage(mark, "failover")
	return rec.Time.Sub(killed)
}

// failbackOnce restarts the primary and waits until the phone's binding
// is on it again; it returns primary answering → bound. Failing back is
// no outage: no connection event may come meanwhile.
func failbackOnce(t *testing.T, u *dut, primary, secondary *labkit.Kamailio) time.Duration {
	t.Helper()
	mark := u.eventCount()
	if err := primary.Restart(); err != nil {
		t.Fatal(err)
	}
	answering := time.Now()
	waitBound(t, primary, "the restarted primary")
	took := time.Since(answering)
	// The binding on the secondary is removed once the primary has it.
	waitFor(t, 10*time.Second, func() bool {
		bs, err := secondary.Bindings("1001")
		return err == nil && len(bs) == 0
	}, func() string { return "1001's binding on the secondary was not removed after failing back" })
	for _, e := range u.eventsSince(mark) {
		if strings.HasPrefix(e.Name, "onConnection") || e.Name == event.TryToReconnect {
			t.Fatalf("failing back raised %s: it must be seamless", e.Name)
		}
	}
	return took
}

// waitBound waits until 1001 has a binding on kam.
func waitBound(t *testing.T, kam *labkit.Kamailio, which string) {
	t.Helper()
	waitUserBound(t, kam, "1001", which)
}

func waitUserBound(t *testing.T, kam *labkit.Kamailio, user, which string) {
	t.Helper()
	var last error
	waitFor(t, 30*time.Second, func() bool {
		bs, err := kam.Bindings(user)
		last = err
		return err == nil && len(bs) > 0
	}, func() string { return fmt.Sprintf("%s is not registered on %s (last error: %v)", user, which, last) })
}

// callWorks calls `to` (a baresip that answers by itself), checks that
// RFC 4733 digits cross both ways (media flows), and hangs up.
func (u *dut) callWorks(far *labkit.Baresip, to string) {
	t := u.t
	t.Helper()
	id := u.must("POST", "/v1/call", map[string]string{"to": to})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip %s never reported the call established: %v", to, err)
	}
	before := far.ReceivedDTMF()
	u.must("POST", "/v1/dtmf", map[string]string{"sessionId": id, "digits": "7"})
	waitFor(t, 10*time.Second, func() bool { return far.ReceivedDTMF() == before+"7" },
		func() string {
			return "baresip " + to + " received DTMF " + far.ReceivedDTMF() + ", want " + before + "7"
		})
	if err := far.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	if e := u.waitEvent(event.DTMFReceived, 10*time.Second, sessionIs(id)); field(e.Data, "digit") != "5" {
		t.Fatalf("DTMF from baresip %s: got %v, want 5", to, e.Data)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip %s never saw the call end: %v", to, err)
	}
}
