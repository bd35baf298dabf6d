// Package phone is the desk phone itself: the contact center's agent SDK
// (login, call, answer, terminate, DTMF, mute) on top of the SIP user agent
// and the media engine, reporting everything on one event bus. It knows no
// hardware beyond hal's interfaces. The audio device functions (volumes,
// route, ringer, startPlayMusic) are in audio.go; media faults (-3307 no
// RTP after answer, -3308 RTP stopped mid-call) in mediafaults.go.
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"deskphone/config"
	"deskphone/hal"
	"deskphone/phone/agent"
	"deskphone/phone/conn"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal"
	"deskphone/phone/sipua"
)

// Phone is one agent device.
type Phone struct {
	cfg    *config.Config
	audio  hal.Audio
	bus    *event.Bus
	log    *slog.Logger
	codecs []media.Codec
	ports  *portPool

	mu         sync.Mutex
	ua         *sipua.UA
	calls      signal.Calls // the UA in the product, a fake in tests
	reg        *sipua.Registration
	sessions   map[string]*Session
	closed     bool
	audioOwner *Session // the call that has the sound devices
	music      []int16  // calls.hold_music, mono
	musicHz    int
	musicAt    map[int][]int16 // the clip resampled, per codec rate
	// loggedIn is CheckLogin; tests of the state machine replace it.
	loggedIn      func() error
	byes          map[chan struct{}]bool // BYEs still going out (guarded by mu)
	conn          *conn.Supervisor       // connection supervision, fed by the registration goroutine
	stopKeepalive context.CancelFunc

	agent     *agent.Agent // the agent status; it has its own lock
	sync      *agent.Sync  // nil without agent.sync
	stopSync  context.CancelFunc
	syncDone  chan struct{}
	closeSync func(context.Context) // the backend's goodbye (un-PUBLISH), if any
	kicked    string                // why another device or an admin took this one offline ("" = not)
	reprovAt  time.Time             // the last time a 401 asked the relay for the account
	regWatch  *regWatch             // account.reg_event's subscription (regwatch.go)
	clock     clockwork.Clock       // media timers (mediafaults.go); a fake in tests
	au        *audioCtl             // volumes, route, ringer, music (audio.go)
	// mediaRelay is SetMediaRelay's address (mediarelay.go); nil = none.
	mediaRelay relayAddr
}

// New builds a phone from its configuration. audio may be nil (no sound
// devices: calls send silence and discard what they hear).
func New(cfg *config.Config, audio hal.Audio, bus *event.Bus, log *slog.Logger) (*Phone, error) {
	if log == nil {
		log = slog.Default()
	}
	if bus == nil {
		bus = event.NewBus()
	}
	var codecs []media.Codec
	for _, name := range cfg.Audio.Codecs {
		c, err := media.CodecByName(name)
		if err != nil {
			return nil, fmt.Errorf("audio.codecs: %w", err)
		}
		codecs = append(codecs, c)
	}
	lo, hi := cfg.Audio.RTPPortRange()
	var err error
	p := &Phone{
		cfg:      cfg,
		audio:    audio,
		bus:      bus,
		log:      log,
		codecs:   codecs,
		ports:    newPortPool(lo, hi),
		sessions: map[string]*Session{},
		byes:     map[chan struct{}]bool{},
		musicAt:  map[int][]int16{},
		conn:     conn.New(),
		clock:    clockwork.NewRealClock(),
	}
	p.loggedIn = p.CheckLogin
	p.initAudio(audio)
	if p.agent, err = newAgent(cfg.Agent); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	p.agent.Listen(p.onStatus)
	return p, nil
}

// SetHoldMusic sets what a held far end hears (mono PCM at rate Hz).
func (p *Phone) SetHoldMusic(pcm []int16, rate int) {
	p.mu.Lock()
	p.music, p.musicHz = pcm, rate
	p.musicAt = map[int][]int16{}
	p.mu.Unlock()
}

// holdSource is a fresh player of the hold music at the codec's rate; the
// clip is resampled once per rate.
func (p *Phone) holdSource(rate int) media.AudioSource {
	p.mu.Lock()
	defer p.mu.Unlock()
	clip, ok := p.musicAt[rate]
	if !ok {
		clip = media.NewLoopSource(p.music, p.musicHz, rate).Clip()
		p.musicAt[rate] = clip
	}
	return media.NewLoopSource(clip, rate, rate)
}

// signalling is the call side of the SIP stack (nil before login).
func (p *Phone) signalling() signal.Calls {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// addSession registers a new session if a line is free.
func (p *Phone) addSession(s *Session) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.sessions); n >= p.cfg.Calls.MaxLines {
		return newError(ErrSIPBadRequest, "all %d lines are in use: end a call first (calls.max_lines)", n)
	}
	p.sessions[s.ID] = s
	return nil
}

func (p *Phone) removeSession(s *Session) {
	p.mu.Lock()
	if p.sessions[s.ID] == s {
		delete(p.sessions, s.ID)
	}
	p.mu.Unlock()
}

// publishWebEnded is the web SDK's sessionEnded: closeBy says who ended it
// (seat = the agent, client = the customer, timer = a timeout).
func (p *Phone) publishWebEnded(s *Session, reason, msg string) {
	closeBy := map[string]string{
		EndLocalBye: "seat", EndRemoteBye: "client", EndRejected: "client",
		EndRemoteCancel: "client", EndTimeout: "timer", EndError: "admin",
	}[reason]
	p.bus.Publish(event.WebSessionEnded, WebSessionEnded{SessionID: s.ID, CloseBy: closeBy, MainReason: reason, SubReason: msg})
}

// publishWebCallIn is the web SDK's callIn for a new inbound call.
func (p *Phone) publishWebCallIn(s *Session) {
	p.bus.Publish(event.WebCallIn, WebCallIn{
		SessionID: s.ID, Type: "phone", Timeout: int(p.cfg.Calls.RingTimeout / time.Second),
		CalleePhoneNumber: s.Callee, CallerPhoneNumber: s.Caller, Remark: s.Remark, IvrPath: []IvrStep{},
		ProtectedCallee: s.Callee, ProtectedCaller: s.Caller, ServerType: ServerType,
	})
}

// Bus is the phone's event stream.
func (p *Phone) Bus() *event.Bus { return p.bus }

// Config is the configuration the phone runs with.
func (p *Phone) Config() *config.Config { return p.cfg }

func (p *Phone) publishError(code int, msg, extra string) {
	p.log.Error(msg, "code", code, "extra", extra)
	p.bus.Publish(event.Error, ErrorInfo{ErrCode: code, ErrMsg: msg, ExtraInfo: extra})
}

func (p *Phone) publishWarning(code int, msg, extra string) {
	p.log.Warn(msg, "code", code, "extra", extra)
	p.bus.Publish(event.Warning, WarningInfo{WarningCode: code, WarningMsg: msg, ExtraInfo: extra})
}

// startUA opens the SIP socket once.
func (p *Phone) startUA() (*sipua.UA, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, newError(ErrHadLoggedOut, "the phone is shutting down")
	}
	if p.ua != nil {
		return p.ua, nil
	}
	a := p.cfg.Account
	ua, err := sipua.New(sipua.Config{
		Registrar: a.Registrar, Domain: a.Domain, User: a.User, AuthUser: a.AuthUser,
		Password: a.Password, DisplayName: a.DisplayName, Transport: a.Transport,
		Listen: a.Listen, Expires: a.Expires, Logger: p.log.With("part", "sip"),
		TrustedPeers: a.TrustedPeers, AcceptDirect: a.AcceptDirect,
		RetryMin: a.RetryMin, RetryMax: a.RetryMax, Probe: a.Probe,
		CAFile: a.CAFile, TLSServerName: a.TLSServerName,
		Failover: a.Failover, DNS: a.DNS, FailoverTimeout: a.FailoverTimeout,
		FailbackProbe: a.FailbackProbe, FailbackAfter: a.FailbackAfter,
	})
	if err != nil {
		return nil, newError(ErrUnregistFailure, "%v", err)
	}
	ua.OnIncoming(p.onIncoming)
	p.ua = ua
	p.calls = ua
	return ua, nil
}

// Login registers the account and waits for the first answer (up to
// `wait`). Registration goes on in the background either way: refreshed
// before the granted expiry, retried with back-off after failures.
func (p *Phone) Login(ctx context.Context) error {
	ua, err := p.startUA()
	if err != nil {
		return err
	}
	if err := p.startStatusSync(ua); err != nil {
		return err
	}
	p.mu.Lock()
	wasKicked := p.kicked != ""
	p.kicked = ""
	p.mu.Unlock()
	if wasKicked {
		p.agent.Online() // logging in again takes the agent back
	}
	p.mu.Lock()
	if p.reg == nil {
		p.reg = ua.Register(p.onRegistration)
		kctx, stop := context.WithCancel(context.Background())
		p.stopKeepalive = stop
		go p.keepalive(kctx, ua, p.reg)
		p.watchAddress(kctx, ua, p.reg) // address.go
	}
	reg := p.reg
	p.mu.Unlock()
	p.startRegWatch(ua)

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st := reg.Status()
		switch st.State {
		case sipua.Registered:
			return nil
		case sipua.RegFailed:
			return regError(st)
		default: // unregistered or registering: wait on
		}
		select {
		case <-ctx.Done():
			return newError(ErrSIPRequestTimeout, "login is taking long; registration goes on in the background (see onRegistration)")
		case <-tick.C:
		}
	}
}

// regError turns a failed registration into an SDK error with advice.
func regError(st sipua.RegStatus) *Error {
	switch st.Code {
	case 401, 407:
		return newError(st.Code, "registration refused: wrong user name or password (%d %s); check account.auth_user and account.password", st.Code, st.Reason)
	case 403:
		return newError(ErrSIPForbidden, "registration forbidden (403 %s): wrong password, or this extension is not allowed to register", st.Reason)
	case 0:
		if st.CertRefused { // not the network: login cannot succeed until the config changes
			return newError(ErrUnregistFailure, "registration failed: %s", st.Reason)
		}
		return newError(ErrSIPRequestTimeout, "registration failed: %s", st.Reason)
	default:
		return newError(st.Code, "registration failed: %d %s", st.Code, st.Reason)
	}
}

func (p *Phone) onRegistration(prev, st sipua.RegStatus) {
	info := RegistrationInfo{State: string(st.State), Code: st.Code, Reason: st.Reason, Expires: st.Expires}
	if st.Retry > 0 {
		info.RetryIn = st.Retry.String()
		info.RetryAt = p.clock.Now().Add(st.Retry).UnixMilli()
	}
	p.bus.Publish(event.Registration, info)
	if prev.State == sipua.Registered && st.State == sipua.RegFailed && st.Code == 403 {
		// Refused after being let in: the registrar's way of saying that
		// another device took the extension over (tccc-agent.md §7).
		p.kickOut(fmt.Sprintf("the registrar refused the refresh: 403 %s", st.Reason))
		return
	}
	if st.State == sipua.RegFailed && (st.Code == 401 || st.Code == 407) && p.cfg.Account.Provision == "relay" {
		p.mu.Lock()
		ua, reg := p.ua, p.reg
		p.mu.Unlock()
		if ua != nil && reg != nil {
			go p.reprovision(ua, reg)
		}
	}
	if st.State == sipua.Registered && prev.State != sipua.Registered {
		p.mu.Lock()
		ua := p.ua
		p.mu.Unlock()
		if ua != nil {
			p.followAddress(ua.Host()) // calls still up move to a changed address (address.go)
		}
	}
	events, report := p.conn.Observe(string(st.State), st.Code, st.Reason)
	if report && !st.Moved { // a move is a lost connection, not an error (address.go)
		e := regError(st)
		p.publishError(e.Code, e.Message, p.cfg.Account.Registrar)
	}
	for _, e := range events {
		p.bus.Publish(e.Name, ConnectionInfo{ServerType: ServerType, Reason: e.Reason, Attempt: e.Attempt})
	}
}

// keepalive pings the registrar while registered: one that stops
// answering is noticed within account.keepalive plus the ping's timeout,
// not at the next refresh minutes later.
func (p *Phone) keepalive(ctx context.Context, ua *sipua.UA, reg *sipua.Registration) {
	every := p.cfg.Account.Keepalive
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if reg.Status().State != sipua.Registered {
			continue // the registration loop is already retrying
		}
		pctx, cancel := context.WithTimeout(ctx, min(every, 4*time.Second))
		err := ua.Keepalive(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			p.log.Warn("the registrar did not answer the keepalive", "error", err)
			reg.Kick("the registrar stopped answering (keepalive unanswered: " + err.Error() + ")")
		}
	}
}

// CheckLogin succeeds while the phone is registered.
func (p *Phone) CheckLogin() error {
	p.mu.Lock()
	reg := p.reg
	p.mu.Unlock()
	if kicked := p.kickedReason(); kicked != "" {
		return newError(ErrSIPForbidden, "kicked out (%s): log in again to take this agent back", kicked)
	}
	if reg == nil {
		return newError(ErrHadLoggedOut, "not logged in: call login first")
	}
	switch st := reg.Status(); st.State {
	case sipua.Registered:
		return nil
	case sipua.RegFailed:
		return regError(st)
	default:
		return newError(ErrHadLoggedOut, "login in progress: not registered yet")
	}
}

// Logout ends every call, removes the registration and stops refreshing it.
func (p *Phone) Logout(ctx context.Context) error {
	err := p.logout(ctx, false)
	if CodeOf(err) != ErrHadLoggedOut {
		p.agent.Offline(agent.Local) // a logged-out agent takes no calls
	}
	return err
}

// logout un-registers; keepCalls leaves the calls up (a kicked-out agent
// finishes the call in hand).
func (p *Phone) logout(ctx context.Context, keepCalls bool) error {
	p.stopRegWatch(ctx) // first: our own un-REGISTER is no kick
	if !keepCalls {
		for _, s := range p.sessionList() {
			_ = p.Terminate(s.ID)
		}
		p.waitByes(ctx)
	}
	p.mu.Lock()
	reg := p.reg
	p.reg = nil
	if p.stopKeepalive != nil {
		p.stopKeepalive()
		p.stopKeepalive = nil
	}
	p.mu.Unlock()
	if reg == nil {
		return newError(ErrHadLoggedOut, "already logged out")
	}
	if err := reg.Stop(ctx); err != nil {
		return newError(ErrUnregistFailure, "%v", err)
	}
	return nil
}

// Close logs out (if logged in) and releases the SIP socket.
func (p *Phone) Close(ctx context.Context) error {
	err := p.Logout(ctx)
	if CodeOf(err) == ErrHadLoggedOut {
		err = nil
	}
	p.waitSessions(ctx)
	p.stopStatusSync(ctx)
	p.mu.Lock()
	p.closed = true
	ua := p.ua
	p.ua, p.calls = nil, nil
	p.mu.Unlock()
	if ua != nil {
		err = errors.Join(err, ua.Close())
	}
	return err
}

// State is a snapshot for the control API and the display.
type State struct {
	Registration RegistrationInfo `json:"registration"`
	Connection   conn.State       `json:"connection"` // down, up, lost (connection supervision)
	SdkAppID     int64            `json:"sdkAppId"`
	UserID       string           `json:"userId"`
	Extension    string           `json:"extension"`
	ServerType   string           `json:"serverType"`
	Sessions     []SessionState   `json:"sessions"`
	Agent        AgentState       `json:"agent"`
}

// State reports registration and the live sessions.
func (p *Phone) State() State {
	st := sipua.RegStatus{State: sipua.Unregistered}
	p.mu.Lock()
	if p.reg != nil {
		st = p.reg.Status()
	}
	p.mu.Unlock()
	out := State{
		Registration: RegistrationInfo{State: string(st.State), Code: st.Code, Reason: st.Reason, Expires: st.Expires},
		Connection:   p.conn.State(),
		SdkAppID:     p.cfg.Agent.SdkAppId,
		UserID:       p.cfg.Agent.UserId,
		Extension:    p.cfg.Account.User,
		ServerType:   ServerType,
		Sessions:     []SessionState{},
		Agent:        p.AgentStatus(),
	}
	for _, s := range p.sessionList() {
		out.Sessions = append(out.Sessions, s.snapshot())
	}
	return out
}

func (p *Phone) sessionList() []*Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := make([]*Session, 0, len(p.sessions))
	for _, s := range p.sessions {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].started.Before(list[j].started) })
	return list
}

// waitByes lets the BYEs of just-ended calls go out (bounded by ctx).
func (p *Phone) waitByes(ctx context.Context) {
	p.mu.Lock()
	pending := make([]chan struct{}, 0, len(p.byes))
	for ch := range p.byes {
		pending = append(pending, ch)
	}
	p.mu.Unlock()
	for _, ch := range pending {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// waitSessions waits for ending sessions to finish (bounded by ctx).
func (p *Phone) waitSessions(ctx context.Context) {
	for _, s := range p.sessionList() {
		select {
		case <-s.done:
		case <-ctx.Done():
			return
		}
	}
}

// SIPAddr is the local SIP socket's host:port ("" before login).
func (p *Phone) SIPAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ua == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", p.ua.Host(), p.ua.Port())
}

func (p *Phone) kickedReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kicked
}
