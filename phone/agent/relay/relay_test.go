package relay_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"deskphone/phone/agent"
	"deskphone/phone/agent/relay"
	rt "deskphone/tools/relay/relaytest"
)

func newClient(t *testing.T, e *rt.Env, token string) *relay.Client {
	t.Helper()
	c, err := relay.New(relay.Options{BaseURL: e.URL, Token: token, CAFile: e.CAFile, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestReportReachesTheCloud(t *testing.T) {
	e := rt.Start(t)
	c := newClient(t, e, rt.AliceToken)
	if c.Name() != "relay" {
		t.Errorf("Name %q", c.Name())
	}
	if err := c.Report(ctx(t), agent.Change{Status: agent.Rest, Reason: "Meal", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"SdkAppId": float64(rt.SdkAppID), "StaffStatusList": []any{
		map[string]any{"StaffUserId": rt.Alice, "Status": "rest", "Reason": "Meal"}}}
	if calls := e.Cloud.Calls("SetStaffStatus"); len(calls) != 1 || !reflect.DeepEqual(calls[0].Params, want) {
		t.Fatalf("SetStaffStatus calls %v, want %v", calls, want)
	}
	got, err := c.Status(ctx(t))
	if err != nil || got.Status != agent.Rest || got.Reason != "Meal" || time.Since(got.Since) > time.Minute {
		t.Errorf("Status after Report: %+v %v", got, err)
	}
	if err := c.Report(ctx(t), agent.Change{Status: agent.NotReady}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.Cloud.Staff(rt.Alice); s.Status != "notReady" {
		t.Errorf("cloud holds %+v", s)
	}
}

func TestReportRefused(t *testing.T) {
	e := rt.Start(t)
	c := newClient(t, e, rt.AliceToken)
	var refused *agent.RefusedError
	// The relay's own "no": the cloud cannot set busy.
	err := c.Report(ctx(t), agent.Change{Status: agent.Busy})
	if !errors.As(err, &refused) || refused.Code != 422 || !strings.Contains(refused.Message, "free, notReady or rest") {
		t.Errorf("busy: %v, want a 422 RefusedError", err)
	}
	// The contact center's "no", with its words.
	e.Cloud.Fail("SetStaffStatus", "InvalidParameterValue", "rest reason Nap is not configured")
	err = c.Report(ctx(t), agent.Change{Status: agent.Rest, Reason: "Nap"})
	if !errors.As(err, &refused) || refused.Code != 409 || refused.Message != "rest reason Nap is not configured" {
		t.Errorf("cloud refusal: %v", err)
	}
	// The cloud down is not a refusal: retry later.
	e.Cloud.Close()
	err = c.Report(ctx(t), agent.Change{Status: agent.Free})
	if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "502") {
		t.Errorf("cloud down: %v, want a plain error with 502", err)
	}
	// An unknown token is the phone's configuration, not the agent's status.
	err = newClient(t, e, "unknown-token-0123456789").Report(ctx(t), agent.Change{Status: agent.Free})
	if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "device token") {
		t.Errorf("unknown token: %v, want a plain error naming the device token", err)
	}
}

func TestRelayDown(t *testing.T) {
	e := rt.Start(t)
	c := newClient(t, e, rt.AliceToken)
	e.Close()
	var refused *agent.RefusedError
	if err := c.Report(ctx(t), agent.Change{Status: agent.Free}); err == nil || errors.As(err, &refused) {
		t.Errorf("Report with the relay down: %v, want a plain error", err)
	}
	if err := c.Watch(ctx(t), func(agent.Change) {}); err == nil {
		t.Error("Watch with the relay down returned nil")
	}
	if _, err := c.Provision(ctx(t)); err == nil {
		t.Error("Provision with the relay down returned nil")
	}
}

// watch runs Watch in the background and hands over what it delivers.
func watch(t *testing.T, c *relay.Client) (<-chan agent.Change, <-chan error, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	got, done := make(chan agent.Change, 16), make(chan error, 1)
	go func() { done <- c.Watch(wctx, func(ch agent.Change) { got <- ch }) }()
	return got, done, cancel
}

func next(t *testing.T, got <-chan agent.Change) agent.Change {
	t.Helper()
	select {
	case ch := <-got:
		return ch
	case <-time.After(5 * time.Second):
		t.Fatal("Watch delivered nothing within 5s")
	}
	return agent.Change{}
}

func TestWatch(t *testing.T) {
	e := rt.Start(t)
	c := newClient(t, e, rt.AliceToken)
	got, done, cancel := watch(t, c)
	if ch := next(t, got); ch.Status != agent.Free || ch.Kicked || ch.Since.IsZero() {
		t.Errorf("first: %+v, want the current status free", ch)
	}
	e.Cloud.SetStaff(rt.Alice, "rest", "Training")
	if ch := next(t, got); ch.Status != agent.Rest || ch.Reason != "Training" {
		t.Errorf("workbench change: %+v", ch)
	}
	e.Cloud.SetStaff(rt.Alice, "afterCallWork", "")
	if ch := next(t, got); ch.Status != agent.Arrange {
		t.Errorf("after-call work: %+v, want arrange", ch)
	}
	e.Cloud.SetStaff(rt.Alice, "offline", "")
	if ch := next(t, got); ch.Status != agent.Offline || !ch.Kicked {
		t.Errorf("offline in the cloud: %+v, want Offline Kicked", ch)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

func TestWatchKickedOutByAdmin(t *testing.T) {
	e := rt.Start(t)
	got, _, _ := watch(t, newClient(t, e, rt.AliceToken))
	next(t, got)
	req, _ := http.NewRequest("POST", e.URL+"/v1/admin/force-offline", strings.NewReader(`{"userId":"alice@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+rt.AdminToken)
	resp, err := adminClient(t, e).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("force-offline: %v %v", resp, err)
	}
	resp.Body.Close()
	if ch := next(t, got); ch != (agent.Change{Status: agent.Offline, Reason: "forced offline by an administrator", Since: ch.Since, Kicked: true}) {
		t.Errorf("got %+v, want Offline Kicked", ch)
	}
}

func adminClient(t *testing.T, e *rt.Env) *http.Client {
	pem, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestWatchBreaks(t *testing.T) {
	e := rt.Start(t)
	got, done, _ := watch(t, newClient(t, e, rt.AliceToken))
	next(t, got) // the stream is open
	e.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Watch returned nil when the stream broke")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return when the relay went down")
	}
}

func TestWatchIdle(t *testing.T) {
	// A relay that opens the stream and then says nothing at all.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := relay.New(relay.Options{BaseURL: srv.URL, Token: "t", AllowHTTP: true, IdleTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(ctx(t), func(agent.Change) {}); err == nil || !strings.Contains(err.Error(), "nothing received") {
		t.Errorf("silent stream: %v", err)
	}
}

func TestProvision(t *testing.T) {
	e := rt.Start(t)
	a, err := newClient(t, e, rt.AliceToken).Provision(ctx(t))
	want := relay.Account{Extension: rt.AliceExt, Domain: "1400000001.tccc.qcloud.com", Password: "s3cret-sip",
		OutboundProxy: "sip.tccc.qcloud.com:5060", Transport: "udp"}
	if err != nil || a != want {
		t.Fatalf("Provision: %+v %v, want %+v", a, err, want)
	}
	// Bob's extension lacks the proxy and the transport.
	_, err = newClient(t, e, rt.BobToken).Provision(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "outboundProxy, transport") {
		t.Errorf("incomplete account: %v, want an error naming outboundProxy, transport", err)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []relay.Options{
		{BaseURL: "relay.example.com", Token: "t"},
		{BaseURL: "http://relay.example.com", Token: "t"},
		{BaseURL: "https://relay.example.com", Token: ""},
		{BaseURL: "https://relay.example.com", Token: "a b"},
		{BaseURL: "https://relay.example.com", Token: "t", CAFile: "/nonexistent.pem"},
	} {
		if _, err := relay.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
