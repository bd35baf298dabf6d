// Package hil is the hardware-in-the-loop harness: it runs scenario
// scripts against a phone's serial console (phone/console), over a real
// serial port on a board or over a pseudo-terminal against the simulated
// board in CI, and drives far ends (baresip, through tools/labkit) when a
// script asks. The same script runs in both places. The script format is in
// README.md beside this file; cmd/hil is the command.
package hil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DefaultWithin is an expect step's deadline when the script gives none.
const DefaultWithin = 5 * time.Second

// Script is a parsed scenario.
type Script struct {
	Name  string // the file name, for reports
	Steps []Step
}

// Step is one line of a script.
type Step struct {
	Line   int    // 1-based line in the file
	Text   string // the line as written, without its comment
	Verb   string // press, hook, console, expect, peer, wait
	What   string // expect: display, led, event, state, agent, peer; peer: the action
	Args   []string
	Within time.Duration // expect: the deadline; wait: the pause
	User   string        // peer steps: the peer's extension
}

// ParseFile reads and parses a script file.
func ParseFile(path string) (*Script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hil: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	return Parse(f, path)
}

// Parse reads a script; every problem names name:line and what to write.
func Parse(r io.Reader, name string) (*Script, error) {
	s := &Script{Name: name}
	sc := bufio.NewScanner(r)
	var errs []string
	for n := 1; sc.Scan(); n++ {
		toks, err := tokenize(sc.Text())
		if err == nil && len(toks) == 0 {
			continue
		}
		var st Step
		if err == nil {
			st, err = parseStep(toks)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %v", name, n, err))
			continue
		}
		st.Line, st.Text = n, strings.Join(quoteAll(toks), " ")
		s.Steps = append(s.Steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hil: reading %s: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("hil: %s", strings.Join(errs, "\n"))
	}
	if len(s.Steps) == 0 {
		return nil, fmt.Errorf("hil: %s has no steps; see tools/hil/README.md for the format", name)
	}
	return s, nil
}

// tokenize splits a line into words; "double quoted" words may hold
// spaces and Go escapes; # starts a comment outside quotes.
func tokenize(line string) ([]string, error) {
	var toks []string
	rs := []rune(line)
	for i := 0; i < len(rs); {
		switch {
		case unicode.IsSpace(rs[i]):
			i++
		case rs[i] == '#':
			return toks, nil
		case rs[i] == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' {
					j++
				}
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("unterminated quote: %s; close it with \"", string(rs[i:]))
			}
			s, err := strconv.Unquote(string(rs[i : j+1]))
			if err != nil {
				return nil, fmt.Errorf("bad quoted text %s: %w", string(rs[i:j+1]), err)
			}
			toks = append(toks, quoted(s))
			i = j + 1
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) {
				j++
			}
			toks = append(toks, string(rs[i:j]))
			i = j
		}
	}
	return toks, nil
}

// quoted marks a token that was written in quotes, so that a quoted
// "within" is text, not a keyword. The mark is a NUL, which no line holds.
func quoted(s string) string { return "\x00" + s }

func unq(tok string) string { return strings.TrimPrefix(tok, "\x00") }

func quoteAll(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		if strings.HasPrefix(t, "\x00") {
			out[i] = strconv.Quote(unq(t))
		} else {
			out[i] = t
		}
	}
	return out
}

func unqAll(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = unq(t)
	}
	return out
}

var (
	ledArg   = regexp.MustCompile(`^[A-Za-z0-9_-]+=(off|on|blink|fast-blink)(/[a-z]+)?$`)
	fieldArg = regexp.MustCompile(`^[A-Za-z0-9_.]+=.*$`)
	userArg  = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
)

func parseStep(toks []string) (Step, error) {
	st := Step{Verb: unq(toks[0])}
	args := toks[1:]
	switch st.Verb {
	case "press":
		if len(args) == 0 {
			return st, fmt.Errorf("press needs keys, e.g. press 1 0 0 2 call")
		}
		st.Args = unqAll(args)
	case "hook":
		if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
			return st, fmt.Errorf("write hook off (lift the handset) or hook on (replace it)")
		}
		st.Args = args
	case "console":
		if len(args) == 0 {
			return st, fmt.Errorf("console needs a console command, e.g. console events on")
		}
		st.Args = unqAll(args)
	case "wait":
		if len(args) != 1 {
			return st, fmt.Errorf("write wait DURATION, e.g. wait 500ms (a pause a person would make; to wait for something, use expect … within)")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d <= 0 {
			return st, fmt.Errorf("wait %s: not a duration; write e.g. 500ms or 2s", args[0])
		}
		st.Within = d
	case "expect":
		return parseExpect(st, args)
	case "peer":
		return parsePeer(st, args)
	default:
		return st, fmt.Errorf("unknown step %q; steps are press, hook, expect, peer, wait, console", st.Verb)
	}
	return st, nil
}

// parseExpect reads: expect WHAT ARGS... [within D].
func parseExpect(st Step, args []string) (Step, error) {
	st.Within = DefaultWithin
	if n := len(args); n >= 2 && args[n-2] == "within" {
		d, err := time.ParseDuration(args[n-1])
		if err != nil || d <= 0 {
			return st, fmt.Errorf("within %s: not a duration; write e.g. within 2s", args[n-1])
		}
		st.Within, args = d, args[:n-2]
	}
	if len(args) == 0 {
		return st, fmt.Errorf("expect what? display, led, event, state, agent or peer")
	}
	st.What, st.Args = unq(args[0]), unqAll(args[1:])
	err := checkExpect(&st, len(args)-1) // may set st.User
	return st, err
}

// checkExpect checks an expect step's arguments (n of them) for its kind.
func checkExpect(st *Step, n int) error {
	switch st.What {
	case "display":
		if n != 1 {
			return fmt.Errorf(`write expect display "TEXT" [within D], e.g. expect display "Dial:" within 2s`)
		}
	case "led":
		if n != 1 || !ledArg.MatchString(st.Args[0]) {
			return fmt.Errorf("write expect led NAME=STATE[/COLOUR] with STATE off, on, blink or fast-blink, e.g. expect led line=on or expect led status=on/green")
		}
	case "event":
		if n == 0 {
			return fmt.Errorf("write expect event NAME [FIELD=VALUE...], e.g. expect event onEnded reason=LocalBye within 5s")
		}
		return checkFields(st.Args[1:], "event fields are FIELD=VALUE, e.g. reason=LocalBye (dotted for nested fields: rtp.packetsLost=0)")
	case "state":
		if n == 0 {
			return fmt.Errorf("write expect state FIELD=VALUE..., e.g. expect state registration.state=registered")
		}
		return checkFields(st.Args, "state fields are FIELD=VALUE, e.g. registration.state=registered")
	case "agent":
		if n != 1 {
			return fmt.Errorf("write expect agent STATUS, e.g. expect agent free")
		}
	case "peer":
		if n != 3 || st.Args[0] != "baresip" || !userArg.MatchString(st.Args[1]) {
			return fmt.Errorf("write expect peer baresip USER EVENT, e.g. expect peer baresip 1003 CALL_ESTABLISHED within 5s")
		}
		st.User, st.Args = st.Args[1], []string{st.Args[2]}
	default:
		return fmt.Errorf("expect %s: expect display, led, event, state, agent or peer", st.What)
	}
	return nil
}

func checkFields(pairs []string, hint string) error {
	for _, a := range pairs {
		if !fieldArg.MatchString(a) {
			return fmt.Errorf("%q: %s", a, hint)
		}
	}
	return nil
}

// parsePeer reads: peer baresip USER ACTION [ARGS].
func parsePeer(st Step, args []string) (Step, error) {
	const usage = "write peer baresip USER start [auto|manual], dial NUMBER, answer, hangup, dtmf DIGITS or stop"
	args = unqAll(args)
	if len(args) < 3 || args[0] != "baresip" || !userArg.MatchString(args[1]) {
		return st, fmt.Errorf("%s", usage)
	}
	st.User, st.What, st.Args = args[1], args[2], args[3:]
	ok := false
	switch st.What {
	case "start":
		ok = len(st.Args) == 0 || len(st.Args) == 1 && (st.Args[0] == "auto" || st.Args[0] == "manual")
	case "dial", "dtmf":
		ok = len(st.Args) == 1
	case "answer", "hangup", "stop":
		ok = len(st.Args) == 0
	}
	if !ok {
		return st, fmt.Errorf("peer baresip %s %s: %s", st.User, strings.Join(append([]string{st.What}, st.Args...), " "), usage)
	}
	return st, nil
}
