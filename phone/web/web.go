// Package web is the phone's own web page, served on the control API's
// address: status, the front panel, call history, settings and the log
// tail. It has no back end of its own: the page's script calls the control
// API (phone/control), which mounts this handler for /, /login, /logout and
// /static/.
//
// With api.token set, /login takes the token and answers with a cookie
// (HttpOnly, SameSite=Strict) that the API accepts in place of the bearer
// header, so that the page's fetches and its EventSource are authenticated
// without the script ever holding the token. The cookie holds an HMAC of
// the token, not the token: it cannot be replayed as a bearer token, and
// changing the token logs every browser out.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// CookieName is the login cookie's name.
const CookieName = "deskphone_session"

//go:embed templates static
var files embed.FS

var pages = template.Must(template.ParseFS(files, "templates/*.html"))

// IsPage reports whether path is one of the page's own routes, which check
// the login themselves (the login form must be reachable without it).
func IsPage(p string) bool {
	if path.Clean(p) != p && p != "/static/" {
		return false // the mux redirects it to its clean form, which is checked then
	}
	return p == "/" || p == "/login" || p == "/logout" || strings.HasPrefix(p, "/static/")
}

// CookieOK reports whether r carries the login cookie for token; never
// without a token.
func CookieOK(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	c, err := r.Cookie(CookieName)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(cookieValue(token))) == 1
}

// cookieValue is what the cookie holds for token.
func cookieValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("deskphone web login v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// Handler serves the page. Build it with New.
type Handler struct {
	token string
	mux   *http.ServeMux
}

// New serves the page for an API whose token is token ("" = no login).
func New(token string) *Handler {
	h := &Handler{token: token, mux: http.NewServeMux()}
	static, _ := fs.Sub(files, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /login", h.loginForm)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Only the page's own files run; no other site may frame it.
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	// Not no-referrer: with it, Chromium sends "Origin: null" on the form's
	// POST, which the API's loopback Origin check refuses.
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) loggedIn(r *http.Request) bool { return h.token == "" || CookieOK(r, h.token) }

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	if !h.loggedIn(r) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, "index.html", map[string]any{"Login": h.token != ""})
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if h.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, "login.html", nil)
}

// login checks the form's token and sets the cookie; a wrong one gets the
// form again with a 401.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	got := strings.TrimSpace(r.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
		msg := "That is not this phone's API token. Type api.token from the phone's configuration file."
		if got == "" {
			msg = "Type the phone's API token (api.token in its configuration file)."
		}
		render(w, http.StatusUnauthorized, "login.html", map[string]any{"Error": msg})
		return
	}
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure whenever served over TLS; the loopback API is plain HTTP
		Name: CookieName, Value: cookieValue(h.token), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout clears the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure whenever served over TLS; the loopback API is plain HTTP
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	to := "/login"
	if h.token == "" {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "the page's template failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
