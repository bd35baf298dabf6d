package phone

import (
	"testing"

	"deskphone/phone/sipua"

	"github.com/emiago/sipgo/sip"
)

func TestRegEventTakeover(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1", Port: 40262}
	c := func(uri, state, ev string) sipua.RegContact {
		return sipua.RegContact{URI: uri, State: state, Event: ev}
	}
	me, other := "sip:1001@127.0.0.1:40262", "sip:1001@127.0.0.1:34644"
	cases := []struct {
		name     string
		contacts []sipua.RegContact
		want     bool
	}{
		{"replaced (Kamailio save 0x04)", []sipua.RegContact{c(me, "terminated", "unregistered"), c(other, "active", "registered")}, true},
		{"deactivated", []sipua.RegContact{c(me, "terminated", "deactivated"), c(other, "active", "created")}, true},
		{"rejected", []sipua.RegContact{c(me, "terminated", "rejected"), c(other, "active", "registered")}, true},
		{"ours with params", []sipua.RegContact{c(me+";transport=udp", "terminated", "unregistered"), c(other, "active", "created")}, true},
		{"own un-REGISTER, nobody else", []sipua.RegContact{c(me, "terminated", "unregistered")}, false},
		{"other one terminated too", []sipua.RegContact{c(me, "terminated", "unregistered"), c(other, "terminated", "expired")}, false},
		{"expired", []sipua.RegContact{c(me, "terminated", "expired"), c(other, "active", "registered")}, false},
		{"still active", []sipua.RegContact{c(me, "active", "refreshed"), c(other, "active", "created")}, false},
		{"ours not listed", []sipua.RegContact{c("sip:1001@127.0.0.1:5555", "terminated", "unregistered"), c(other, "active", "created")}, false},
		{"other port", []sipua.RegContact{c("sip:1001@127.0.0.1:40263", "terminated", "unregistered"), c(other, "active", "created")}, false},
		{"other user", []sipua.RegContact{c("sip:1002@127.0.0.1:40262", "terminated", "unregistered"), c(other, "active", "created")}, false},
		{"garbage uri", []sipua.RegContact{c("::::", "terminated", "unregistered"), c(other, "active", "created")}, false},
	}
	for _, tc := range cases {
		m := map[string]sipua.RegContact{}
		for _, x := range tc.contacts {
			m[x.URI] = x
		}
		if _, _, got := takeover(m, ours); got != tc.want {
			t.Errorf("%s: takeover = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !sameContact("sip:1001@127.0.0.1", sip.Uri{User: "1001", Host: "127.0.0.1", Port: 5060}) {
		t.Error("no port means 5060")
	}
}
