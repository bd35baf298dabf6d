package control_test

// FuzzRequestBody: any body on any of the API's POST routes, as a client
// on this machine sends it, to a phone on the fake signalling stack. The
// answer is JSON, never a 5xx; a refusal has the error shape.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"deskphone/phone"
	"deskphone/phone/control"
	"deskphone/phone/event"
	"deskphone/phone/signal/sigtest"
)

var fuzzRoutes = []string{
	"/v1/login", "/v1/logout", "/v1/call", "/v1/answer", "/v1/reject", "/v1/terminate", "/v1/mute",
	"/v1/unmute", "/v1/dtmf", "/v1/hold", "/v1/unhold", "/v1/transfer", "/v1/agent/status",
	"/v1/agent/online", "/v1/agent/offline", "/v1/panel/press",
}

func FuzzRequestBody(f *testing.F) {
	for i, body := range []string{
		`{}`, ``, `{"extension":"1001"}`, `{"number":"1002"}`, `{"sessionId":"x"}`, `{"sessionId":"x"}`,
		`{"sessionId":"x"}`, `{"sessionId":"x"}`, `{"sessionId":"x","digits":"12#"}`, `{"sessionId":"x"}`,
		`{"sessionId":"x"}`, `{"sessionId":"x","target":"1003"}`, `{"status":"rest","reason":"Meal"}`,
		`{}`, `{}`, `{"key":"5"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Add(uint8(2), []byte(`{"number":"1002"} {"number":"1003"}`))
	f.Add(uint8(8), []byte(`{"sessionId":1e999,"digits":["1"]}`))
	f.Add(uint8(12), []byte(`{"status":"\ud800","reason":null,"x":{}}`))
	f.Add(uint8(2), []byte(strings.Repeat(`[`, 5000)))

	cfg := sigtest.Config("44000-44999", nil)
	p, err := phone.NewWithCalls(cfg, nil, event.NewBus(), slog.New(slog.DiscardHandler), &sigtest.Calls{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			f.Errorf("Close: %v", err)
		}
	})
	srv := control.New(p, nil, "")
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		res := w.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, res.StatusCode, w.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("POST %s %q: %d, the answer is not a JSON object: %v: %s", path, body, res.StatusCode, err, w.Body)
		}
		if res.StatusCode != http.StatusOK {
			if _, ok := v["code"].(float64); !ok {
				t.Fatalf("POST %s %q: %d without a numeric code: %s", path, body, res.StatusCode, w.Body)
			}
			if m, _ := v["message"].(string); m == "" {
				t.Fatalf("POST %s %q: %d without a message: %s", path, body, res.StatusCode, w.Body)
			}
		}
	})
}
