package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetry caps the wait between re-connections of the event stream.
const maxRetry = 5 * time.Second

// sseEvent is one event of GET /v1/events; -json prints it as one line.
type sseEvent struct {
	ID    uint64          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// events follows GET /v1/events until ctx ends. A stream that breaks is
// re-opened with Last-Event-ID, so the phone's replay fills the gap; only a
// first connection that fails, or an error answer, ends it.
func (c *cli) events(ctx context.Context, args []string) int {
	fs := c.flagSet("events")
	from := fs.String("from", "", "start after this event id (replays what the phone still holds)")
	if _, ok := c.parse(fs, args, 0, 0, "events [-from ID] [-json]"); !ok {
		return exitUsage
	}
	last := *from
	if last != "" {
		if _, err := strconv.ParseUint(last, 10, 64); err != nil {
			fmt.Fprintf(c.errw, "deskphone ctl: events: -from %q is not an event id (a number, as in the id: lines)\n", last)
			return exitUsage
		}
	}
	wait := c.retry
	for connected := false; ; {
		got, err := c.stream(ctx, last, func(e sseEvent) error {
			last = strconv.FormatUint(e.ID, 10)
			return c.printEvent(e)
		})
		if ctx.Err() != nil {
			return exitOK // Ctrl-C
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) || (!connected && !got) {
			return c.fail(err)
		}
		connected = true
		if got {
			wait = c.retry
		}
		why := "the stream ended"
		if err != nil {
			why = err.Error()
		}
		fmt.Fprintf(c.errw, "deskphone ctl: events: %s; reconnecting in %s", why, wait)
		if last != "" {
			fmt.Fprintf(c.errw, " (from event %s)", last)
		}
		fmt.Fprintln(c.errw)
		select {
		case <-ctx.Done():
			return exitOK
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRetry)
	}
}

// stream reads one connection of the event stream, calling emit for each
// event. got says whether the server answered with a stream.
func (c *cli) stream(ctx context.Context, last string, emit func(sseEvent) error) (got bool, err error) {
	req, err := c.api.request(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	res, err := c.api.send(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	return true, readSSE(res.Body, emit)
}

// readSSE parses Server-Sent Events (the subset the phone sends: id, event,
// data, comments) until r ends.
func readSSE(r io.Reader, emit func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var e sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" { // dispatch
			if e.Event != "" || len(data) > 0 {
				e.Data = json.RawMessage(strings.Join(data, "\n"))
				if !json.Valid(e.Data) { // keep -json's lines JSON
					e.Data, _ = json.Marshal(string(e.Data))
				}
				if err := emit(e); err != nil {
					return err
				}
			}
			e, data = sseEvent{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // comment: greeting, keep-alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			e.ID, _ = strconv.ParseUint(value, 10, 64)
		case "event":
			e.Event = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}

func (c *cli) printEvent(e sseEvent) error {
	if c.opts.json {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "%s\n", b)
		return err
	}
	when := c.now()
	var ts struct {
		Timestamp int64 `json:"timestamp"`
	}
	if json.Unmarshal(e.Data, &ts) == nil && ts.Timestamp != 0 {
		when = time.UnixMilli(ts.Timestamp)
	}
	_, err := fmt.Fprintf(c.out, "%s  #%d  %-20s %s\n", when.Format("15:04:05.000"), e.ID, e.Event, e.Data)
	return err
}
