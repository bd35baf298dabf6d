package event

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

type frame struct {
	id    uint64
	event string
	data  map[string]any
}

// readFrame reads the next SSE event, skipping comments.
func readFrame(t *testing.T, r *bufio.Reader) frame {
	t.Helper()
	var f frame
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "":
			if line == "" && f.event != "" {
				return f
			}
		case "id":
			if f.id, err = strconv.ParseUint(v, 10, 64); err != nil {
				t.Fatalf("id line %q", line)
			}
		case "event":
			f.event = v
		case "data":
			if err := json.Unmarshal([]byte(v), &f.data); err != nil {
				t.Fatalf("data line %q: %v", line, err)
			}
		}
	}
}

func TestServeSSE(t *testing.T) {
	type info struct {
		SessionID string `json:"sessionId"`
		Reason    string `json:"reason"`
	}
	b := NewBus()
	b.Publish(NewSession, info{SessionID: "s1"})
	b.Publish(Accepted, info{SessionID: "s1"})
	b.Publish(DTMFReceived, "5")
	returned := make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeSSE(w, r, b)
		returned <- struct{}{}
	}))
	defer srv.Close()

	// open connects and reads past the opening comment.
	open := func(header, query string) (*bufio.Reader, context.CancelFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+query, nil)
		if header != "" {
			req.Header.Set("Last-Event-ID", header)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = res.Body.Close() }) // cancel ends it sooner
		if ct, cc := res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"); ct != "text/event-stream" || cc != "no-cache" {
			t.Fatalf("Content-Type %q, Cache-Control %q", ct, cc)
		}
		r := bufio.NewReader(res.Body)
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
			t.Fatalf("first line %q, %v; want a comment", line, err)
		}
		return r, cancel
	}
	// hangUp cancels the request and waits for ServeSSE to return.
	hangUp := func(cancel context.CancelFunc) {
		cancel()
		select {
		case <-returned:
		case <-time.After(patience):
			t.Fatal("ServeSSE still running after the request ended")
		}
	}

	r, cancel := open("1", "")
	f := readFrame(t, r)
	if f.id != 2 || f.event != Accepted || f.data["sessionId"] != "s1" || f.data["reason"] != "" {
		t.Fatalf("first frame after Last-Event-ID 1: %+v", f)
	}
	if ts, ok := f.data["timestamp"].(float64); !ok || int64(ts) < time.Now().Add(-time.Minute).UnixMilli() {
		t.Fatalf("timestamp %v", f.data["timestamp"])
	}
	if f := readFrame(t, r); f.id != 3 || f.event != DTMFReceived || f.data["value"] != "5" || f.data["timestamp"] == nil {
		t.Fatalf("non-object data: %+v", f)
	}
	b.Publish(Ended, info{SessionID: "s1", Reason: "localBye"})
	if f := readFrame(t, r); f.id != 4 || f.event != Ended || f.data["reason"] != "localBye" {
		t.Fatalf("live frame: %+v", f)
	}
	hangUp(cancel)

	r, cancel = open("", "?lastEventId=3")
	if f := readFrame(t, r); f.id != 4 {
		t.Fatalf("lastEventId=3 resumed at %+v", f)
	}
	hangUp(cancel)

	r, cancel = open("", "") // a new client starts live
	b.Publish(Muted, map[string]bool{"muted": true})
	if f := readFrame(t, r); f.id != 5 || f.data["muted"] != true {
		t.Fatalf("new client got %+v", f)
	}
	hangUp(cancel)
}

func TestPayload(t *testing.T) {
	for _, tc := range []struct {
		data any
		want string
	}{
		{struct {
			B int `json:"b"`
			A int `json:"a"`
		}{1, 2}, `{"b":1,"a":2,"timestamp":7}`},
		{struct{}{}, `{"timestamp":7}`},
		{map[string]int{"timestamp": 1}, `{"timestamp":1}`},
		{Lost{From: 1, To: 2, Count: 2}, `{"from":1,"to":2,"count":2,"timestamp":7}`},
		{"x", `{"value":"x","timestamp":7}`},
		{nil, `{"value":null,"timestamp":7}`},
		{[]int{1}, `{"value":[1],"timestamp":7}`},
	} {
		got, err := payload(Event{TS: 7, Data: tc.data})
		if err != nil || string(got) != tc.want {
			t.Errorf("payload(%#v) = %s, %v; want %s", tc.data, got, err, tc.want)
		}
	}
}

func TestServeSSEWithoutFlusher(t *testing.T) {
	rec := httptest.NewRecorder()
	w := struct{ http.ResponseWriter }{rec} // hides Flush
	ServeSSE(w, httptest.NewRequest("GET", "/", nil), NewBus())
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
}
