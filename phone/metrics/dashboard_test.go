package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
)

// Every metric the Grafana dashboard queries is one this package serves,
// so a rename here cannot leave the dashboard's panels empty.
func TestDashboardNamesExist(t *testing.T) {
	raw, err := os.ReadFile("../../tools/grafana/deskphone.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("tools/grafana/deskphone.json is not valid JSON: %v", err)
	}
	m := New(event.NewBus(), Options{})
	// Give every vector a series, so Gather lists its family.
	m.apply(event.Event{Name: event.NewSession, Data: phone.SessionInfo{SessionID: "a", SessionDirection: phone.CallIn}})
	m.apply(event.Event{Name: event.Accepted, Time: time.Now(), Data: phone.SessionRef{SessionID: "a"}})
	m.apply(event.Event{Name: event.Ended, Time: time.Now(), Data: phone.Ended{SessionID: "a", Reason: phone.EndLocalBye, RTP: &phone.RTPStats{PacketsReceived: 1}}})
	m.apply(event.Event{Name: event.Registration, Data: phone.RegistrationInfo{State: "registered"}})
	m.apply(event.Event{Name: event.StatusChanged, Data: phone.StatusInfo{Status: "free", Since: 1}})
	m.Key("1")
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		served[name] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			served[name+suffix] = true
		}
	}
	metric := regexp.MustCompile(`\b(deskphone|go|process)_[a-z_]+\b`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range metric.FindAllString(tg.Expr, -1) {
				n++
				if !served[name] {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, name)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("found only %d metric names in the dashboard's queries", n)
	}
}
