package hal

// Accented Latin-1 letters and the ASCII letters they fold to, for
// displays whose character set is ASCII (plus a few extras).
const (
	accented   = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿ"
	unaccented = "AAAAAACEEEEIIIINOOOOOOUUUUYaaaaaaceeeeiiiinoooooouuuuyy"
)

// FoldAccent is the unaccented ASCII letter for an accented Latin-1 letter
// (é → e), so a name stays readable on a display without that glyph.
func FoldAccent(r rune) (byte, bool) {
	i := 0
	for _, a := range accented {
		if a == r {
			return unaccented[i], true
		}
		i++
	}
	return 0, false
}

// FillCells fills a display row's cells with s, one cell per character as
// enc codes it, padding with spaces and cutting what does not fit. It
// allocates nothing.
func FillCells(dst []byte, s string, enc func(rune) byte) {
	i := 0
	for _, r := range s {
		if i == len(dst) {
			return
		}
		dst[i] = enc(r)
		i++
	}
	for ; i < len(dst); i++ {
		dst[i] = ' '
	}
}
