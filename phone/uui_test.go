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
