// Package control is the phone's HTTP/JSON control API: the SDK's functions
// as POST endpoints, state as GET, and the event bus as Server-Sent Events,
// for CRM click-to-dial integrations and for the tests.
package control

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
)

// Panel is the simulated board's front panel (nil on real hardware).
type Panel interface {
	Press(key string) error
	Snapshot() any
}

// Server serves the API for one phone.
type Server struct {
	phone *phone.Phone
	panel Panel
	token string
	mux   *http.ServeMux
}

// New builds the API. token, when set, is required as "Authorization:
// Bearer TOKEN" on every request. panel may be nil.
func New(p *phone.Phone, panel Panel, token string) *Server {
	s := &Server{phone: p, panel: panel, token: token, mux: http.NewServeMux()}
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
	s.mux.HandleFunc("GET /v1/events", s.events)
	s.mux.HandleFunc("GET /v1/panel", s.getPanel)
	s.mux.HandleFunc("POST /v1/panel/press", s.press)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 404, fmt.Sprintf("no such endpoint %s %s: see README.md, 'Control API'", r.Method, r.URL.Path))
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskphone"`)
			writeError(w, http.StatusUnauthorized, ErrAPIToken, "control API: missing or wrong bearer token: send 'Authorization: Bearer <api.token>' (this is not a SIP 401)")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// ErrAPIToken is the control API's own "wrong bearer token" code, distinct
// from SIP's 401 (wrong SIP password).
const ErrAPIToken = -10401

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
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
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

var okBody = map[string]string{"status": "success"}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.phone.State())
}

func (s *Server) checkLogin(w http.ResponseWriter, r *http.Request) {
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

func (s *Server) getPanel(w http.ResponseWriter, r *http.Request) {
	if s.panel == nil {
		writeError(w, http.StatusNotFound, 404, "this board has no simulated panel (only board: sim has one)")
		return
	}
	writeJSON(w, http.StatusOK, s.panel.Snapshot())
}

func (s *Server) press(w http.ResponseWriter, r *http.Request) {
	if s.panel == nil {
		writeError(w, http.StatusNotFound, 404, "this board has no simulated panel (only board: sim has one)")
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
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	event.ServeSSE(w, r, s.phone.Bus())
}
