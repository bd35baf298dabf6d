package phone

import "testing"

func TestDecodeUUI(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"6f726465723d3432;encoding=hex": "order=42",
		"6F726465723D3432;Encoding=HEX": "order=42",
		"plain-text":                    "plain-text",
		"zz;encoding=hex":               "zz", // not hex: kept as sent
	} {
		if got := decodeUUI(in); got != want {
			t.Errorf("decodeUUI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserOf(t *testing.T) {
	for in, want := range map[string]string{
		`"Sales" <sip:4001@pbx.example.com>`: "4001",
		`<tel:+8675512345678>`:               "+8675512345678",
		`sip:4002@pbx;user=phone`:            "4002",
		``:                                   "",
		`garbage`:                            "",
	} {
		if got := userOf(in); got != want {
			t.Errorf("userOf(%q) = %q, want %q", in, got, want)
		}
	}
}
