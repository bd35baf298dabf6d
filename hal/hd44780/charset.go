package hd44780

import (
	"deskphone/hal"
)

// The character ROM is assumed to be A00 (Japanese), the one nearly every
// module has: ASCII 0x20–0x7D except that 0x5C is '¥' and 0x7E, 0x7F are '→'
// and '←', and a few Latin and Greek letters above 0xA0.

// romExtra are characters outside ASCII that the A00 ROM has.
var romExtra = map[rune]byte{
	'¥': 0x5C, '→': 0x7E, '←': 0x7F, '·': 0xA5, '°': 0xDF,
	'ä': 0xE1, 'ß': 0xE2, 'µ': 0xE4, 'μ': 0xE4, 'ñ': 0xEE, 'ö': 0xEF,
	'Ω': 0xF4, 'ü': 0xF5, 'π': 0xF7, '÷': 0xFD, '█': 0xFF,
}

// EncodeRune is the ROM code shown for r: printable ASCII as is, the A00
// ROM's own extras (¥ → ← · ° ä ß µ ñ ö Ω ü π ÷ █), other accented Latin-1
// letters without their accent, and '?' for anything else — including '\\'
// and '~', which the ROM lacks, and control characters, whose codes are the
// user-defined glyphs.
func EncodeRune(r rune) byte {
	if r >= 0x20 && r <= 0x7D && r != '\\' {
		return byte(r)
	}
	if b, ok := romExtra[r]; ok {
		return b
	}
	if b, ok := hal.FoldAccent(r); ok {
		return b
	}
	return '?'
}

// Encode fills dst with the ROM codes of s, one cell per character, padding
// with spaces and cutting what does not fit.
func Encode(dst []byte, s string) { hal.FillCells(dst, s, EncodeRune) }
