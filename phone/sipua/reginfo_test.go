package sipua

import (
	"strings"
	"testing"
)

// kamailioTakeover is what Kamailio 5.6.3 (pua_reginfo → presence_reginfo)
// NOTIFYs when a second REGISTER of 1001 replaces the first binding.
const kamailioTakeover = `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
  <registration aor="sip:1001@127.0.0.1" id="0x7f6d23b13bb8" state="active">
    <contact id="0x7f6d23b13cd0" state="terminated" event="unregistered" expires="300" callid="2774fd75" cseq="2" received="" path="" user_agent="n/a">
      <uri>sip:1001@127.0.0.1:40262</uri>
    </contact>
    <contact id="0x7f6d23b1ddd0" state="active" event="registered" expires="300" callid="ed9e156d" cseq="2" received="" path="" user_agent="n/a">
      <uri>sip:1001@127.0.0.1:34644</uri>
    </contact>
  </registration>
</reginfo>
`

func TestParseReginfoKamailio(t *testing.T) {
	ri, err := ParseReginfo([]byte(kamailioTakeover))
	if err != nil {
		t.Fatal(err)
	}
	if ri.State != "full" || ri.Version != 0 || len(ri.Registrations) != 1 {
		t.Fatalf("parsed %+v", ri)
	}
	r := ri.Registrations[0]
	if r.AOR != "sip:1001@127.0.0.1" || r.State != "active" || len(r.Contacts) != 2 {
		t.Fatalf("registration %+v", r)
	}
	want := []RegContact{
		{ID: "0x7f6d23b13cd0", URI: "sip:1001@127.0.0.1:40262", State: "terminated", Event: "unregistered", Expires: 300, CallID: "2774fd75"},
		{ID: "0x7f6d23b1ddd0", URI: "sip:1001@127.0.0.1:34644", State: "active", Event: "registered", Expires: 300, CallID: "ed9e156d"},
	}
	for i, c := range r.Contacts {
		if c != want[i] {
			t.Errorf("contact %d: %+v, want %+v", i, c, want[i])
		}
	}
	if r.Contacts[0].Active() || !r.Contacts[1].Active() {
		t.Error("Active() is wrong")
	}
}

func TestParseReginfoRFC3680Example(t *testing.T) {
	// RFC 3680 §6, partial, with a prefix and no expires.
	body := `<?xml version="1.0" encoding="UTF-8"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="partial">
  <registration aor="sip:user@example.com" id="a7" state="active">
    <contact id="76" state="terminated" event="rejected"><uri>sip:user@pc887.example.com</uri><display-name>x</display-name></contact>
  </registration>
</reginfo>`
	ri, err := ParseReginfo([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := ri.Registrations[0].Contacts[0]
	if ri.State != "partial" || ri.Version != 1 || c.Event != "rejected" || c.Expires != -1 || c.URI != "sip:user@pc887.example.com" {
		t.Fatalf("parsed %+v %+v", ri, c)
	}
}

// Hostile or broken bodies are refused with an error that names the
// problem, and never panic.
func TestParseReginfoRejects(t *testing.T) {
	reg := func(attrs, inner string) string {
		return `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration ` + attrs + `>` + inner + `</registration></reginfo>`
	}
	contact := func(attrs, inner string) string {
		return reg(`aor="sip:1001@x" id="1" state="active"`, `<contact id="c" `+attrs+`>`+inner+`</contact>`)
	}
	many := func(n int, s string) string { return strings.Repeat(s, n) }
	cases := []struct{ name, body, want string }{
		{"empty", "", "empty body"},
		{"blank", " \r\n\t", "empty body"},
		{"garbage", "\x00\xff not xml at all <<<", "not a reginfo document"},
		{"truncated", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"><registration aor="a" state="active">`, "not a reginfo document"},
		{"pidf", `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"/>`, "not a reginfo document"},
		{"other namespace", `<reginfo xmlns="urn:example:evil" state="full"/>`, "namespace"},
		{"huge", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full">` + many(MaxReginfoSize, " ") + `</reginfo>`, "larger than"},
		{"no state", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0"/>`, "no state attribute"},
		{"bad state", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="most"/>`, `state "most"`},
		{"bad version", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full" version="-3"/>`, "version"},
		{"no aor", reg(`state="active"`, ""), "has no aor"},
		{"registration state", reg(`aor="sip:a@b" state="gone"`, ""), "want init, active or terminated"},
		{"no uri", contact(`state="active" event="registered"`, ""), "no <uri>"},
		{"empty uri", contact(`state="active" event="registered"`, "<uri> </uri>"), "empty <uri>"},
		{"two uris", contact(`state="active" event="registered"`, "<uri>sip:a@b</uri><uri>sip:c@d</uri>"), "2 <uri>"},
		{"long uri", contact(`state="active" event="registered"`, "<uri>sip:"+many(3000, "a")+"@b</uri>"), "longer than"},
		{"no contact state", contact(`event="registered"`, "<uri>sip:a@b</uri>"), "no state attribute"},
		{"bad contact state", contact(`state="zombie" event="registered"`, "<uri>sip:a@b</uri>"), `state "zombie"`},
		{"no event", contact(`state="terminated"`, "<uri>sip:a@b</uri>"), "no event attribute"},
		{"bad expires", contact(`state="active" event="created" expires="soon"`, "<uri>sip:a@b</uri>"), "expires"},
		{"entity", `<!DOCTYPE r [<!ENTITY x "boom">]><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"><registration aor="&x;" state="active"/></reginfo>`, "not a reginfo document"},
		{"charset", `<?xml version="1.0" encoding="ISO-8859-1"?><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"/>`, "only UTF-8"},
		{"too many registrations", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full">` + many(maxRegistrations+1, `<registration aor="a" state="active"/>`) + `</reginfo>`, "registrations, more than"},
		{"too many contacts", reg(`aor="a" state="active"`, many(maxContactsPerAOR+1, `<contact state="active" event="created"><uri>sip:a@b</uri></contact>`)), "contacts, more than"},
		{"deep nesting", `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full">` + many(5000, "<x>") + many(5000, "</x>") + `</reginfo>`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ri, err := ParseReginfo([]byte(c.body))
			if c.want == "" { // accepted: unknown elements are skipped
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", ri)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "reginfo: ") {
				t.Fatalf("error %q, want one saying %q", err, c.want)
			}
		})
	}
}

func FuzzParseReginfo(f *testing.F) {
	f.Add([]byte(kamailioTakeover))
	f.Add([]byte(`<reginfo state="full"><registration aor="a" state="init"/></reginfo>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ri, err := ParseReginfo(b)
		if err == nil && ri == nil {
			t.Fatal("nil document without an error")
		}
	})
}
