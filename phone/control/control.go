// Package control is the phone's HTTP/JSON control API: the SDK's functions
// as POST endpoints, state as GET, and the event bus as Server-Sent Events,
// for CRM click-to-dial integrations and for the tests.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/history"
	"deskphone/phone/logtail"
)

// Panel is a board's readable front panel (boards.Panel: the sim board's;
// nil on a board that cannot read its display and LEDs back).
type Panel interface {
	Press(key string) error
	Snapshot() any
}

// Limits of the API's HTTP server (see firmware/main.go), and of a request.
const (
	// MaxBody is the largest request body; a larger one gets HTTP 413.
	MaxBody = 64 << 10
	// MaxConns is how many connections the API serves at once; more wait
	// in the kernel's accept queue until one closes (see LimitListener).
	MaxConns = 64
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout the
	// whole request with its body.
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	// WriteTimeout bounds a response, from the end of the request's
	// headers: longer than POST /v1/login's 15 s. The event stream clears
	// it, since it runs for as long as the client stays.
	WriteTimeout = 30 * time.Second
	// IdleTimeout closes a kept-alive connection that sends nothing.
	IdleTimeout = 2 * time.Minute
)

// Server serves the API for one phone.
type Server struct {
	phone *phone.Phone
	panel Panel
	token string
	local bool // listens on loopback: Host and Origin are checked
	mux   *http.ServeMux
	extras
}

// Options configure NewServer.
type Options struct {
	// Panel is the board's readable front panel; nil if it has none.
	Panel Panel
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every request (the scheme in any case).
	Token string
	// Listen is the address the API listens on (the listener's, so a port
	// 0 is resolved). On a loopback address every request's Host must be
	// a loopback host and a POST's Origin, when sent, a loopback origin,
	// so that a web page in the agent's browser cannot drive the phone
	// (cross-site requests, DNS rebinding). "" skips these checks.
	Listen string
	// Metrics, when set, serves GET /metrics (Prometheus), behind the
	// same token and checks as every other route.
	Metrics http.Handler
	// Provision, when set, serves POST /v1/provision (config/provision):
	// fetch the configuration now; it applies at the next restart.
	Provision http.Handler
	// History, Logs and ConfigFile back GET /v1/history, GET /v1/logs and
	// GET/PUT /v1/config (extra.go); each route answers 404 without.
	History    *history.Recorder
	Logs       *logtail.Ring
	ConfigFile string
}

// New builds the API without Host and Origin checks. token, when set, is
// required as "Authorization: Bearer TOKEN" on every request. panel may be
// nil. Servers on a real listener should use NewServer with Options.Listen.
func New(p *phone.Phone, panel Panel, token string) *Server {
	return NewServer(p, Options{Panel: panel, Token: token})
}

// NewServer builds the API as o says.
func NewServer(p *phone.Phone, o Options) *Server {
	s := &Server{phone: p, panel: o.Panel, token: o.Token, local: isLoopbackAddr(o.Listen), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /v1/state", s.state)
	s.mux.HandleFunc("GET /v1/login", s.checkLogin)
	s.mux.HandleFunc("POST /v1/login", s.login)
	s.mux.HandleFunc("POST /v1/logout", s.logout)
	s.mux.HandleFunc("POST /v1/call", s.call)
	s.mux.HandleFunc("POST /v1/answer", s.session(p.Answer))
	s.mux.HandleFunc("POST /v1/reject", s.session(p.Reject))
	s.mux.HandleFunc("POST /v1/terminate", s.session(p.Terminate))
	s.mux.HandleFunc("POST /v1/mute", s.session(p.Mute))
	s.mux.HandleFunc("POST /v1/unmute", s.session(p.Unmute))
	s.mux.HandleFunc("POST /v1/dtmf", s.dtmf)
	s.mux.HandleFunc("POST /v1/hold", s.session(p.Hold))
	s.mux.HandleFunc("POST /v1/unhold", s.session(p.Unhold))
	s.mux.HandleFunc("POST /v1/transfer", s.transfer)
	s.mux.HandleFunc("GET /v1/agent/status", s.agentStatus)
	s.mux.HandleFunc("POST /v1/agent/status", s.setAgentStatus)
	s.mux.HandleFunc("POST /v1/agent/online", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.AgentOnline()) })
	s.mux.HandleFunc("POST /v1/agent/offline", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.AgentOffline()) })
	s.mux.HandleFunc("GET /v1/events", s.events)
	s.routeExtras(o) // the web page, history, logs, config
	s.routeAudio()   // volumes, route, music (audio.go)
	if o.Metrics != nil {
		s.mux.Handle("GET /metrics", o.Metrics)
	}
	if o.Provision != nil {
		s.mux.Handle("POST /v1/provision", o.Provision)
	}
	s.mux.HandleFunc("GET /v1/panel", s.getPanel)
	s.mux.HandleFunc("POST /v1/panel/press", s.press)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 404, fmt.Sprintf("no such endpoint %s %s: see README.md, 'Control API'", r.Method, r.URL.Path))
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.local && !s.sameMachine(w, r) {
		return
	}
	if s.token != "" && !s.authorized(w, r) { // bearer token or the page's cookie (extra.go)
		return
	}
	if r.ContentLength > MaxBody {
		tooLarge(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	s.mux.ServeHTTP(w, r)
}

// sameMachine refuses, with 403 and ErrAPIForbidden, a request that a web
// page may have sent: a Host that is not this machine (DNS rebinding), or a
// state-changing request from another origin (cross-site request).
func (s *Server) sameMachine(w http.ResponseWriter, r *http.Request) bool {
	if !isLoopbackHost(r.Host) {
		writeError(w, http.StatusForbidden, ErrAPIForbidden, fmt.Sprintf("control API: Host %q is not this machine: the API listens on loopback, so address it as 127.0.0.1, [::1] or localhost", r.Host))
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if o, sent := r.Header["Origin"]; sent && (len(o) != 1 || !isLoopbackOrigin(o[0])) {
		writeError(w, http.StatusForbidden, ErrAPIForbidden, fmt.Sprintf("control API: refused a %s from the web page at Origin %q: only pages on http://127.0.0.1, http://[::1] or http://localhost may change the phone's state", r.Method, r.Header.Get("Origin")))
		return false
	}
	return true
}

// isLoopbackAddr reports whether a listen address (host:port) is loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackName(host)
}

// isLoopbackHost reports whether a Host header (host, host:port, [v6] or
// [v6]:port) names this machine.
func isLoopbackHost(h string) bool {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return isLoopbackName(host)
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		return isLoopbackName(h[1 : len(h)-1])
	}
	return !strings.Contains(h, ":") && isLoopbackName(h)
}

// isLoopbackName: localhost, or a loopback IP address (127.0.0.0/8, ::1).
func isLoopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackOrigin reports whether an Origin header is a page served from
// this machine: http(s)://127.0.0.1, [::1] or localhost, with any port.
func isLoopbackOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	return isLoopbackHost(u.Host)
}

// ErrAPIToken is the control API's own "wrong bearer token" code, distinct
// from SIP's 401 (wrong SIP password).
const ErrAPIToken = -10401

// ErrAPIForbidden is the control API's "not from this machine" code (HTTP
// 403): on a loopback listener, a request whose Host is not a loopback host,
// or a POST whose Origin is another site's web page.
const ErrAPIForbidden = -10403

// LimitListener returns a listener that holds at most n connections from l
// open at once: Accept waits while n are open, leaving further clients in
// the kernel's accept queue. It starts no goroutine; a connection's slot is
// freed by its (first) Close.
func LimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, phone.Error{Code: code, Message: msg})
}

// writeResult answers a phone function's outcome.
func writeResult(w http.ResponseWriter, err error, ok any) {
	if err == nil {
		writeJSON(w, http.StatusOK, ok)
		return
	}
	var e *phone.Error
	if errors.As(err, &e) {
		writeJSON(w, http.StatusBadRequest, e)
		return
	}
	writeError(w, http.StatusBadRequest, phone.ErrSIPBadRequest, err.Error())
}

// decode reads a JSON body into v; an empty body leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body) // ServeHTTP limits it to MaxBody
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			tooLarge(w)
			return false
		}
		writeError(w, http.StatusBadRequest, 400, "cannot read the request body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, 400, "the request body is not the expected JSON: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, 400, "the request body has more after its JSON object: send one object")
		return false
	}
	return true
}

// tooLarge answers a body over MaxBody.
func tooLarge(w http.ResponseWriter) {
	writeError(w, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over %d KiB: send one small JSON object", MaxBody>>10))
}

var okBody = map[string]string{"status": "success"}

func (s *Server) state(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.phone.State())
}

func (s *Server) checkLogin(w http.ResponseWriter, _ *http.Request) {
	writeResult(w, s.phone.CheckLogin(), okBody)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	writeResult(w, s.phone.Login(ctx), okBody)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	writeResult(w, s.phone.Logout(ctx), okBody)
}

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To     string `json:"to"`
		Remark string `json:"remark"`
		UUI    string `json:"uui"`
	}
	if !decode(w, r, &req) {
		return
	}
	id, err := s.phone.Call(req.To, req.Remark, req.UUI)
	writeResult(w, err, map[string]string{"sessionId": id})
}

func (s *Server) agentStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.phone.AgentStatus())
}

// setAgentStatus is Agent.setStatus: {status, reason} (the web SDK's
// restReason is accepted too).
func (s *Server) setAgentStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status     string `json:"status"`
		Reason     string `json:"reason"`
		RestReason string `json:"restReason"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Reason == "" {
		req.Reason = req.RestReason
	}
	st, err := s.phone.SetAgentStatus(req.Status, req.Reason)
	writeResult(w, err, st)
}

type sessionReq struct {
	SessionID string `json:"sessionId"`
}

// session adapts a function of one session id (empty = the current call).
func (s *Server) session(f func(string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req sessionReq
		if !decode(w, r, &req) {
			return
		}
		writeResult(w, f(req.SessionID), okBody)
	}
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionID        string `json:"sessionId"`
		To               string `json:"to"`
		ConsultSessionID string `json:"consultSessionId"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.To != "" && req.ConsultSessionID != "":
		writeError(w, http.StatusBadRequest, phone.ErrSIPBadRequest, "give either 'to' (blind transfer) or 'consultSessionId' (attended), not both")
	case req.ConsultSessionID != "":
		writeResult(w, s.phone.TransferAttended(req.SessionID, req.ConsultSessionID), okBody)
	case req.To != "":
		writeResult(w, s.phone.Transfer(req.SessionID, req.To), okBody)
	default:
		writeError(w, http.StatusBadRequest, phone.ErrSIPBadRequest, "give 'to' (blind transfer) or 'consultSessionId' (attended transfer)")
	}
}

func (s *Server) dtmf(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionID string `json:"sessionId"`
		Digits    string `json:"digits"`
	}
	if !decode(w, r, &req) {
		return
	}
	writeResult(w, s.phone.SendDTMF(req.SessionID, req.Digits), okBody)
}

func (s *Server) getPanel(w http.ResponseWriter, _ *http.Request) {
	if s.panel == nil {
		writeError(w, http.StatusNotFound, 404, "this board cannot read its panel back (board: sim can)")
		return
	}
	writeJSON(w, http.StatusOK, s.panel.Snapshot())
}

func (s *Server) press(w http.ResponseWriter, r *http.Request) {
	if s.panel == nil {
		writeError(w, http.StatusNotFound, 404, "this board cannot read its panel back (board: sim can)")
		return
	}
	var req struct {
		Key string `json:"key"`
	}
	if !decode(w, r, &req) {
		return
	}
	if err := s.panel.Press(req.Key); err != nil {
		writeError(w, http.StatusBadRequest, 400, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, okBody)
}

// events streams the bus as Server-Sent Events: event name = SDK callback.
// The stream outlives the server's WriteTimeout and ReadTimeout, so it
// clears both deadlines (a recorder, which has none, says so; ignored).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	event.ServeSSE(w, r, s.phone.Bus())
}
