package event

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// KeepAlive is how often ServeSSE writes a comment on an idle stream, so
// that proxies and NAT boxes keep the connection open.
const KeepAlive = 15 * time.Second

// ServeSSE streams b as Server-Sent Events until the request ends:
//
//	id: 42
//	event: onEnded
//	data: {"sessionId":"…","reason":"…","timestamp":1700000000000}
//
// A client that reconnects with Last-Event-ID (or ?lastEventId= for clients
// that cannot set headers) gets what it missed first, via SubscribeFrom.
func ServeSSE(w http.ResponseWriter, r *http.Request, b *Bus) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// Subscribe before the headers go out: a client that sees the
	// response and then acts must see the events its action causes.
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	var ch <-chan Event
	var stop func()
	if id, err := strconv.ParseUint(last, 10, 64); err == nil {
		ch, stop = b.SubscribeFrom(id, 256)
	} else {
		ch, stop = b.Subscribe(256)
	}
	defer stop()
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil { // sends the headers, or cannot stream
		http.Error(w, "streaming is not supported by this connection", http.StatusInternalServerError)
		return
	}
	if _, err := fmt.Fprint(w, ": deskphone events\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(KeepAlive)
	defer keep.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		case e, ok := <-ch:
			if !ok {
				return
			}
			data, jerr := payload(e)
			if jerr != nil { // still send the id: skipping it would be a silent gap
				data, _ = json.Marshal(map[string]any{"error": jerr.Error(), "timestamp": e.TS})
			}
			_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Name, data)
		}
		if err != nil || rc.Flush() != nil {
			return // the client is gone
		}
	}
}

// payload is e.Data as JSON with a top-level "timestamp" (Unix ms) added, so
// SDK-shaped objects keep their field names; anything that is not an object
// becomes {"value": …, "timestamp": …}.
func payload(e Event) ([]byte, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return json.Marshal(struct {
			Value     json.RawMessage `json:"value"`
			Timestamp int64           `json:"timestamp"`
		}{data, e.TS})
	}
	if _, ok := obj["timestamp"]; ok {
		return data, nil // the payload's own timestamp wins
	}
	// Splice rather than re-marshal obj, to keep the payload's field order.
	ts := strconv.AppendInt([]byte(`"timestamp":`), e.TS, 10)
	if len(obj) > 0 {
		ts = append([]byte{','}, ts...)
	}
	return append(append(data[:len(data)-1], ts...), '}'), nil
}
