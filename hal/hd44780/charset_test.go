package hd44780

import "testing"

func TestEncode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Call 1002", "Call 1002       "},
		{"José Müller", "Jose M\xF5ller     "},       // é folded, ü in the ROM
		{"21°C ¥5 a→b", "21\xDFC \x5C5 a\x7Eb     "}, // the ROM's own extras
		{`C:\x ~ 漢 ` + "\t\x00", "C:?x ? ? ??     "},
		{"a very long line that is cut", "a very long line"},
		{"bad \xff utf8", "bad ? utf8      "},
		{"ÀÉÎÕÜàéîõüÿ", "AEIOUaeio\xF5y     "},
	} {
		got := make([]byte, 16)
		Encode(got, c.in)
		if string(got) != c.want {
			t.Errorf("Encode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
