package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	File string // the config file's name as given to Load or Parse
	Line int    // 1-based; 0 when no line applies (e.g. a missing section)
	Key  string // dotted key, e.g. "account.registrar"; empty for syntax errors
	Msg  string // what is wrong and what to do
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a config file, in line order.
type Error struct {
	Problems []Problem
}

// Error prints one problem per line, e.g.
//
//	phone.yaml:4: account.registrar: 'pbx:99999' is not a valid port (use 1-65535, e.g. pbx:5060)
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
