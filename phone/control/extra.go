package control

// The routes behind the phone's web page (phone/web): call history, the
// configuration file, the log tail, and the page itself with its cookie
// login.

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"deskphone/phone/history"
	"deskphone/phone/logtail"
	"deskphone/phone/web"
)

// ErrConfigInvalid is the code of a PUT /v1/config whose text does not
// validate (HTTP 400; the answer lists the problems).
const ErrConfigInvalid = -10422

// extras is what the page's routes need beyond the phone.
type extras struct {
	history    *history.Recorder
	logs       *logtail.Ring
	configFile string
	configMu   sync.Mutex // one PUT /v1/config at a time
}

// routeExtras adds the page and its routes to s's mux.
func (s *Server) routeExtras(o Options) {
	s.extras = extras{history: o.History, logs: o.Logs, configFile: o.ConfigFile}
	page := web.New(o.Token)
	for _, p := range []string{"GET /{$}", "GET /static/", "GET /login", "POST /login", "POST /logout"} {
		s.mux.Handle(p, page)
	}
	s.mux.HandleFunc("GET /v1/history", s.getHistory)
	s.mux.HandleFunc("GET /v1/logs", s.getLogs)
	s.mux.HandleFunc("GET /v1/config", s.getConfig)
	s.mux.HandleFunc("PUT /v1/config", s.putConfig)
}

// authorized checks the bearer token, or else the page's login cookie; it
// answers 401 (or 403 for a cookie sent from another site's page) itself.
// The page's own routes check the login themselves (phone/web).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if web.IsPage(r.URL.Path) {
		return true
	}
	scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	got = strings.TrimLeft(got, " ")
	if strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1 {
		return true
	}
	if web.CookieOK(r, s.token) {
		// SameSite=Strict keeps the cookie off other sites' requests; this
		// refuses one anyway, on any listener, if a browser sent it.
		if o := r.Header.Get("Origin"); o != "" && r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(o, r.Host) {
			writeError(w, http.StatusForbidden, ErrAPIForbidden, fmt.Sprintf("control API: refused a %s with the page's login cookie from the web page at Origin %q: only the phone's own page may use it", r.Method, o))
			return false
		}
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="deskphone"`)
	writeError(w, http.StatusUnauthorized, ErrAPIToken, "control API: missing or wrong bearer token: send 'Authorization: Bearer <api.token>', or log in on the phone's page at / (this is not a SIP 401)")
	return false
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}

func (s *Server) getHistory(w http.ResponseWriter, _ *http.Request) {
	if s.extras.history == nil {
		writeError(w, http.StatusNotFound, 404, "this phone keeps no call history (the firmware starts a history recorder; a server built without one has none)")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": s.extras.history.Records()})
}

// getLogs answers the last n lines of the phone's log (?n=, default 200;
// more than the ring keeps gives all it keeps).
func (s *Server) getLogs(w http.ResponseWriter, r *http.Request) {
	ring := s.extras.logs
	if ring == nil {
		writeError(w, http.StatusNotFound, 404, "this phone keeps no log tail (the firmware installs one; a server built without one has none)")
		return
	}
	n := 200
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, 400, fmt.Sprintf("n=%q is not a line count: give a positive number (the phone keeps the last %d lines), e.g. /v1/logs?n=200", q, ring.Cap()))
			return
		}
		n = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"lines": ring.Last(n)})
}

// getConfig answers the configuration file's text with its secrets masked.
func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	path, ok := s.configPath(w)
	if !ok {
		return
	}
	text, err := readConfigText(path)
	if err != nil {
		writeError(w, http.StatusInternalServerError, 500, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"file": path, "text": maskSecrets(text)})
}

// putConfig validates a new configuration text and, when it is valid,
// replaces the file with it; it applies after a restart.
func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	path, ok := s.configPath(w)
	if !ok {
		return
	}
	var req struct {
		Text *string `json:"text"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Text == nil {
		writeError(w, http.StatusBadRequest, 400, `send {"text": "<the whole configuration file, YAML>"}`)
		return
	}
	s.extras.configMu.Lock()
	defer s.extras.configMu.Unlock()
	problems, err := saveConfig(path, *req.Text)
	if err != nil {
		writeError(w, http.StatusInternalServerError, 500, err.Error())
		return
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, struct {
			Code     int      `json:"code"`
			Message  string   `json:"message"`
			Problems []string `json:"problems"`
		}{ErrConfigInvalid, fmt.Sprintf("the configuration was not saved: %d problem(s), each with its line; fix them and send it again", len(problems)), problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "success", "message": "Saved to " + path + ". It applies after a restart of the phone."})
}

func (s *Server) configPath(w http.ResponseWriter) (string, bool) {
	if s.extras.configFile == "" {
		writeError(w, http.StatusNotFound, 404, "this phone's configuration was not loaded from a file, so there is none to show or change")
		return "", false
	}
	return s.extras.configFile, true
}
