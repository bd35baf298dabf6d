package sipua

import (
	"fmt"
	"testing"
)

func TestParseSubState(t *testing.T) {
	for in, want := range map[string]string{
		"active;expires=600":              "active||600",
		"Terminated; reason=timeout":      "terminated|timeout|0",
		"pending":                         "pending||0",
		"active;expires=x;reason=ignored": "active|ignored|0",
		"":                                "||0",
	} {
		s, r, e := parseSubState(in)
		if got := fmt.Sprintf("%s|%s|%d", s, r, e); got != want {
			t.Errorf("parseSubState(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSubscriptionRetries(t *testing.T) {
	if !sameEvent("presence;id=1", "Presence") || sameEvent("dialog", "presence") {
		t.Error("sameEvent compares packages wrongly")
	}
	for code, forGood := range map[int]bool{403: true, 404: true, 489: true, 603: true, 408: false, 481: false, 503: false} {
		if got := refusedForGood(&StatusError{Code: code}); got != forGood {
			t.Errorf("refusedForGood(%d) = %v", code, got)
		}
	}
	if refusedForGood(ErrTimeout) {
		t.Error("a timeout is worth retrying")
	}
}
