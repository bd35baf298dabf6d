package sipua

import (
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// RFC 4475's messages that a UA must refuse by RFC 3261 §8.2, and valid
// ones that must pass.
func TestStrictCheckRFC4475(t *testing.T) {
	for name, want := range map[string]int{
		"mcl01": 400, "multi01": 400, "unkscm": 416, "bext01": 420, "sdp01": 406,
		"esc01": 0, "longreq": 0, "lwsdisp": 0, "semiuri": 0, "transports": 0,
	} {
		b, err := os.ReadFile("testdata/rfc4475/" + name + ".dat")
		if err != nil {
			t.Fatal(err)
		}
		m, err := sip.NewParser().ParseSIP(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res := strictCheck(m.(*sip.Request))
		got := 0
		if res != nil {
			got = int(res.StatusCode)
		}
		if got != want {
			t.Errorf("%s: strictCheck answers %d (%v), want %d", name, got, res, want)
		}
	}
}

func TestRequireSupportedExtensions(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Require", "timer, Replaces"))
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp;level=1, text/plain"))
	if res := strictCheck(req); res != nil {
		t.Fatalf("Require of what the phone supports refused: %v", res)
	}
	req.AppendHeader(sip.NewHeader("Require", "100rel"))
	res := strictCheck(req)
	if res == nil || res.StatusCode != 420 || res.GetHeader("Unsupported").Value() != "100rel" {
		t.Fatalf("Require: 100rel answered %v, want 420 with Unsupported: 100rel", res)
	}
}
