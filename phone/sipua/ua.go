// Package sipua is the phone's SIP user agent on sipgo: one local SIP
// socket, registration with digest auth, and call legs in both directions.
// It knows nothing about media or the contact center: it moves SDP bodies
// and reports what the network said; package phone decides what it means.
//
// Requests outside dialogs go to one of several registrars/outbound
// proxies in priority order, resolved by RFC 3263 (resolve.go), with
// failover and a flap-free return to the primary (failover.go); Via
// carries rport (RFC 3581).
package sipua

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"deskphone/phone/signal"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config is the SIP account and local socket.
type Config struct {
	Registrar string // the registrar/outbound proxy: host:port, or a host name for RFC 3263 (resolve.go)
	// Failover lists further registrars/outbound proxies in priority
	// order, used when the ones before them stop answering (failover.go).
	Failover []string
	// DNS is the DNS server (host:port) for host names; "" means
	// /etc/resolv.conf's.
	DNS string
	// FailoverTimeout is how long a REGISTER waits for an answer before
	// the next target is tried (0: DefaultFailoverTimeout); with a single
	// target it waits the whole transaction (32 s).
	FailoverTimeout time.Duration
	// FailbackProbe is how often the primary is probed while another
	// target is in use (0: the phone stays where it is);
	// FailbackAfter is how many answers in a row bring it back (0:
	// DefaultFailbackAfter).
	FailbackProbe time.Duration
	FailbackAfter int
	Domain        string // AOR domain
	User          string // AOR user (extension)
	AuthUser      string // digest user name
	Password      string
	DisplayName   string
	Transport     string // "udp" or "tcp"
	Listen        string // local host:port; port 0 picks one
	Expires       int    // seconds asked for in REGISTER
	UserAgent     string
	Logger        *slog.Logger
	// TrustedPeers may send out-of-dialog requests besides the registrar
	// (trusted by IP, any port): host, host:port or CIDR (guard.go).
	TrustedPeers []string
	// AcceptDirect accepts out-of-dialog requests from anyone (labs).
	AcceptDirect bool
	// CAFile (PEM) verifies the registrar's certificate over transport
	// tls; empty: the system's roots. TLSServerName is the name it must
	// carry; empty: the registrar's host.
	CAFile, TLSServerName string
	// RetryMin and RetryMax bound a failed registration's exponential
	// back-off (0: the package's RetryMin, RetryMax).
	RetryMin, RetryMax time.Duration
	// Probe, while a registration waits out its back-off, sends an
	// OPTIONS this often and registers as soon as one is answered, so a
	// registrar that comes back is used within about Probe, not at the
	// end of a long back-off. 0 turns probing off.
	Probe time.Duration
}

// UA owns the SIP socket and sipgo's transaction machinery.
type UA struct {
	cfg      Config
	log      *slog.Logger
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	port     int
	listener interface{ Close() error }
	// local is the address others reach us at and what carries it (the
	// Contact, sipgo's client that writes it into Via): one value, swapped
	// whole when the network gives the phone another address (SetHost).
	local atomic.Pointer[local]
	// bindHost is account.listen's host: "" when unspecified, then the
	// address follows the route to the registrar (address.go).
	bindHost string
	// listenAddr is the SIP socket's address (host may be 0.0.0.0).
	listenAddr string
	// stale is the Contact of an address the phone left, until a
	// REGISTER removed its binding (address.go).
	stale atomic.Pointer[sip.ContactHeader]

	mu       sync.Mutex
	onInvite func(signal.Incoming)
	dialogs  map[string]*dialog

	subs  subTable  // subscriptions we made (subscribe.go), for their NOTIFYs
	guard *guard    // who may talk to the SIP port (guard.go)
	fo    *failover // the registrar targets and the one in use (failover.go)
	// public is our ip:port as the registrar saw it (RFC 3581 received/rport).
	public atomic.Pointer[string]
	// pingFailed is the target the last failed Ping went to (Kick).
	pingFailed atomic.Pointer[string]
	ready      chan struct{} // closed when New is done: handlers wait for it
	pong       chan struct{} // a CRLF keepalive pong arrived (keepalive.go)

	pwMu sync.Mutex
	pw   string // the digest password; SetPassword changes it (a provisioned reset)
}

// SetPassword changes the digest password, for the next challenge: the
// contact center reset it (the phone fetched the new one after a 401).
func (u *UA) SetPassword(pw string) {
	u.pwMu.Lock()
	u.pw = pw
	u.pwMu.Unlock()
}

// Password is the digest password in use.
func (u *UA) Password() string { return u.password() }

func (u *UA) password() string {
	u.pwMu.Lock()
	defer u.pwMu.Unlock()
	return u.pw
}

// New opens the local SIP socket and starts serving it.
func New(cfg Config) (*UA, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "deskphone"
	}
	cfg.Transport = strings.ToLower(cfg.Transport)
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	if cfg.Transport != "udp" && cfg.Transport != "tcp" && cfg.Transport != "tls" {
		return nil, fmt.Errorf("sip transport %q is not supported: use udp, tcp or tls", cfg.Transport)
	}
	tlsConf, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	cfg.DisplayName = cleanDisplayName(cfg.DisplayName)
	u := &UA{cfg: cfg, log: cfg.Logger, dialogs: map[string]*dialog{}, pw: cfg.Password, ready: make(chan struct{}), pong: make(chan struct{}, 1)}
	defer close(u.ready) // also on a failed start, so no handler waits for ever

	lhost, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip listen address %q: %w", cfg.Listen, err)
	}
	var localAddr string
	u.fo = startFailover(cfg)
	// The registrar targets are trusted through u.fo, not by name here.
	if u.guard, err = newGuard(cfg.Logger, "", cfg.TrustedPeers, cfg.AcceptDirect); err != nil {
		return nil, err
	}
	u.guard.targets = u.fo.trustedAddr
	quiet := newQuietLogger(cfg.Logger, 20, time.Second)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(cfg.Domain), sipgo.WithUserAgenTLSConfig(tlsConf),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet), sip.WithTransportLayerReadFilter(u.readFilter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		return nil, fmt.Errorf("sip stack: %w", err)
	}
	u.ua = ua
	u.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Logger))
	if err != nil {
		_ = ua.Close() // the setup error is the one to report
		return nil, fmt.Errorf("sip server: %w", err)
	}
	// Handlers are set before serving starts (sipgo's table is not
	// locked) and wait for New to finish setting up the UA.
	u.srv.OnInvite(u.whenReady(u.handleInvite))
	u.srv.OnAck(u.whenReady(u.handleInDialog))
	for _, m := range []sip.RequestMethod{sip.BYE, sip.UPDATE, sip.INFO, sip.REFER} {
		u.srv.OnRequest(m, u.whenReady(u.handleInDialog))
	}
	// NOTIFY of a subscription goes to it; any other (REFER progress) to
	// the call dialogs as before (subscribe.go).
	u.srv.OnRequest(sip.NOTIFY, u.whenReady(u.handleNotify))
	u.srv.OnOptions(u.whenReady(u.handleOptions))
	u.srv.OnNoRoute(u.whenReady(func(req *sip.Request, tx sip.ServerTransaction) {
		if !u.admitOutOfDialog(req, tx) {
			return
		}
		res := sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		_ = tx.Respond(res)
	}))
	switch cfg.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp4", cfg.Listen)
		if err != nil {
			_ = ua.Close() // the setup error is the one to report
			return nil, fmt.Errorf("cannot open the SIP port %s: %w (is another program using it? change account.listen)", cfg.Listen, err)
		}
		u.listener = pc
		localAddr = pc.LocalAddr().String()
		go func() { _ = u.srv.ServeUDP(pc) }()
	case "tcp", "tls":
		ln, err := net.Listen("tcp4", cfg.Listen)
		if err != nil {
			_ = ua.Close() // the setup error is the one to report
			return nil, fmt.Errorf("cannot open the SIP port %s: %w (is another program using it? change account.listen)", cfg.Listen, err)
		}
		u.listener = ln
		localAddr = ln.Addr().String()
		if cfg.Transport == "tcp" {
			go func() { _ = u.srv.ServeTCP(ln) }()
			break
		}
		// SIP over TLS runs on the connection the phone opens to the
		// registrar, which reaches the phone back over it (RFC 5626
		// §3.5.2, RFC 5923): the phone has no certificate to serve TLS
		// with. The port is held, so the Contact's port stays ours, and
		// anything connecting to it is hung up on.
		go refuseInbound(ln)
	}
	if cfg.Transport == "udp" {
		// ServeUDP puts the socket into sipgo's pool from its goroutine; a
		// request sent before that would open a second socket on the same
		// port and fail with "address already in use".
		if err := waitConnection(u.srv.TransportLayer(), localAddr); err != nil {
			_ = u.Close() // the setup error is the one to report
			return nil, err
		}
	}
	_, ps, _ := net.SplitHostPort(localAddr)
	u.port, _ = strconv.Atoi(ps)
	u.listenAddr = localAddr
	if ip := net.ParseIP(lhost); lhost != "" && (ip == nil || !ip.IsUnspecified()) {
		u.bindHost = lhost
	}
	host, err := u.LocalHost()
	if err != nil {
		// No network yet: the supervision sets the address once there is
		// one (phone/address.go).
		u.log.Warn("no network address to reach the registrar from yet", "error", err)
		host = cmp.Or(u.bindHost, "127.0.0.1")
	}
	l, err := u.newLocal(host)
	if err != nil {
		_ = u.Close() // the setup error is the one to report
		return nil, err
	}
	u.local.Store(l)
	return u, nil
}

// local is one address of the phone with the Contact and the client that
// carry it.
type local struct {
	host    string
	contact sip.ContactHeader
	cli     *sipgo.Client
}

// newLocal builds the Contact and sipgo's client for host.
func (u *UA) newLocal(host string) (*local, error) {
	// WithClientNAT puts rport in our Via (RFC 3581): the server answers
	// to the address and port our requests came from, so registration
	// works behind NAT.
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(u.cfg.Logger), sipgo.WithClientHostname(host), sipgo.WithClientPort(u.port), sipgo.WithClientNAT()}
	if u.cfg.Transport == "udp" {
		// Send from the listening socket, so responses and the registrar's
		// requests come back to the address in Via and Contact.
		opts = append(opts, sipgo.WithClientConnectionAddr(u.listenAddr))
	}
	cli, err := sipgo.NewClient(u.ua, opts...)
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	// No display name in Contact: it belongs in From, and peers that copy
	// Contact into a Request-URI (SIPp's [next_url]) would copy it too.
	l := &local{host: host, cli: cli, contact: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: u.cfg.User, Host: host, Port: u.port},
	}}
	if u.cfg.Transport == "tcp" || u.cfg.Transport == "tls" {
		l.contact.Address.UriParams = sip.NewParams()
		l.contact.Address.UriParams.Add("transport", u.cfg.Transport)
	}
	return l, nil
}

// cli is the client that sends our requests (from the current address).
func (u *UA) cli() *sipgo.Client { return u.local.Load().cli }

// contactHeader is a copy of our Contact, for a message.
func (u *UA) contactHeader() *sip.ContactHeader { return u.local.Load().contact.Clone() }

// Host is the address the far end reaches us at (also used for SDP).
func (u *UA) Host() string { return u.local.Load().host }

// Port is the local SIP port.
func (u *UA) Port() int { return u.port }

// AOR is the account's address of record.
func (u *UA) AOR() sip.Uri {
	return sip.Uri{Scheme: "sip", User: u.cfg.User, Host: u.cfg.Domain}
}

// OnIncoming sets the handler for new inbound calls. The handler must not
// block; the Incoming is answered, rejected or ends by itself later.
func (u *UA) OnIncoming(f func(signal.Incoming)) {
	u.mu.Lock()
	u.onInvite = f
	u.mu.Unlock()
}

// Close stops serving and closes the socket.
func (u *UA) Close() error {
	var errs []error
	if u.listener != nil {
		errs = append(errs, u.listener.Close())
	}
	if u.ua != nil {
		errs = append(errs, u.ua.Close())
	}
	return errors.Join(errs...)
}

// handleOptions answers OPTIONS: in a dialog through the dialog (so a
// stale one gets 481), outside one with what the phone supports.
func (u *UA) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		u.handleInDialog(req, tx)
		return
	}
	if !u.admitOutOfDialog(req, tx) {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "replaces, timer"))
	_ = tx.Respond(res)
}

// waitConnection waits until the transport layer serves addr.
func waitConnection(tl *sip.TransportLayer, addr string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if c, err := tl.GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the SIP socket %s did not start serving", addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// cleanDisplayName drops what cannot stand in a quoted display name.
func cleanDisplayName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// CheckTarget validates what the user dialled (signal.Calls).
func (u *UA) CheckTarget(to string) error {
	_, err := u.RequestURI(to)
	return err
}

// RequestURI turns what the user dialled into a SIP URI: a bare number or
// name goes to the account's domain; "sip:user@host" is taken as is.
func (u *UA) RequestURI(to string) (sip.Uri, error) {
	var uri sip.Uri
	if strings.IndexFunc(to, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return uri, fmt.Errorf("%w: %q has control characters (CR, LF, tab …): give a number or sip:user@host", ErrBadURI, to)
	}
	to = strings.TrimSpace(to)
	if to == "" {
		return uri, fmt.Errorf("%w: the number to call is empty", ErrBadURI)
	}
	if strings.ContainsAny(to, " <>\"") {
		return uri, fmt.Errorf("%w: %q has spaces, quotes or angle brackets: give a number or sip:user@host", ErrBadURI, to)
	}
	if !strings.HasPrefix(to, "sip:") && !strings.HasPrefix(to, "sips:") {
		if strings.ContainsAny(to, "@;:") {
			return uri, fmt.Errorf("%w: %q is neither a number nor a sip: URI", ErrBadURI, to)
		}
		to = "sip:" + to + "@" + u.cfg.Domain
	}
	if err := sip.ParseUri(to, &uri); err != nil || uri.Host == "" {
		return uri, fmt.Errorf("%w: %q: use a number or sip:user@host", ErrBadURI, to)
	}
	return uri, nil
}

func (u *UA) fromHeader() *sip.FromHeader {
	from := &sip.FromHeader{DisplayName: u.cfg.DisplayName, Address: u.AOR(), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	return from
}

// proxy is where requests go first: the registrar/outbound proxy target in
// use (failover.go).
func (u *UA) proxy() string { return u.fo.current().addr }

func (u *UA) transport() string { return strings.ToUpper(u.cfg.Transport) }

// whenReady holds a request that arrives while New is still setting up the
// UA until it is done.
func (u *UA) whenReady(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		<-u.ready
		if u.local.Load() == nil { // New failed
			return
		}
		if missing := missingHeader(req); missing != "" {
			// sipgo parses a request without these; every handler needs
			// them (RFC 3261 §8.1.1), so it is answered here, once.
			u.log.Debug("request refused: a mandatory header is missing", "method", req.Method, "header", missing, "source", req.Source())
			if req.Method != sip.ACK && req.Via() != nil && req.CSeq() != nil {
				res := sip.NewResponseFromRequest(req, 400, "Missing "+missing, nil)
				_ = tx.Respond(res)
			}
			return
		}
		if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
			// A version the phone does not speak: 505, in its own version.
			if req.Method != sip.ACK {
				res := sip.NewResponseFromRequest(req, 505, "Version Not Supported", nil)
				res.SipVersion = "SIP/2.0"
				_ = tx.Respond(res)
			}
			return
		}
		if res := strictCheck(req); res != nil {
			u.log.Debug("request refused", "method", req.Method, "code", res.StatusCode, "reason", res.Reason, "source", req.Source())
			if req.Method != sip.ACK {
				_ = tx.Respond(res)
			}
			return
		}
		h(req, tx)
	}
}

// missingHeader names the first mandatory header req lacks, or "".
func missingHeader(req *sip.Request) string {
	switch {
	case req.Via() == nil:
		return "Via"
	case req.From() == nil:
		return "From"
	case req.To() == nil:
		return "To"
	case req.CallID() == nil:
		return "Call-ID"
	case req.CSeq() == nil:
		return "CSeq"
	}
	return ""
}
