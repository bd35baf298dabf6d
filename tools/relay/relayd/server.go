package relayd

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"deskphone/phone/agent"
)

const maxBody = 64 << 10

// Server is the relay: the phone-facing HTTP handler plus the status poller.
type Server struct {
	cfg     Config
	log     *slog.Logger
	cloud   *cloud
	devices map[tokenKey]Device

	mu   sync.Mutex
	subs map[string]map[*sub]struct{} // staffUserId → connected event streams
	last map[string]statusView        // last status seen per watched agent
}

// statusView is the phone-facing status: GET /v1/agent/status and the SSE
// status event. Since is RFC 3339 (omitted when the cloud did not say).
type statusView struct {
	Status string     `json:"status"`
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since,omitempty"`
}

type event struct {
	name string
	data any
}

// sub is one connected GET /v1/agent/events stream.
type sub struct {
	ch   chan event
	gone chan struct{} // closed when the relay drops a stream that cannot keep up
	once sync.Once
}

// New checks the config, loads the devices file and prepares the cloud
// client. Run Poll alongside the handler.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	devs, err := LoadDevices(cfg.DevicesFile)
	if err != nil {
		return nil, err
	}
	cl, err := newCloud(cfg)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, log: log, cloud: cl, devices: devs,
		subs: map[string]map[*sub]struct{}{}, last: map[string]statusView{}}, nil
}

// Handler serves the phone ↔ relay contract.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agent/status", s.device(s.getStatus))
	mux.HandleFunc("POST /v1/agent/status", s.device(s.postStatus))
	mux.HandleFunc("GET /v1/agent/events", s.device(s.events))
	mux.HandleFunc("GET /v1/provision", s.device(s.provision))
	mux.HandleFunc("POST /v1/admin/force-offline", s.forceOffline)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusNotFound, "NotFound", "no such route: see tools/relay/README.md")
	})
	return mux
}

// ListenAndServe serves until ctx ends, polling the cloud meanwhile.
func (s *Server) ListenAndServe(ctx context.Context) error {
	srv := &http.Server{Addr: s.cfg.Listen, Handler: s.Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another relay running? change -listen)", s.cfg.Listen, err)
	}
	go s.Poll(ctx)
	go func() { <-ctx.Done(); _ = srv.Close() }() // shutting down: nothing to report to
	s.log.Info("relay listening", "addr", ln.Addr().String(), "https", !s.cfg.InsecureHTTP,
		"devices", len(s.devices), "endpoint", s.cfg.Endpoint, "sdkAppId", s.cfg.SdkAppID)
	if s.cfg.InsecureHTTP {
		s.log.Warn("serving plain HTTP: device tokens and SIP passwords cross the network in clear; labs only")
		err = srv.Serve(ln)
	} else {
		err = srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type deviceHandler func(w http.ResponseWriter, r *http.Request, d Device)

// device authenticates the bearer token and finds the device.
func (s *Server) device(h deviceHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		d, known := s.devices[keyOf(tok)]
		if !ok || !known {
			writeErr(w, http.StatusUnauthorized, "Unauthorized", "missing or unknown device token: send Authorization: Bearer TOKEN from the relay's devices file")
			return
		}
		h(w, r, d)
	}
}

func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, d Device) {
	v, err := s.describe(r.Context(), d.StaffUserID)
	if err != nil {
		s.cloudErr(w, "DescribeStaffStatusMetrics", d, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// describe asks the cloud for one agent; an agent the cloud does not list is
// offline.
func (s *Server) describe(ctx context.Context, staff string) (statusView, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ms, err := s.cloud.describeStatus(ctx, []string{staff})
	if err != nil {
		return statusView{}, err
	}
	for _, m := range ms {
		if strings.EqualFold(m.Email, staff) {
			return view(m), nil
		}
	}
	return statusView{Status: string(agent.Offline)}, nil
}

// view turns the cloud's spelling into the SDK's (afterCallWork → arrange).
func view(m staffStatus) statusView {
	v := statusView{Status: m.Status, Reason: m.Reason}
	if st, err := agent.ParseStatus(m.Status); err == nil {
		v.Status = string(st)
	}
	if m.LastStatusTimestamp > 0 {
		t := time.Unix(m.LastStatusTimestamp, 0).UTC()
		v.Since = &t
	}
	return v
}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request, d Device) {
	var in struct {
		Status string     `json:"status"`
		Reason string     `json:"reason"`
		Since  *time.Time `json:"since"` // informational: the cloud stamps its own time
	}
	if !readJSON(w, r, &in) {
		return
	}
	st, err := agent.ParseStatus(in.Status)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	switch st {
	case agent.Free, agent.NotReady, agent.Rest:
	default:
		writeErr(w, http.StatusUnprocessableEntity, "StatusNotSettable",
			fmt.Sprintf("the contact center sets %s itself; a device may ask for free, notReady or rest", st))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	got, err := s.cloud.setStatus(ctx, d.StaffUserID, st.Cloud(), strings.TrimSpace(in.Reason))
	if err != nil {
		s.cloudErr(w, "SetStaffStatus", d, err)
		return
	}
	s.log.Info("status set", "agent", d.StaffUserID, "status", got.Status, "reason", got.Reason)
	writeJSON(w, http.StatusOK, view(got))
}

func (s *Server) provision(w http.ResponseWriter, r *http.Request, d Device) {
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	e, err := s.cloud.describeExtension(ctx, d.ExtensionID)
	if err != nil {
		s.cloudErr(w, "DescribeExtension", d, err)
		return
	}
	ext := e.ExtensionId
	if ext == "" {
		ext = d.ExtensionID
	}
	writeJSON(w, http.StatusOK, map[string]string{"extension": ext, "domain": e.ExtensionDomain,
		"password": e.Password, "outboundProxy": e.OutboundProxy, "transport": e.Transport})
}

func (s *Server) forceOffline(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminToken == "" {
		writeErr(w, http.StatusForbidden, "AdminDisabled", "the admin route is off: set "+EnvAdminToken+" on the relay")
		return
	}
	tok, _ := bearer(r)
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) != 1 {
		writeErr(w, http.StatusUnauthorized, "Unauthorized", "missing or wrong admin token: send Authorization: Bearer "+EnvAdminToken)
		return
	}
	var in struct {
		UserID string `json:"userId"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.UserID = strings.TrimSpace(in.UserID); in.UserID == "" {
		writeErr(w, http.StatusBadRequest, "BadRequest", `userId is missing: send {"userId":"agent@example.com"}`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if err := s.cloud.forceOffline(ctx, in.UserID); err != nil {
		s.cloudErr(w, "ForceMemberOffline", Device{StaffUserID: in.UserID}, err)
		return
	}
	n := s.kick(in.UserID, "forced offline by an administrator")
	s.log.Info("agent forced offline", "agent", in.UserID, "streams", n)
	writeJSON(w, http.StatusOK, map[string]int{"streams": n})
}

// kick sends kickedOut to the agent's streams and records them as offline,
// so the next poll does not kick them a second time.
func (s *Server) kick(staff, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, watched := s.subs[staff]; watched {
		s.last[staff] = statusView{Status: string(agent.Offline)}
	}
	return s.sendLocked(staff, event{"kickedOut", map[string]string{"reason": reason}})
}

func (s *Server) sendLocked(staff string, e event) int {
	for sb := range s.subs[staff] {
		select {
		case sb.ch <- e:
		default: // a stream that cannot keep up is dropped; the phone reconnects and gets the current status first
			sb.once.Do(func() { close(sb.gone) })
		}
	}
	return len(s.subs[staff])
}

// events is the SSE stream: the current status first, then changes.
func (s *Server) events(w http.ResponseWriter, r *http.Request, d Device) {
	cur, err := s.describe(r.Context(), d.StaffUserID)
	if err != nil {
		s.cloudErr(w, "DescribeStaffStatusMetrics", d, err)
		return
	}
	sb := &sub{ch: make(chan event, 16), gone: make(chan struct{})}
	s.mu.Lock()
	if s.subs[d.StaffUserID] == nil {
		s.subs[d.StaffUserID] = map[*sub]struct{}{}
	}
	s.subs[d.StaffUserID][sb] = struct{}{}
	s.last[d.StaffUserID] = cur
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs[d.StaffUserID], sb)
		if len(s.subs[d.StaffUserID]) == 0 {
			delete(s.subs, d.StaffUserID)
			delete(s.last, d.StaffUserID)
		}
		s.mu.Unlock()
	}()

	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout would otherwise cancel a long stream (a writer without deadlines has none to lift)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx in front must not buffer the stream
	w.WriteHeader(http.StatusOK)
	s.log.Info("event stream open", "agent", d.StaffUserID, "status", cur.Status)
	defer s.log.Info("event stream closed", "agent", d.StaffUserID)

	write := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second)) // per write: the server's WriteTimeout would end the stream (a writer without deadlines has none)
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(sse(event{"status", cur})) {
		return
	}
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sb.gone:
			return
		case e := <-sb.ch:
			if !write(sse(e)) {
				return
			}
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return
			}
		}
	}
}

func sse(e event) string {
	b, _ := json.Marshal(e.data)
	return "event: " + e.name + "\ndata: " + string(b) + "\n\n"
}

// Poll asks the cloud for the status of every agent with an open stream,
// every cfg.Poll, and sends what changed, until ctx ends.
func (s *Server) Poll(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		staff := make([]string, 0, len(s.subs))
		for k := range s.subs {
			staff = append(staff, k)
		}
		s.mu.Unlock()
		for len(staff) > 0 {
			n := min(len(staff), 100)
			err := s.pollOnce(ctx, staff[:n])
			staff = staff[n:]
			switch {
			case err != nil && !failing:
				_, code, msg := classify(err)
				s.log.Warn("cannot poll the agents' status; streams keep their last status until it works again", "code", code, "message", msg)
				failing = true
			case err == nil && failing:
				s.log.Info("polling the agents' status works again")
				failing = false
			}
		}
	}
}

func (s *Server) pollOnce(ctx context.Context, staff []string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ms, err := s.cloud.describeStatus(ctx, staff)
	if err != nil {
		return err
	}
	now := map[string]statusView{}
	for _, m := range ms {
		now[strings.ToLower(m.Email)] = view(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range staff {
		v, ok := now[strings.ToLower(st)]
		if !ok {
			v = statusView{Status: string(agent.Offline)}
		}
		old, watched := s.last[st]
		if !watched || sameView(old, v) {
			continue
		}
		s.last[st] = v
		if v.Status == string(agent.Offline) && old.Status == string(agent.Offline) {
			continue // already told (kickedOut, or offline when the stream opened)
		}
		if v.Status == string(agent.Offline) {
			s.sendLocked(st, event{"kickedOut", map[string]string{"reason": "offline in the contact center"}})
			continue
		}
		s.sendLocked(st, event{"status", v})
	}
	return nil
}

func sameView(a, b statusView) bool {
	if a.Status != b.Status || a.Reason != b.Reason || (a.Since == nil) != (b.Since == nil) {
		return false
	}
	return a.Since == nil || a.Since.Equal(*b.Since)
}

// cloudErr answers a failed cloud call: 409 with the cloud's code when the
// contact center refused, 502 when it could not be asked.
func (s *Server) cloudErr(w http.ResponseWriter, action string, d Device, err error) {
	kind, code, msg := classify(err)
	switch kind {
	case kindRefused:
		s.log.Info("the contact center refused", "action", action, "agent", d.StaffUserID, "code", code, "message", msg)
		writeErr(w, http.StatusConflict, code, msg)
	case kindAuth:
		s.log.Error("the cloud rejected the relay's API key or its permissions: check "+EnvSecretID+"/"+EnvSecretKey+" and the key's CAM policy for ccc",
			"action", action, "code", code, "message", msg)
		writeErr(w, http.StatusBadGateway, "CloudAuthFailure", "the relay cannot use the contact center's API (its key was refused); try again later")
	default:
		s.log.Warn("the cloud API is unavailable", "action", action, "agent", d.StaffUserID, "code", code, "message", msg)
		writeErr(w, http.StatusBadGateway, "CloudUnreachable", "the contact center's API could not be reached; try again later")
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeErr(w, http.StatusRequestEntityTooLarge, "BodyTooLarge", "bodies are limited to 64 KiB")
		} else {
			writeErr(w, http.StatusBadRequest, "BadRequest", "the body must be one JSON object: "+err.Error())
		}
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func writeErr(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, map[string]string{"code": errCode, "message": msg})
}
