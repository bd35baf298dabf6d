package hil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Runner runs scripts against one phone's console.
type Runner struct {
	Console *Client
	Peers   *Lab          // far ends for peer steps; nil: a peer step fails saying so
	Out     io.Writer     // the report, one line per step as it ends
	Poll    time.Duration // how often an expect re-reads the panel; 0 = 100ms
	Timeout time.Duration // one console command's answer; 0 = 5s
}

// Result is one step's outcome.
type Result struct {
	Step   Step
	Status string // pass, FAIL or skip
	Took   time.Duration
	Err    error
}

// Report is a script's outcome.
type Report struct {
	Script  string
	Results []Result
	Took    time.Duration
}

// Passed reports whether every step passed.
func (r Report) Passed() bool {
	for _, x := range r.Results {
		if x.Status != "pass" {
			return false
		}
	}
	return len(r.Results) > 0
}

// Run turns the console's events on, then runs the steps in order,
// writing one report line per step. The first failure skips the rest:
// later steps assume what earlier ones set up.
func (r *Runner) Run(ctx context.Context, s *Script) Report {
	rep := Report{Script: s.Name}
	start := time.Now()
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	fmt.Fprintf(out, "hil: %s: %d steps\n", s.Name, len(s.Steps))
	_, err := r.do(ctx, "events on")
	failed := err != nil
	if failed {
		fmt.Fprintf(out, "  FAIL  events on: %v\n", err)
	}
	for _, st := range s.Steps {
		res := Result{Step: st, Status: "skip"}
		if !failed {
			t0 := time.Now()
			res.Err = r.step(ctx, st)
			res.Took = time.Since(t0)
			res.Status = "pass"
			if res.Err != nil {
				res.Status, failed = "FAIL", true
			}
		}
		rep.Results = append(rep.Results, res)
		fmt.Fprintln(out, res.line())
	}
	rep.Took = time.Since(start)
	pass, fail, skip := rep.count()
	verdict := "PASS"
	if !rep.Passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "hil: %s: %s: %d passed, %d failed, %d skipped in %s\n", s.Name, verdict, pass, fail, skip, rep.Took.Round(time.Millisecond))
	return rep
}

func (r Report) count() (pass, fail, skip int) {
	for _, x := range r.Results {
		switch x.Status {
		case "pass":
			pass++
		case "FAIL":
			fail++
		default:
			skip++
		}
	}
	return
}

func (x Result) line() string {
	s := fmt.Sprintf("  %-4s  %3d  %-50s", x.Status, x.Step.Line, x.Step.Text)
	if x.Status != "skip" {
		s += fmt.Sprintf("  %8s", x.Took.Round(time.Millisecond))
	}
	if x.Err != nil {
		s += "\n        " + x.Err.Error()
	}
	return s
}

func (r *Runner) do(ctx context.Context, cmd string) ([]string, error) {
	d := r.Timeout
	if d == 0 {
		d = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return r.Console.Do(ctx, cmd)
}

func (r *Runner) step(ctx context.Context, st Step) error {
	switch st.Verb {
	case "press", "hook", "console":
		_, err := r.do(ctx, strings.Join(append([]string{st.Verb}, st.Args...), " "))
		return err
	case "wait":
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(st.Within):
			return nil
		}
	case "peer":
		if r.Peers == nil {
			return errors.New("this run has no peers: give hil -registrar and -peer USER:PASSWORD (see tools/hil/README.md)")
		}
		return r.Peers.Do(st.User, st.What, st.Args)
	case "expect":
		ctx, cancel := context.WithTimeout(ctx, st.Within)
		defer cancel()
		return r.expect(ctx, st)
	}
	return fmt.Errorf("unknown step %q", st.Verb)
}

func (r *Runner) expect(ctx context.Context, st Step) error {
	switch st.What {
	case "event":
		e, err := r.Console.WaitEvent(ctx, st.Args[0], func(d json.RawMessage) bool { return fieldsMatch(d, st.Args[1:]) == "" })
		if err != nil {
			return fmt.Errorf("no %s event matching %s within %s; events so far: %s", st.Args[0], orAny(st.Args[1:]), st.Within, strings.Join(r.Console.Seen(), " "))
		}
		_ = e
		return nil
	case "peer":
		if r.Peers == nil {
			return errors.New("this run has no peers: give hil -registrar and -peer USER:PASSWORD (see tools/hil/README.md)")
		}
		if err := r.Peers.WaitEvent(ctx, st.User, st.Args[0]); err != nil {
			return fmt.Errorf("baresip %s: no %s within %s: %w", st.User, st.Args[0], st.Within, err)
		}
		return nil
	}
	// The rest read the panel or state again until it matches.
	var cmd string
	var check func(lines []string) (bool, string)
	switch st.What {
	case "display":
		cmd, check = "display", func(lines []string) (bool, string) {
			rows := make([]string, len(lines))
			for i, l := range lines {
				rows[i], _ = strconv.Unquote(strings.TrimPrefix(l, "display "))
			}
			shown := strings.Join(rows, " | ")
			return strings.Contains(shown, st.Args[0]), fmt.Sprintf("the display shows %q", shown)
		}
	case "led":
		cmd, check = "leds", func(lines []string) (bool, string) {
			name, _, _ := strings.Cut(st.Args[0], "=")
			got := ledOf(lines, name)
			want := st.Args[0]
			if !strings.Contains(want, "/") { // no colour asked: ignore the LED's colour
				got, _, _ = strings.Cut(got, "/")
			}
			return got == want, fmt.Sprintf("LED %s is %s (%s)", name, orNone(got), strings.Join(lines, " "))
		}
	case "state", "agent":
		cmd, check = st.What, func(lines []string) (bool, string) {
			if len(lines) != 1 {
				return false, fmt.Sprintf("answer %q", lines)
			}
			data := json.RawMessage(strings.TrimPrefix(lines[0], st.What+" "))
			want := st.Args
			if st.What == "agent" {
				want = []string{"status=" + st.Args[0]}
			}
			miss := fieldsMatch(data, want)
			return miss == "", miss
		}
	default:
		return fmt.Errorf("unknown expect %q", st.What)
	}
	return r.pollUntil(ctx, st, cmd, check)
}

// pollUntil sends cmd until check accepts its answer or ctx ends; then it
// says what it last saw.
func (r *Runner) pollUntil(ctx context.Context, st Step, cmd string, check func([]string) (bool, string)) error {
	poll := r.Poll
	if poll == 0 {
		poll = 100 * time.Millisecond
	}
	last := ""
	for {
		lines, err := r.do(ctx, cmd)
		if err != nil && ctx.Err() != nil && last != "" {
			// The deadline fell during a poll: report what was last seen.
			return fmt.Errorf("not within %s: %s", st.Within, last)
		}
		if err != nil {
			return err
		}
		ok, why := check(lines)
		if ok {
			return nil
		}
		last = why
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %s: %s", st.Within, last)
		case <-time.After(poll):
		}
	}
}

// ledOf is NAME=STATE[/COLOUR] from a "leds ..." line, or "".
func ledOf(lines []string, name string) string {
	for _, l := range lines {
		for _, f := range strings.Fields(l) {
			if strings.HasPrefix(f, name+"=") {
				return f
			}
		}
	}
	return ""
}

// fieldsMatch checks FIELD=VALUE pairs (FIELD dotted for nested objects)
// against a JSON object; it returns "" or what differs.
func fieldsMatch(data json.RawMessage, pairs []string) string {
	var obj any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return fmt.Sprintf("not JSON (%v): %s", err, data)
	}
	for _, p := range pairs {
		path, want, _ := strings.Cut(p, "=")
		got, ok := lookup(obj, path)
		if !ok {
			return fmt.Sprintf("%s is missing in %s", path, data)
		}
		if got != want {
			return fmt.Sprintf("%s is %q, want %q", path, got, want)
		}
	}
	return ""
}

// lookup follows a dotted path (a number picks from a list: sessions.0.state) and returns the value as text: strings
// as they are, numbers and booleans as JSON writes them.
func lookup(v any, path string) (string, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return "", false
			}
		case []any: // a list: the key is an index from 0
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case nil:
		return "null", true
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}

func orAny(pairs []string) string {
	if len(pairs) == 0 {
		return "(any)"
	}
	return strings.Join(pairs, " ")
}

func orNone(s string) string {
	if s == "" {
		return "missing"
	}
	_, v, _ := strings.Cut(s, "=")
	return v
}
