package labkit

import (
	"bufio"
	"bytes"
	"math"
	"strings"
	"testing"
)

// These tests need no peers: they check the parsing and generation the
// end-to-end tests rely on.

func TestDominantFreqFindsSine(t *testing.T) {
	const rate = 8000
	s := make([]float64, rate)
	for i := range s {
		s[i] = 8000*math.Sin(2*math.Pi*440*float64(i)/rate) + 800*math.Sin(2*math.Pi*1300*float64(i)/rate)
	}
	peak, ratio := dominantFreq(s, rate, 100, 3400, 10)
	if peak != 440 || ratio < 10 {
		t.Fatalf("dominantFreq = %v Hz (×%.1f mean), want 440 Hz well above the rest", peak, ratio)
	}
}

func TestNetstringRoundTrip(t *testing.T) {
	var buf []byte
	buf = appendNetstring(buf, []byte(`{"a":1}`))
	buf = appendNetstring(buf, nil)
	if string(buf) != `7:{"a":1},0:,` {
		t.Fatalf("encoded %q", buf)
	}
	r := bufio.NewReader(bytes.NewReader(buf))
	for _, want := range []string{`{"a":1}`, ""} {
		got, err := readNetstring(r)
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	for _, bad := range []string{"3:abc;", "x:abc,", "-1:,"} {
		if _, err := readNetstring(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readNetstring(%q) accepted a malformed netstring", bad)
		}
	}
}

// ulDump is kamcmd ul.dump output as Kamailio 5.6.3 prints it (trimmed).
const ulDump = `{
	Domains: {
		Domain: {
			Domain: location
			Size: 1024
			AoRs: {
				Info: {
					AoR: 1001
					Contacts: {
						Contact: {
							Address: sip:1001@127.0.0.1:5099
							Expires: 60
							Q: -1
						}
						Contact: {
							Address: sip:1001@127.0.0.1:5098;transport=tcp
							Expires: permanent
						}
					}
				}
				Info: {
					AoR: 1002
					Contacts: {
						Contact: {
							Address: sip:1002-0x55f8b3c281e0@127.0.0.1:45185
							Expires: 300
						}
					}
				}
			}
		}
	}
}
`

func TestParseULDump(t *testing.T) {
	got, err := parseULDump(ulDump, "1001")
	if err != nil {
		t.Fatal(err)
	}
	want := []Binding{{"sip:1001@127.0.0.1:5099", 60}, {"sip:1001@127.0.0.1:5098;transport=tcp", 0}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("1001: got %+v, want %+v", got, want)
	}
	if got, _ := parseULDump(ulDump, "1003"); len(got) != 0 {
		t.Fatalf("1003 has no bindings, got %+v", got)
	}
	if _, err := parseULDump("error: 500 - nothing", "1001"); err == nil {
		t.Fatal("parseULDump accepted output with no location table")
	}
}

func TestKamailioCfgRejectsUnsafeCredentials(t *testing.T) {
	for _, users := range []map[string]string{{"10 01": "x"}, {"1001": `pw"; exit; "`}, {"1001": ""}} {
		if _, err := renderKamailioCfg(KamailioOptions{Users: users}, 5060, "/tmp/k.ctl", 0); err == nil {
			t.Errorf("users %q: accepted", users)
		}
	}
	if _, err := renderKamailioCfg(KamailioOptions{Algorithm: "SHA-512-256"}, 5060, "/tmp/k.ctl", 0); err == nil {
		t.Error("algorithm SHA-512-256 accepted; Kamailio 5.6 cannot challenge with it")
	}
}

func TestRegisteredOK(t *testing.T) {
	ok := "\n--- User Agents (1) ---\n> sip:1002@127.0.0.1:44811                   \x1b[32mOK \x1b[;m kamailio Expires 300s\n\n"
	if !registeredOK(ok) {
		t.Errorf("registeredOK(%q) = false", ok)
	}
	for _, not := range []string{
		"\n--- User Agents (1) ---\n> sip:1002@127.0.0.1:44811                   \x1b[31mERR\x1b[;m\n",
		"\n--- User Agents (1) ---\n> sip:1002@127.0.0.1:44811                   \x1b[33mzzz\x1b[;m\n",
	} {
		if registeredOK(not) {
			t.Errorf("registeredOK(%q) = true", not)
		}
	}
}
