package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsPage(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/login": true, "/logout": true, "/static/app.js": true, "/static/": true,
		"/v1/state": false, "/login/x": false, "/static/../v1/state": false, "//v1/state": false, "/metrics": false,
	} {
		if got := IsPage(p); got != want {
			t.Errorf("IsPage(%q) = %v, want %v", p, got, want)
		}
	}
}

// The page's files come from the binary, with their types.
func TestStatic(t *testing.T) {
	h := New("")
	for path, ctype := range map[string]string{
		"/static/app.js": "text/javascript", "/static/style.css": "text/css", "/static/favicon.svg": "image/svg+xml", "/": "text/html",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), ctype) || w.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
}

func TestCookieOK(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: cookieValue("a-token-of-16-chars")})
	if !CookieOK(r, "a-token-of-16-chars") || CookieOK(r, "another-token-16-chars") || CookieOK(r, "") {
		t.Fatal("the cookie must match its own token only, and never an empty one")
	}
}
