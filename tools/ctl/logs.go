package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// logs prints the phone's last log lines (GET /v1/logs?n=N); -f polls for
// new ones until Ctrl-C.
func (c *cli) logs(ctx context.Context, args []string) int {
	fs := c.flagSet("logs")
	n := fs.Int("n", 100, "how many of the newest lines")
	follow := fs.Bool("f", false, "keep printing new lines until Ctrl-C")
	if _, ok := c.parse(fs, args, 0, 0, "logs [-n 100] [-f] [-json]"); !ok {
		return exitUsage
	}
	if *n < 1 {
		fmt.Fprintf(c.errw, "deskphone ctl: logs: -n %d: give a positive number of lines\n", *n)
		return exitUsage
	}
	// Following asks for more than -n, so that a burst between two polls
	// still overlaps the lines of the poll before.
	want := *n
	if *follow {
		want = max(*n, 500)
	}
	lines, err := c.fetchLogs(ctx, want)
	if err != nil {
		return c.fail(err)
	}
	c.printLines(lines[max(len(lines)-*n, 0):])
	if !*follow {
		return exitOK
	}
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case <-time.After(c.poll):
		}
		next, err := c.fetchLogs(ctx, want)
		if ctx.Err() != nil {
			return exitOK
		}
		if err != nil {
			return c.fail(err)
		}
		fresh, gap := newLines(lines, next)
		if gap {
			fmt.Fprintln(c.errw, "deskphone ctl: logs: more lines came than one poll holds; some were skipped")
		}
		c.printLines(fresh)
		lines = next
	}
}

// fetchLogs asks for the newest n lines.
func (c *cli) fetchLogs(ctx context.Context, n int) ([]string, error) {
	raw, err := c.api.do(ctx, http.MethodGet, fmt.Sprintf("/v1/logs?n=%d", n), nil)
	// A firmware from before GET /v1/logs answers its catch-all 404; a 404
	// of the route itself (no log kept) is shown as the phone says it.
	if e, ok := errors.AsType[*APIError](err); ok && e.HTTPStatus == http.StatusNotFound && strings.HasPrefix(e.Message, "no such endpoint") {
		return nil, fmt.Errorf("this phone's firmware has no GET /v1/logs (it answered: %s): update the firmware, or read its log where it runs (journalctl -u deskphone, or the terminal of `make run`)", e.Message)
	}
	if err != nil {
		return nil, err
	}
	lines, err := decodeLines(raw)
	if err != nil {
		return nil, fmt.Errorf("GET /v1/logs: %w", err)
	}
	return lines, nil
}

// decodeLines reads GET /v1/logs's answer: {"lines": [...]} or a bare array.
func decodeLines(raw json.RawMessage) ([]string, error) {
	var obj struct {
		Lines []string `json:"lines"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Lines != nil {
		return obj.Lines, nil
	}
	var arr []string
	if json.Unmarshal(raw, &arr) == nil && arr != nil {
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected answer (want {\"lines\": [...]}): %.200s", raw)
}

func (c *cli) printLines(lines []string) {
	for _, l := range lines {
		if c.opts.json {
			b, _ := json.Marshal(l)
			fmt.Fprintf(c.out, "%s\n", b)
		} else {
			fmt.Fprintln(c.out, l)
		}
	}
}

// newLines returns the lines of next after its overlap with prev (the
// longest tail of prev that begins next). gap says there was none though
// both had lines: lines came that neither answer holds.
func newLines(prev, next []string) (fresh []string, gap bool) {
	for k := min(len(prev), len(next)); k > 0; k-- {
		if slices.Equal(prev[len(prev)-k:], next[:k]) {
			return next[k:], false
		}
	}
	return next, len(prev) > 0 && len(next) > 0
}
