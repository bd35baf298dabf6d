package presence

import (
	"slices"
	"strings"
	"testing"
	"time"

	"deskphone/phone/agent"
)

var t0 = time.Date(2026, 1, 2, 9, 30, 0, 123456789, time.UTC)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, c := range []agent.Change{
		{Status: agent.Free, Since: t0},
		{Status: agent.Busy, Since: t0},
		{Status: agent.Arrange, Since: t0},
		{Status: agent.NotReady, Since: t0},
		{Status: agent.Rest, Reason: `Meal & "coffee" <break>`, Since: t0},
		{Status: agent.Offline, Since: t0.In(time.FixedZone("X", 3600))},
	} {
		body, err := Encode("sip:1001@pbx", "dp-1", c)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := Decode(body)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Decode(%s) = %v, %v", body, ts, err)
		}
		got := ts[0]
		if got.ID != "dp-1" || got.Change.Status != c.Status || got.Change.Reason != c.Reason || !got.Change.Since.Equal(c.Since.Truncate(time.Millisecond)) { // since travels in ms
			t.Errorf("round trip of %+v gave %+v", c, got)
		}
		if want := map[bool]string{true: "open", false: "closed"}[c.Status == agent.Free]; got.Basic != want {
			t.Errorf("%s: basic %q, want %q", c.Status, got.Basic, want)
		}
	}
}

func TestEncodeActivitiesAndReason(t *testing.T) {
	for c, want := range map[agent.Change]string{
		{Status: agent.Busy, Since: t0}:                         "<rpid:on-the-phone/>",
		{Status: agent.Rest, Reason: "Meal", Since: t0}:         "<rpid:meal/>",
		{Status: agent.Rest, Reason: "Team meeting", Since: t0}: "<rpid:meeting/>",
		{Status: agent.Rest, Reason: "Other", Since: t0}:        "<rpid:away/>",
	} {
		body, err := Encode("sip:1001@pbx", "dp-1", c)
		if err != nil || !strings.Contains(string(body), want) {
			t.Errorf("Encode(%+v) = %s, %v; want %s", c, body, err, want)
		}
	}
	body, _ := Encode("sip:1001@pbx", "dp-1", agent.Change{Status: agent.Free, Reason: "stale", Since: t0})
	if strings.Contains(string(body), "stale") || strings.Contains(string(body), "activities") {
		t.Errorf("free carries a reason or an activity: %s", body)
	}
	if _, err := Encode("e", "i", agent.Change{Status: "lunch", Since: t0}); err == nil {
		t.Error("an unknown status was encoded")
	}
	if _, err := Encode("e", "i", agent.Change{Status: agent.Free}); err == nil {
		t.Error("a change without since was encoded")
	}
}

// The presence server's aggregate: several tuples, some not ours.
const aggregate = `<?xml version="1.0"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@127.0.0.1">
 <tuple id="softphone"><status><basic>open</basic></status></tuple>
 <tuple id="dp-a"><status><basic>closed</basic></status>
  <agent:agent xmlns:agent="urn:deskphone:params:xml:ns:agent"><agent:status>busy</agent:status><agent:since>2026-01-02T09:00:00Z</agent:since></agent:agent></tuple>
 <tuple id="dp-b"><status><basic>closed</basic></status>
  <x:agent xmlns:x="urn:deskphone:params:xml:ns:agent"><x:status>afterCallWork</x:status></x:agent><timestamp>2026-01-02T09:10:00+01:00</timestamp></tuple>
 <tuple id="dp-c"><status><basic>open</basic></status>
  <agent:agent xmlns:agent="urn:deskphone:params:xml:ns:agent"><agent:status>rest</agent:status><agent:reason> Meal </agent:reason><agent:since>2026-01-02T09:05:00Z</agent:since></agent:agent></tuple>
</presence>`

func TestDecodeAggregatePicksNewest(t *testing.T) {
	ts, err := Decode([]byte(aggregate))
	if err != nil || len(ts) != 3 {
		t.Fatalf("Decode = %+v, %v; want the 3 agent tuples", ts, err)
	}
	if ts[1].Change.Status != agent.Arrange || ts[2].Change.Reason != "Meal" {
		t.Errorf("tuples %+v", ts)
	}
	c, ok := pick(ts, "dp-x")
	if !ok || c.Status != agent.Rest {
		t.Errorf("pick = %+v, %v; want rest (09:05Z is newer than 09:10+01:00)", c, ok)
	}
	if _, ok := pick(ts, "dp-c"); ok {
		t.Error("our own tuple, the newest, was delivered")
	}
	tie := append(slices.Clone(ts), Tuple{ID: "mine", Change: agent.Change{Status: agent.Free, Since: ts[2].Change.Since}})
	if _, ok := pick(tie, "mine"); ok {
		t.Error("a tuple as new as our own was delivered")
	}
	if _, ok := pick(nil, "mine"); ok {
		t.Error("nothing was delivered as something")
	}
}

func TestDecodeHostileBodies(t *testing.T) {
	huge := "<presence xmlns='urn:ietf:params:xml:ns:pidf'>" + strings.Repeat("<tuple id='x'/>", MaxBody/10) + "</presence>"
	many := "<presence xmlns='urn:ietf:params:xml:ns:pidf'>" + strings.Repeat("<tuple id='x'/>", MaxTuples+1) + "</presence>"
	deep := strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000)
	for name, tc := range map[string]struct {
		body    string
		wantErr string
		tuples  int
	}{
		"empty":          {"", "", 0},
		"garbage":        {"\x00\xff not xml at all", "not a PIDF document", 0},
		"truncated":      {aggregate[:300], "not a PIDF document", 0},
		"wrong root":     {`<html xmlns="urn:ietf:params:xml:ns:pidf"/>`, "not a PIDF document", 0},
		"wrong ns":       {`<presence xmlns="urn:x"><tuple/></presence>`, "not a PIDF document", 0},
		"huge":           {huge, "more than", 0},
		"too many":       {many, "tuples, more than", 0},
		"deep":           {deep[:MaxBody-100], "not a PIDF document", 0},
		"entity":         {`<!DOCTYPE p [<!ENTITY a "aaaa">]><presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="&a;"/></presence>`, "not a PIDF document", 0},
		"no tuples":      {`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"/>`, "", 0},
		"missing status": {agentTuple("", "2026-01-02T09:00:00Z"), "no <agent:status>", 0},
		"bad status":     {agentTuple("lunch", "2026-01-02T09:00:00Z"), "unknown agent status", 0},
		"missing since":  {agentTuple("free", ""), "no <agent:since>", 0},
		"bad since":      {agentTuple("free", "yesterday"), "not an RFC 3339 time", 0},
		"long reason":    {strings.Replace(agentTuple("rest", "2026-01-02T09:00:00Z"), "<a:since>", "<a:reason>"+strings.Repeat("r", 300)+"</a:reason><a:since>", 1), "longer than", 0},
		"one bad of two": {strings.Replace(aggregate, "<agent:status>busy", "<agent:status>nope", 1), "tuple 2", 2},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := Decode([]byte(tc.body))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			}
			if len(ts) != tc.tuples {
				t.Fatalf("%d tuples, want %d", len(ts), tc.tuples)
			}
		})
	}
}

func agentTuple(status, since string) string {
	s := `<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="t"><status><basic>open</basic></status><a:agent xmlns:a="urn:deskphone:params:xml:ns:agent">`
	if status != "" {
		s += "<a:status>" + status + "</a:status>"
	}
	s += "<a:since>" + since + "</a:since></a:agent></tuple></presence>"
	return s
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(aggregate))
	f.Add([]byte(agentTuple("rest", "x")))
	f.Fuzz(func(_ *testing.T, b []byte) { _, _ = Decode(b) })
}
