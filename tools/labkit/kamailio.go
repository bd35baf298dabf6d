package labkit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Domain is the SIP domain every peer in the lab uses.
const Domain = "127.0.0.1"

// KamailioOptions configures StartKamailio.
type KamailioOptions struct {
	Dir        string            // config, runtime files and kamailio.log go here
	Users      map[string]string // user → password; the only users it knows
	MaxExpires int               // largest registration it grants (0 = Kamailio's default: no limit)
	MinExpires int               // smallest registration it grants; shorter requests are raised (0 = default 60)
	Algorithm  string            // digest algorithm it challenges with: "" (MD5, not named), "MD5" or "SHA-256"
	ProxyAuth  bool              // challenge INVITEs from its own users with 407
	// Presence makes it a presence server (presence + presence_xml on
	// SQLite in Dir): PUBLISH and SUBSCRIBE with Event: presence to one of
	// its users are digest-authenticated (407) and handled by it.
	Presence bool
	// RegEvent serves the registration event package (RFC 3680, Event:
	// reg) and implies Presence: pua_reginfo PUBLISHes every change of
	// the location table to the presence server (presence_reginfo), which
	// NOTIFYs the subscribers of the AOR (SUBSCRIBE Event: reg, digest-
	// authenticated like presence). An AOR keeps one contact: a REGISTER
	// from a new contact replaces the old binding (save flag 0x04), which
	// the NOTIFY shows as the old contact terminated/unregistered.
	RegEvent bool
	// TLS adds SIP over TLS on its own port (TLSAddr), served with this
	// certificate (labkit.CA.Issue); clients are not asked for one.
	TLS *CertPair
	// NAT reaches each client at the address its requests came from, not
	// at its Contact (nathelper: fix_nated_register, fix_nated_contact),
	// as a registrar in front of NATed phones does: with it a relay (or a
	// NAT) between a phone and Kamailio carries all of their signalling.
	NAT bool
	// NetNS runs it inside that namespace, listening on its PeerIP instead
	// of 127.0.0.1 (Addr, TLSAddr); the SIP domain stays Domain.
	NetNS *NetNS
}

// Kamailio is a running registrar/proxy on 127.0.0.1 (or NetNS.PeerIP),
// UDP and TCP on one port.
type Kamailio struct {
	opts     KamailioOptions
	host     string // where it listens
	port     int
	ctlSock  string
	p        *proc
	restarts int // Restart's count, for its log file names
	tlsPort  int // SIP over TLS (KamailioOptions.TLS)
}

// StartKamailio writes Dir/kamailio.cfg, starts Kamailio in its own process
// group and returns once it answers an OPTIONS probe.
func StartKamailio(opts KamailioOptions) (*Kamailio, error) {
	if opts.Dir == "" {
		return nil, errors.New("kamailio: KamailioOptions.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if opts.RegEvent {
		opts.Presence = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kamailio: %w", err)
	}
	if _, err := exec.LookPath("kamailio"); err != nil {
		return nil, errors.New("kamailio not found: run `make deps`")
	}
	if opts.Presence {
		if err := createPresenceDB(dir); err != nil {
			return nil, err
		}
	}
	if opts.TLS != nil {
		if err := writeTLSConfig(opts); err != nil {
			return nil, err
		}
	}
	return retryPortClash(func() (*Kamailio, error) { return startKamailioOnce(opts) })
}

// startKamailioOnce is one start of StartKamailio on newly picked ports.
func startKamailioOnce(opts KamailioOptions) (*Kamailio, error) {
	dir := opts.Dir
	k := &Kamailio{opts: opts, host: opts.NetNS.peerHost(), port: FreePort("sip"), ctlSock: filepath.Join(dir, "kamailio.ctl")}
	if len(k.ctlSock) > 100 { // a unix socket path must fit in 108 bytes
		sockDir, err := os.MkdirTemp("", "kam")
		if err != nil {
			return nil, err
		}
		k.ctlSock = filepath.Join(sockDir, "kamailio.ctl")
	}
	if opts.TLS != nil {
		k.tlsPort = FreePort("tcp")
	}
	cfg, err := renderKamailioCfg(opts, k.port, k.ctlSock, k.tlsPort)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("kamailio: %w", err)
	}
	if err := k.run("kamailio.log"); err != nil {
		return nil, err
	}
	return k, nil
}

// run starts Kamailio on Dir/kamailio.cfg, logging to Dir/logName, and
// waits until it answers OPTIONS.
func (k *Kamailio) run(logName string) error {
	dir := k.opts.Dir
	// -DD: stay in the foreground; -E: log to stderr, which goes to the log.
	p, err := startProcIn(k.opts.NetNS, "kamailio", filepath.Join(dir, logName),
		"-f", filepath.Join(dir, "kamailio.cfg"), "-DD", "-E", "-Y", dir, "-w", dir)
	if err != nil {
		return err
	}
	k.p = p
	if err := k.waitReady(10 * time.Second); err != nil {
		_ = k.p.stop(2 * time.Second)
		return fmt.Errorf("kamailio: %w\n--- %s (tail) ---\n%s", err, k.p.logPath, k.p.logTail(20))
	}
	return nil
}

// waitReady probes with OPTIONS until Kamailio answers. In a NetNS the
// probe goes from inside it, so it needs no address on the test's side.
func (k *Kamailio) waitReady(timeout time.Duration) error {
	conn, err := k.opts.NetNS.listenPacket("udp4", net.JoinHostPort(k.host, "0"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	to, _ := net.ResolveUDPAddr("udp4", k.Addr())
	local := conn.LocalAddr().String()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(timeout)
	for i := 0; time.Now().Before(deadline); i++ {
		if k.p.exited() {
			return fmt.Errorf("exited during start-up (%w)", k.p.err)
		}
		probe := "OPTIONS sip:" + k.Addr() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-labkit-" + strconv.Itoa(i) + ";rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:labkit@" + Domain + ">;tag=labkit\r\n" +
			"To: <sip:" + k.Addr() + ">\r\n" +
			"Call-ID: labkit-probe-" + strconv.Itoa(k.port) + "\r\n" +
			"CSeq: " + strconv.Itoa(i+1) + " OPTIONS\r\n" +
			"Content-Length: 0\r\n\r\n"
		if _, err := conn.WriteTo([]byte(probe), to); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := conn.ReadFrom(buf); err == nil && n > 8 && string(buf[:8]) == "SIP/2.0 " {
			return nil
		}
	}
	return fmt.Errorf("no answer to OPTIONS on %s within %v", k.Addr(), timeout)
}

// Addr is the UDP host:port; TCP listens on the same port.
func (k *Kamailio) Addr() string { return net.JoinHostPort(k.host, strconv.Itoa(k.port)) }

// Port is Kamailio's SIP port (UDP and TCP).
func (k *Kamailio) Port() int { return k.port }

// Domain is the SIP domain it serves.
func (k *Kamailio) Domain() string { return Domain }

// Log returns everything Kamailio has logged so far.
func (k *Kamailio) Log() string { return k.p.log() }

// Stop sends SIGTERM to Kamailio's process group and SIGKILL after 10 s.
func (k *Kamailio) Stop() error {
	err := k.p.stop(10 * time.Second)
	if filepath.Dir(k.ctlSock) != k.opts.Dir {
		_ = os.RemoveAll(filepath.Dir(k.ctlSock)) // a temp dir; stop's error is the one to report
	}
	return err
}
