package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// The registrar vanishes (SIGSTOP) and comes back: the keepalive notices
// within seconds, and the SDK's connection events come once each, in
// order — onConnectionLost, onTryToReconnect per attempt, then
// onConnectionRecovery — with one onError for the outage, not one per retry.
func TestConnectionLostAndRecovered(t *testing.T) {
	labkit.Require(t)
	kam, err := labkit.StartKamailio(labkit.KamailioOptions{Dir: filepath.Join(t.TempDir(), "kamailio"), Users: labUsers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kam.Continue(); _ = kam.Stop() })
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Account.Keepalive = time.Second
	u := startPhone(t, cfg)
	u.registered()

	if err := kam.Pause(); err != nil {
		t.Fatal(err)
	}
	lost := u.waitEvent(event.ConnectionLost, 10*time.Second, nil)
	if field(lost.Data, "serverType") != "staffExtensionSeat" || field(lost.Data, "reason") == nil {
		t.Errorf("onConnectionLost = %v", lost.Data)
	}
	u.waitEvent(event.TryToReconnect, 10*time.Second, func(d any) bool { return field(d, "attempt") == float64(1) })
	u.waitDisplay("1001 No service", 5*time.Second)
	if err := kam.Continue(); err != nil {
		t.Fatal(err)
	}
	u.waitEvent(event.ConnectionRecovery, 70*time.Second, nil)
	u.waitDisplay("1001 Registered", 5*time.Second)

	// The order, and one onError for the outage.
	var names []string
	errs := 0
	u.mu.Lock()
	for _, e := range u.events {
		switch e.Name {
		case event.ConnectionLost, event.ConnectionRecovery:
			names = append(names, e.Name)
		case event.TryToReconnect:
			if len(names) == 0 || names[len(names)-1] != event.TryToReconnect {
				names = append(names, e.Name)
			}
		case event.Error:
			errs++
		}
	}
	u.mu.Unlock()
	if got := fmt.Sprint(names); got != "[onConnectionLost onTryToReconnect onConnectionRecovery]" {
		t.Errorf("connection events %s", got)
	}
	if errs != 1 {
		t.Errorf("%d onError events for one outage, want 1", errs)
	}
}
