package hal

import "testing"

func TestFoldAccent(t *testing.T) {
	if len([]rune(accented)) != len(unaccented) {
		t.Fatalf("accent table: %d letters, %d replacements", len([]rune(accented)), len(unaccented))
	}
	for in, want := range map[rune]byte{'é': 'e', 'Ü': 'U', 'ñ': 'n', 'ÿ': 'y', 'Ç': 'C'} {
		if got, ok := FoldAccent(in); !ok || got != want {
			t.Errorf("FoldAccent(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, r := range []rune{'a', '漢', '~', 'ß'} {
		if _, ok := FoldAccent(r); ok {
			t.Errorf("FoldAccent(%q) folded a letter that has no plain form here", r)
		}
	}
}
