package config

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports syntax errors as "yaml: line N: what".
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 syntax error into a Problem.
func syntaxProblem(data []byte, name string, err error) Problem {
	p := Problem{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	}
	if l := firstFailingLine(data, p.Msg); l > 0 {
		p.Line = l
	}
	lines := strings.Split(string(data), "\n")
	if p.Line > 0 && p.Line <= len(lines) && strings.Contains(indentOf(lines[p.Line-1]), "\t") {
		p.Msg += " (this line is indented with a tab; YAML needs spaces)"
	}
	p.Msg = "YAML syntax error: " + p.Msg + "; check indentation, colons, brackets and quotes here"
	return p
}

// firstFailingLine finds the line where a syntax error starts: the shortest
// prefix of the file that fails with the same message. yaml.v3 itself often
// reports the line where the enclosing block starts, or the one before.
// It returns 0 when no prefix reproduces the error.
func firstFailingLine(data []byte, msg string) int {
	lines := strings.SplitAfter(string(data), "\n")
	var prefix strings.Builder
	for i, line := range lines {
		prefix.WriteString(line)
		var n yaml.Node
		err := yaml.Unmarshal([]byte(prefix.String()), &n)
		if err != nil && strings.HasSuffix(err.Error(), ": "+msg) || err != nil && err.Error() == "yaml: "+msg {
			return i + 1
		}
	}
	return 0
}

func indentOf(line string) string {
	return line[:len(line)-len(strings.TrimLeft(line, " \t"))]
}
