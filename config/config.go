// Package config is the phone's one configuration schema: the YAML file
// described by examples/phone.yaml, its defaults and its validation.
//
// Load and Parse decode the file, fill in defaults, read secret files and
// check every value. All problems are reported together in one *Error, each
// with the file, line and dotted key it concerns and what to do about it, so
// that a person fixing a phone's config sees every mistake in one run.
package config

import (
	"strconv"
	"strings"
	"time"
)

// Config is a loaded, validated phone configuration.
type Config struct {
	Account Account `yaml:"account"`
	Agent   Agent   `yaml:"agent"`
	Board   string  `yaml:"board"` // a profile name under boards/; the caller checks it exists
	// Sim is the simulated board's microphone and speaker (board: sim).
	// A real board's devices are in its profile (boards/*.yaml).
	Sim     SimAudio `yaml:"sim"`
	Audio   Audio    `yaml:"audio"`
	Calls   Calls    `yaml:"calls"`
	API     API      `yaml:"api"`
	Console Console  `yaml:"console"`
	Relay   Relay    `yaml:"relay"`

	Provisioning Provisioning `yaml:"provisioning"`

	// File is the path the config was loaded from (empty after Parse).
	File string `yaml:"-"`
	// Warnings are what the file should change but that still works,
	// e.g. a deprecated key; the firmware logs them at boot.
	Warnings []Problem `yaml:"-"`
}

// Account is the SIP account the phone registers.
type Account struct {
	// Registrar is the registrar/outbound proxy: host:port, an IP address
	// (port 5060), or a host name alone, resolved by RFC 3263 (NAPTR, SRV,
	// then A at 5060).
	Registrar string `yaml:"registrar"`
	// Failover lists further registrars/outbound proxies (written like
	// Registrar), tried in this order when those before stop answering.
	Failover []string `yaml:"failover"`
	// DNS is the DNS server (host:port) for the registrars' names; ""
	// means /etc/resolv.conf's.
	DNS string `yaml:"dns"`
	// FailoverTimeout is how long a REGISTER waits for an answer before
	// the next registrar is tried (with failover entries only).
	FailoverTimeout time.Duration `yaml:"failover_timeout"`
	// FailbackProbe is how often the first registrar is probed (OPTIONS)
	// while another one is in use; after FailbackAfter answers in a row
	// the phone registers there again (0: it stays).
	FailbackProbe time.Duration `yaml:"failback_probe"`
	FailbackAfter int           `yaml:"failback_after"`

	Domain   string `yaml:"domain"` // defaults to the registrar's host
	User     string `yaml:"user"`
	AuthUser string `yaml:"auth_user"` // defaults to User

	// Password holds the password after loading, also when it came from
	// PasswordFile (then PasswordFile holds the resolved path).
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`

	DisplayName string `yaml:"display_name"`
	Transport   string `yaml:"transport"` // "udp", "tcp" or "tls", lower case after loading
	Expires     int    `yaml:"expires"`   // seconds
	Listen      string `yaml:"listen"`    // local host:port; port 0 picks a free one
	// Keepalive is how often OPTIONS checks that the registrar still
	// answers (connection supervision); 0 turns it off.
	Keepalive time.Duration `yaml:"keepalive"`
	// AddressCheck is how often the phone checks the address it reaches
	// the registrar from (besides at once on Linux's netlink news of a
	// changed interface, address or route): a new one is registered and
	// the calls follow it; none is a lost connection. 0 turns it off.
	AddressCheck time.Duration `yaml:"address_check"`
	// RetryMin and RetryMax bound the exponential back-off (with ±20 %
	// jitter) between failed registrations.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// Probe is how often, while a registration waits out its back-off,
	// an OPTIONS checks whether the registrar is back, so it is used
	// within about Probe of answering again; 0 waits out the back-off.
	Probe time.Duration `yaml:"probe"`
	// RegEvent subscribes to the registration event package (RFC 3680)
	// of the account's own AOR after login: a NOTIFY saying another
	// device took over this phone's binding kicks the agent out.
	RegEvent bool `yaml:"reg_event"`
	// Provision is where the account comes from: "" (this file) or
	// "relay" (fetched from relay.url at boot and on a 401; then user,
	// registrar and password may be left out).
	Provision string `yaml:"provision"`
	// Cache keeps the last provisioned account, so the phone boots while
	// the relay is down.
	Cache string `yaml:"cache"`
	// TrustedPeers may send out-of-dialog requests (calls) straight to
	// the phone besides the registrar, which is always trusted (by its IP
	// address, any port): host, host:port or CIDR. Others are refused.
	TrustedPeers []string `yaml:"trusted_peers"`
	// AcceptDirect accepts out-of-dialog requests from any address (labs).
	AcceptDirect bool `yaml:"accept_direct"`
	// CAFile is the PEM CA bundle that signs the registrar's certificate
	// (transport tls); empty: the system's roots.
	CAFile string `yaml:"ca_file"`
	// TLSServerName is the name the registrar's certificate must carry;
	// empty: the registrar's host.
	TLSServerName string `yaml:"tls_server_name"`
}

// Agent is the contact-center identity of the phone's user.
type Agent struct {
	SdkAppId int64  `yaml:"sdk_app_id"`
	UserId   string `yaml:"user_id"`

	InitialStatus string        `yaml:"initial_status"` // free, notReady or rest (with the first rest reason)
	WrapUp        time.Duration `yaml:"wrap_up"`        // after-call work after each talked call; 0 = none
	AfterWrapUp   string        `yaml:"after_wrap_up"`  // previous or free
	// RefuseUnavailable refuses inbound calls (480) while the agent is
	// not ready, on rest, wrapping up or offline.
	RefuseUnavailable bool     `yaml:"refuse_unavailable"`
	RestReasons       []string `yaml:"rest_reasons"`
	Sync              string   `yaml:"sync"` // none, relay (relay.url) or sip (SIP presence)
}

// Relay is the integrator's backend the phone asks for what needs the
// cloud API key (tools/relay): agent status sync and provisioning.
type Relay struct {
	URL       string `yaml:"url"` // https://host[:port]
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	CAFile    string `yaml:"ca_file"` // extra CA for the relay's certificate; "" = the system's
}

// Provisioning is where the phone fetches its configuration from, at boot
// and on POST /v1/provision (config/provision): <url>/<mac>.yaml, else
// <url>/deskphone.yaml, merged over this file. These keys themselves are
// never taken from the server.
type Provisioning struct {
	URL      string `yaml:"url"`       // https://host[:port]/path/; "" = DHCP option 66 (DHCPFile), if any
	CAFile   string `yaml:"ca_file"`   // extra CA for the server's certificate, besides the system's
	DHCPFile string `yaml:"dhcp_file"` // where the DHCP client's hook writes option 66
	Store    string `yaml:"store"`     // the last accepted provisioned file, for boots while the server is down
	// MAC names the per-phone file, lower-case hex without separators
	// after loading; "" = the MAC of the interface that routes to the server.
	MAC string `yaml:"mac"`
	// KeepLocal lists dotted keys (a section keeps all its keys) that the
	// provisioned file may not override.
	KeepLocal []string      `yaml:"keep_local"`
	Timeout   time.Duration `yaml:"timeout"` // one fetch, both files
}

// Audio selects codecs and ports.
type Audio struct {
	Codecs          []string `yaml:"codecs"` // preference order, upper case after loading
	DTMFPayloadType int      `yaml:"dtmf_payload_type"`
	RTPPorts        string   `yaml:"rtp_ports"` // "LO-HI"; see RTPPortRange
	DTMFMode        string   `yaml:"dtmf_mode"` // rfc4733 | info | both: how digits are sent
	// SymmetricRTP accepts the far end's audio from the first other
	// address it comes from, once per call, when the SDP's address never
	// sent first (a far end behind NAT); off, only the SDP's address is heard.
	SymmetricRTP bool `yaml:"symmetric_rtp"`
	// EchoCancel is auto | on | off: auto cancels the speaker's echo on
	// the hands-free (speaker) route only, on on every route, off never
	// (hal/aec).
	EchoCancel string `yaml:"echo_cancel"`
	// SRTP is off | optional | mandatory: SDES-SRTP (RFC 4568). optional
	// offers RTP/AVP with a=crypto and takes a plain answer (best effort:
	// an RTP/SAVP offer would be refused by a plain far end); mandatory calls
	// only with SRTP, and only over transport tls (keys in clear SIP would
	// protect nothing).
	SRTP string `yaml:"srtp"`
	// Sim is the old place of Config.Sim, still read: Load moves it there
	// with a warning and leaves this empty.
	//
	// Deprecated: write sim: at the top level.
	Sim SimAudio `yaml:"sim"`
}

// SimAudio is the simulated board's microphone and speaker.
type SimAudio struct {
	// Input is "silence", "tone:HZ" or the path of a WAV file (resolved
	// against the config file's directory by Load).
	Input string `yaml:"input"`
	// Output is a WAV path for what the phone hears, relative to the working
	// directory unless absolute; "" discards the audio.
	Output string `yaml:"output"`
}

// RTPPortRange returns the bounds of RTPPorts, or 0, 0 if it is malformed
// (never after a successful Load or Parse).
func (a Audio) RTPPortRange() (lo, hi int) {
	lo, hi, ok := parsePortRange(a.RTPPorts)
	if !ok {
		return 0, 0
	}
	return lo, hi
}

func parsePortRange(s string) (lo, hi int, ok bool) {
	l, h, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(l))
	hi, err2 := strconv.Atoi(strings.TrimSpace(h))
	return lo, hi, err1 == nil && err2 == nil
}

// Calls holds call timers.
type Calls struct {
	RingTimeout   time.Duration `yaml:"ring_timeout"`   // unanswered inbound call ends
	AnswerTimeout time.Duration `yaml:"answer_timeout"` // unanswered outbound call ends
	MaxLines      int           `yaml:"max_lines"`      // calls at once (call waiting); more get 486
	HoldMusic     string        `yaml:"hold_music"`     // WAV the far end hears while held; "" = silence
	// Keepalive is how often an in-dialog OPTIONS checks that the far end
	// still knows the call; 0 turns it off.
	Keepalive       time.Duration `yaml:"keepalive"`
	SessionIDHeader string        `yaml:"session_id_header"` // header carrying the contact center's session id
	// FirstMediaTimeout: no RTP at all this long after answer is reported
	// (onWarning -3307) and the call goes on; 0 turns it off.
	FirstMediaTimeout time.Duration `yaml:"first_media_timeout"`
	// MediaTimeout: RTP that stops this long mid-call ends the call (Error,
	// -3308); never while on hold, either side; 0 turns it off.
	MediaTimeout time.Duration `yaml:"media_timeout"`
}

// API is the local control API.
type API struct {
	Listen string `yaml:"listen"`
	// Token holds the bearer token after loading, also when it came from
	// TokenFile (then TokenFile holds the resolved path). Empty means no
	// authentication, which is only allowed on a loopback address.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
}

// Console is the serial console (phone/console): a line protocol that test
// rigs (tools/hil) and technicians use to press keys and read the panel,
// state and events. Off unless Serial is set.
type Console struct {
	Serial string `yaml:"serial"` // the serial device, e.g. /dev/ttyAMA0; "" = off
	Baud   int    `yaml:"baud"`   // line speed, 8N1
}

// Default returns a config holding every default. The required values
// (registrar, user, password, agent identity) are left empty.
func Default() *Config {
	return &Config{
		Account: Account{
			Transport:    "udp",
			Expires:      300,
			Listen:       "0.0.0.0:5060",
			Keepalive:    25 * time.Second,
			AddressCheck: 5 * time.Second,
			RetryMin:     1 * time.Second,
			RetryMax:     60 * time.Second,
			Probe:        1 * time.Second,

			FailoverTimeout: 5 * time.Second,
			FailbackProbe:   5 * time.Second,
			FailbackAfter:   3,

			RegEvent:  false,
			Provision: "none",
			Cache:     "/var/lib/deskphone/account.json",
		},
		Agent: Agent{
			InitialStatus:     "free",
			AfterWrapUp:       "previous",
			RefuseUnavailable: true,
			RestReasons:       []string{"Meal", "Meeting", "Training"},
			Sync:              "none",
		},
		Board: "sim",
		Sim:   SimAudio{Input: "tone:1000"},
		Audio: Audio{
			Codecs:          []string{"PCMU", "PCMA"},
			DTMFPayloadType: 101,
			RTPPorts:        "16384-16583",
			DTMFMode:        "rfc4733",
			EchoCancel:      "auto",
			SRTP:            "off",
		},
		Calls: Calls{
			RingTimeout:       30 * time.Second,
			AnswerTimeout:     60 * time.Second,
			MaxLines:          2,
			Keepalive:         30 * time.Second,
			SessionIDHeader:   "X-Session-Id",
			FirstMediaTimeout: 5 * time.Second,
			MediaTimeout:      30 * time.Second,
		},
		API:     API{Listen: "127.0.0.1:8080"},
		Console: Console{Baud: 115200},
		Provisioning: Provisioning{
			DHCPFile: "/run/deskphone/option66",
			Store:    "/var/lib/deskphone/provisioned.yaml",
			Timeout:  10 * time.Second,
		},
	}
}
