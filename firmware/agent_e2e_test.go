package main

// The agent status end to end: after-call work and refusals against
// baresip, status sync through Kamailio's presence server and through the
// relay (tools/relay against its fake cloud), and kickedOut.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/agent"
	"deskphone/phone/agent/presence"
	"deskphone/phone/event"
	"deskphone/phone/sipua"
	"deskphone/tools/labkit"
	"deskphone/tools/relay/relaytest"
)

// waitStatus waits for statusChanged with this status (and reason, if any).
func (u *dut) waitStatus(status, reason string, timeout time.Duration) event.Event {
	u.t.Helper()
	return u.waitEvent(event.StatusChanged, timeout, func(d any) bool {
		return field(d, "status") == status && (reason == "" || field(d, "reason") == reason)
	})
}

func (u *dut) press(keys ...string) {
	u.t.Helper()
	for _, k := range keys {
		u.must("POST", "/v1/panel/press", map[string]string{"key": k})
	}
}

// waitStatusLED waits for the status LED's pattern and colour.
func (u *dut) waitStatusLED(state, color string, timeout time.Duration) {
	u.t.Helper()
	waitFor(u.t, timeout, func() bool {
		pn := u.d.panel.board.Panel()
		return pn.LEDs["status"] == state && pn.Colors["status"] == color
	}, func() string {
		pn := u.d.panel.board.Panel()
		return "status LED " + pn.LEDs["status"] + " " + pn.Colors["status"] + ", want " + state + " " + color
	})
}

// A call against baresip makes the agent busy, its end starts a short
// after-call work shown as a countdown, and the agent is free again after
// it. Then, not ready, an inbound call is refused with 480.
func TestAgentWrapUpAndRefusal(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	caller := farEnd(t, kam, "1003", "manual", 440)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Agent.WrapUp = 3 * time.Second
	u := startPhone(t, cfg)
	u.registered()
	u.waitStatusLED("on", "green", 3*time.Second)

	id := u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	u.waitStatus("busy", "", 3*time.Second)
	u.waitStatusLED("on", "red", 3*time.Second)
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip did not see the BYE: %v", err)
	}
	arrange := u.waitStatus("arrange", "", 3*time.Second)
	u.waitDisplay("Wrap-up", 2*time.Second)
	u.waitStatusLED("blink", "amber", 2*time.Second)
	free := u.waitStatus("free", "", 10*time.Second)
	if d := time.Duration((field(free.Data, "since").(float64) - field(arrange.Data, "since").(float64)) * float64(time.Millisecond)); d < 3*time.Second {
		t.Errorf("after-call work lasted %v, want the 3 s wrap-up", d)
	}
	u.waitDisplay("Free 00:0", 3*time.Second)

	// Not ready: baresip's call is refused with 480 and never rings.
	u.press("notready")
	u.waitStatus("notReady", "", 3*time.Second)
	if err := caller.Dial("sip:1001@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	ns := u.waitEvent(event.NewSession, 10*time.Second, func(d any) bool { return field(d, "sessionDirection") == phone.CallIn })
	ended := u.wantEnded(field(ns.Data, "sessionId").(string), phone.EndLocalBye)
	if field(ended.Data, "sipCode") != float64(480) {
		t.Errorf("refused call ended %v, want sipCode 480", ended.Data)
	}
	ev, err := caller.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED")
	if err != nil {
		t.Fatalf("baresip did not see the refusal: %v", err)
	}
	if !strings.Contains(ev.Param, "480") {
		t.Errorf("baresip closed with %q, want a 480", ev.Param)
	}
}

// privateKamailio is a Kamailio of the test's own (opts.Dir and, when
// empty, opts.Users are filled in), stopped at cleanup with its log shown
// if the test failed.
func privateKamailio(t *testing.T, opts labkit.KamailioOptions) *labkit.Kamailio {
	t.Helper()
	labkit.Require(t)
	opts.Dir = t.TempDir()
	if opts.Users == nil {
		opts.Users = labUsers
	}
	k, err := labkit.StartKamailio(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log())
		}
		_ = k.Stop()
	})
	return k
}

// presenceLab is a Kamailio with the presence server, for 1001..1004.
func presenceLab(t *testing.T) *labkit.Kamailio {
	return privateKamailio(t, labkit.KamailioOptions{Presence: true})
}

func labUA(t *testing.T, registrar, user string) *sipua.UA {
	t.Helper()
	u, err := sipua.New(sipua.Config{Registrar: registrar, Domain: labkit.Domain, User: user, AuthUser: user,
		Password: labUsers[user], Transport: "udp", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// agent.sync: sip. The status keys PUBLISH the agent status to Kamailio's
// presence server, where a watcher (1002) sees it; a status another device
// of the same agent publishes comes back to the phone's LED and display.
func TestAgentStatusOverSIPPresence(t *testing.T) {
	kam := presenceLab(t)
	ctx := ctxT(t, 60*time.Second)
	watcher := labUA(t, kam.Addr(), "1002")
	seen := make(chan sipua.Notify, 64)
	target, _ := watcher.RequestURI("1001")
	sub, err := watcher.Subscribe(ctx, sipua.SubscribeOptions{Target: target, Event: "presence",
		Accept: []string{presence.ContentType}, OnNotify: func(n sipua.Notify) { seen <- n }})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())

	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Agent.Sync = "sip"
	u := startPhone(t, cfg)
	u.registered()
	waitPIDF(t, seen, agent.Free, "")
	u.press("rest")
	u.waitDisplay("Rest reason:", 3*time.Second)
	u.press("2")
	u.waitStatus("rest", "Meeting", 3*time.Second)
	waitPIDF(t, seen, agent.Rest, "Meeting")
	waitFor(t, 10*time.Second, func() bool {
		s := u.d.phone.AgentStatus().Sync
		return s != nil && s.InSync
	}, func() string { return "the phone never said it is in sync" })

	// The agent's other device (the workbench's softphone, say) goes not ready.
	other := presence.New(labUA(t, kam.Addr(), "1001"), presence.Options{})
	defer other.Close(context.Background())
	if err := other.Report(ctx, agent.Change{Status: agent.NotReady, Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e := u.waitStatus("notReady", "", 10*time.Second)
	if field(e.Data, "source") != "contactCenter" {
		t.Errorf("statusChanged %v, want source contactCenter", e.Data)
	}
	u.waitStatusLED("on", "amber", 3*time.Second)
	u.waitDisplay("Not ready", 3*time.Second)
}

// waitPIDF waits until the watcher sees a PIDF whose newest tuple is this
// status.
func waitPIDF(t *testing.T, ch <-chan sipua.Notify, st agent.Status, reason string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	last := ""
	for {
		select {
		case n := <-ch:
			last = string(n.Body)
			ts, err := presence.Decode(n.Body)
			if err != nil {
				continue
			}
			if tu := presence.Newest(ts); tu != nil && tu.Change.Status == st && tu.Change.Reason == reason {
				return
			}
		case <-deadline:
			t.Fatalf("the watcher never saw %s %s; last NOTIFY body:\n%s", st, reason, last)
		}
	}
}

// agent.sync: relay, against tools/relay and its fake cloud. A status key
// reaches the cloud as SetStaffStatus; a status changed in the cloud (the
// workbench) reaches the LED; a status the cloud refuses is taken back;
// the relay down leaves the phone out of sync until it is back; an admin's
// ForceMemberOffline is kickedOut.
func TestAgentStatusOverTheRelay(t *testing.T) {
	kam := kamailio(t)
	e := relaytest.Start(t)
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Agent.Sync = "relay"
	cfg.Relay = config.Relay{URL: e.URL, Token: relaytest.AliceToken, CAFile: e.CAFile}
	u := startPhone(t, cfg)
	u.registered()

	u.press("notready")
	u.waitStatus("notReady", "", 3*time.Second)
	waitFor(t, 10*time.Second, func() bool {
		s, _ := e.Cloud.Staff(relaytest.Alice)
		return s.Status == "notReady"
	}, func() string {
		s, _ := e.Cloud.Staff(relaytest.Alice)
		return "the cloud has " + s.Status + ", want notReady"
	})
	calls := e.Cloud.Calls("SetStaffStatus")
	if last := fmt.Sprint(calls[len(calls)-1].Params["StaffStatusList"]); last != "[map[StaffUserId:alice@example.com Status:notReady]]" {
		t.Errorf("SetStaffStatus StaffStatusList %s", last)
	}

	// The workbench puts the agent on rest: the phone follows.
	e.Cloud.SetStaff(relaytest.Alice, "rest", "Training")
	ev := u.waitStatus("rest", "Training", 10*time.Second)
	if field(ev.Data, "source") != "contactCenter" {
		t.Errorf("statusChanged %v, want source contactCenter", ev.Data)
	}
	u.waitStatusLED("on", "blue", 3*time.Second)

	// The cloud refuses free: an onError, and the agent stays on rest.
	e.Cloud.Fail("SetStaffStatus", "FailedOperation.StaffStatusNotAllowed", "staff may not leave rest now")
	u.press("free")
	u.waitStatus("free", "", 3*time.Second)
	errEv := u.waitEvent(event.Error, 10*time.Second, func(d any) bool {
		m, _ := field(d, "errMsg").(string)
		return strings.Contains(m, "staff may not leave rest now")
	})
	t.Logf("refusal: %v", errEv.Data)
	u.waitStatus("rest", "Training", 10*time.Second)
	e.Cloud.Fail("SetStaffStatus", "", "")

	// A ForceMemberOffline by the admin: kickedOut, shown, offline.
	req, _ := http.NewRequest("POST", e.URL+"/v1/admin/force-offline", strings.NewReader(`{"userId":"alice@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+relaytest.AdminToken)
	res, err := e.HTTPClient().Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("force-offline: %v %v", res, err)
	}
	res.Body.Close()
	u.waitEvent(event.KickedOut, 10*time.Second, nil)
	u.waitDisplay("Kicked out", 3*time.Second)
	u.waitStatusLED("off", "", 3*time.Second)
	code, out := u.do("GET", "/v1/login", nil)
	if code == http.StatusOK || out["code"] != float64(403) {
		t.Errorf("checkLogin after kickedOut: %d %v, want 403", code, out)
	}

	// Logging in again takes the agent back: free, told to the cloud.
	u.must("POST", "/v1/login", nil)
	u.waitStatus("free", "", 10*time.Second)
	u.waitDisplay("Free 00:0", 3*time.Second)
	waitFor(t, 10*time.Second, func() bool {
		s, _ := e.Cloud.Staff(relaytest.Alice)
		return s.Status == "free"
	}, func() string {
		s, _ := e.Cloud.Staff(relaytest.Alice)
		return "the cloud has " + s.Status + ", want free"
	})
}

// The relay unreachable: the phone keeps the status it was given, says it
// is out of sync, and tells the relay once it is back.
func TestAgentStatusRelayDown(t *testing.T) {
	kam := kamailio(t)
	e := relaytest.Start(t)
	url, ca := e.URL, e.CAFile
	e.Close()
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Agent.Sync = "relay"
	cfg.Relay = config.Relay{URL: url, Token: relaytest.AliceToken, CAFile: filepath.Clean(ca)}
	u := startPhone(t, cfg)
	u.registered()
	u.press("notready")
	u.waitStatus("notReady", "", 3*time.Second)
	u.waitDisplay("Status not synced", 10*time.Second)
	if st := u.d.phone.AgentStatus(); st.Status != "notReady" || st.Sync == nil || st.Sync.InSync || st.Sync.Error == "" {
		t.Errorf("relay down: %+v sync %+v", st.StatusInfo, st.Sync)
	}
}

// The registrar refuses the refresh with 403 after letting the phone in
// (another device took the extension): kickedOut, shown, offline, and the
// phone stops registering.
func TestKickedOutByTheRegistrar(t *testing.T) {
	labkit.Require(t)
	reg := startSIPp(t, labkit.SIPpOptions{Scenario: labkit.ScenarioRegistrarKick})
	cfg := phoneConfig(t, reg.Addr(), "pw")
	cfg.Account.Keepalive = 0 // the script expects REGISTERs only
	u := startPhone(t, cfg)
	u.registered()
	e := u.waitEvent(event.KickedOut, 10*time.Second, nil)
	if r, _ := field(e.Data, "reason").(string); !strings.Contains(r, "403 Logged In Elsewhere") {
		t.Errorf("kickedOut %v", e.Data)
	}
	u.waitStatus("offline", "", 3*time.Second)
	u.waitDisplay("Kicked out", 3*time.Second)
	u.waitStatusLED("off", "", 3*time.Second)
	if err := reg.Wait(ctxT(t, 10*time.Second)); err != nil {
		t.Errorf("the registrar's script: %v", err)
	}
	if n := len(reg.Received("REGISTER")); n != 2 {
		t.Errorf("the registrar got %d REGISTERs: after the 403 the phone must stop", n)
	}
	if got := u.d.phone.AgentStatus(); !got.Kicked {
		t.Errorf("agent state %+v: want kicked", got)
	}
}

// account.provision: relay. The phone boots while the relay cannot reach
// the cloud, on the cached account whose password the contact center has
// since reset: the registrar answers 401, the phone asks the relay again,
// and once the relay answers it registers with the new password and keeps
// it.
func TestProvisionedAccountPasswordReset(t *testing.T) {
	kam := privateKamailio(t, labkit.KamailioOptions{Users: map[string]string{relaytest.AliceExt: "pw-new"}})
	e := relaytest.Start(t)
	e.Cloud.SetExtension(relaytest.Extension{ExtensionId: relaytest.AliceExt, ExtensionDomain: labkit.Domain,
		Password: "pw-new", OutboundProxy: kam.Addr(), Transport: "udp"})
	e.Cloud.Fail("DescribeExtension", "InternalError", "down for maintenance")
	cache := filepath.Join(t.TempDir(), "account.json")
	old := fmt.Sprintf(`{"extension":%q,"domain":%q,"password":"pw-old","outboundProxy":%q,"transport":"udp"}`, relaytest.AliceExt, labkit.Domain, kam.Addr())
	if err := os.WriteFile(cache, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Account.Provision, cfg.Account.Cache = "relay", cache
	cfg.Relay = config.Relay{URL: e.URL, Token: relaytest.AliceToken, CAFile: e.CAFile}
	u := startPhone(t, cfg)
	if cfg.Account.User != relaytest.AliceExt {
		t.Fatalf("the phone runs as %q, want the cached extension %s", cfg.Account.User, relaytest.AliceExt)
	}
	u.waitEvent(event.Registration, 10*time.Second, func(d any) bool { return field(d, "code") == float64(401) })
	e.Cloud.Fail("DescribeExtension", "", "") // the cloud is back
	u.waitEvent(event.Registration, 30*time.Second, func(d any) bool { return field(d, "state") == "registered" })
	data, err := os.ReadFile(cache)
	if err != nil || !strings.Contains(string(data), `"pw-new"`) {
		t.Errorf("the cache does not hold the new password: %s %v", data, err)
	}
	u.waitDisplay(relaytest.AliceExt+" Registered", 3*time.Second)
}
