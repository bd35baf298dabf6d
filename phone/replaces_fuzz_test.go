package phone

import (
	"strings"
	"testing"
)

// FuzzParseReplaces: an RFC 3891 Replaces value from an INVITE (anyone's)
// matches itself, and matches with its tags swapped, whatever it holds.
func FuzzParseReplaces(f *testing.F) {
	f.Add("abc@host;to-tag=1;from-tag=2")
	f.Add("abc;FROM-TAG=2 ; to-tag=1;early-only")
	f.Add(";;=;to-tag")
	f.Fuzz(func(t *testing.T, v string) {
		r := parseReplaces(v)
		if !r.same(r) {
			t.Fatalf("%q does not match itself", v)
		}
		swapped := replacesID{callID: r.callID, a: r.b, b: r.a}
		if !r.same(swapped) {
			t.Fatalf("%q does not match with its tags swapped", v)
		}
		if strings.Contains(r.callID, ";") {
			t.Fatalf("call-id %q keeps a parameter", r.callID)
		}
	})
}
