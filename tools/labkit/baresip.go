package labkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BaresipOptions configures StartBaresip.
type BaresipOptions struct {
	Dir        string // config dir, baresip.log and rec/ (its recordings) go here
	User       string // extension it registers as
	Password   string
	Registrar  string // host:port of the registrar (Kamailio.Addr)
	AnswerMode string // "auto" (answers at once) or "manual" (the default: call Answer)
	ToneHz     int    // its microphone plays a sine of this frequency (default 440)
	Codecs     string // audio codecs in preference order, e.g. "PCMU,PCMA" (default: all it has)
	RTCPMux    bool   // offer and accept RTCP on the RTP port (RFC 5761; its config's rtcp_mux)
	// NoPlayback gives it a speaker that never plays: an aubridge device
	// without its source, whose clock never starts. The default speaker,
	// ALSA's null device, is not paced: its player thread spins on a core,
	// which makes its CPU figures meaningless (tools/bench).
	NoPlayback bool
	// TLS registers and calls over SIP/TLS: Registrar is then the TLS
	// address (Kamailio.TLSAddr) and CAFile the CA that signed it.
	TLS    bool
	CAFile string
	// MediaEnc encrypts the media with SDES-SRTP (RFC 4568): "srtp"
	// (offered, clear accepted), "srtp-mand" (mandatory) or "srtp-mandf"
	// (mandatory, RTP/SAVPF); "" for plain RTP.
	MediaEnc string
	// NetNS runs it inside that namespace: SIP, its media address (SDP
	// c=, net_interface) and ctrl_tcp on its PeerIP, reachable from the
	// test's side of the link. Its control connection is made from inside
	// the namespace, so it survives SetLocalIP and RemoveLocalIP.
	NetNS *NetNS
}

// Baresip is a running baresip registered with the registrar.
type Baresip struct {
	opts    BaresipOptions
	sipPort int
	p       *proc
	c       *ctrl
}

// baresipModules is where Debian installs them.
const baresipModules = "/usr/lib/baresip/modules"

// rtpPortCount is the size of each baresip's RTP range: a few calls' worth.
const rtpPortCount = 20

// StartBaresip writes a config dir, starts baresip and returns once it has
// registered, or an error with the tail of its log.
func StartBaresip(opts BaresipOptions) (*Baresip, error) {
	if opts.Dir == "" || opts.User == "" || opts.Registrar == "" {
		return nil, errors.New("baresip: BaresipOptions needs Dir, User and Registrar")
	}
	switch opts.AnswerMode {
	case "":
		opts.AnswerMode = "manual"
	case "auto", "manual":
	default:
		return nil, fmt.Errorf("baresip: answer mode %q: want auto or manual", opts.AnswerMode)
	}
	if opts.ToneHz == 0 {
		opts.ToneHz = 440
	}
	switch opts.MediaEnc {
	case "", "srtp", "srtp-mand", "srtp-mandf":
	default:
		return nil, fmt.Errorf("baresip: mediaenc %q: want srtp, srtp-mand or srtp-mandf (or empty for RTP)", opts.MediaEnc)
	}
	if opts.ToneHz < 10 || opts.ToneHz > 20000 {
		return nil, fmt.Errorf("baresip: tone %d Hz: ausine plays 10–20000 Hz", opts.ToneHz)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		return nil, fmt.Errorf("baresip: %w", err)
	}
	if _, err := exec.LookPath("baresip"); err != nil {
		return nil, errors.New("baresip not found: run `make deps`")
	}
	return retryPortClash(func() (*Baresip, error) { return startBaresipOnce(opts) })
}

// startBaresipOnce is one start of StartBaresip on newly picked ports.
func startBaresipOnce(opts BaresipOptions) (*Baresip, error) {
	dir := opts.Dir
	rtp, err := freePortRange(rtpPortCount)
	if err != nil {
		return nil, fmt.Errorf("baresip: %w", err)
	}
	b := &Baresip{opts: opts, sipPort: FreePort("sip+tls")} // baresip also binds SIP/TLS on port + 1
	ctrlAddr := net.JoinHostPort(opts.NetNS.peerHost(), strconv.Itoa(FreePort("tcp")))
	files := map[string]string{
		"config":   baresipConfig(opts, b.SIPAddr(), ctrlAddr, rtp),
		"accounts": b.accountLine() + "\n",
		"contacts": "",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("baresip: %w", err)
		}
	}
	b.p, err = startProcIn(opts.NetNS, "baresip", filepath.Join(dir, "baresip.log"), "-4", "-f", dir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Baresip, error) {
		if b.c != nil {
			_ = b.c.close() // the start-up error is the one to report
		}
		_ = b.p.stop(2 * time.Second)
		return nil, fmt.Errorf("baresip %s: %w\n--- %s (tail) ---\n%s", opts.User, err, b.p.logPath, b.p.logTail(20))
	}
	if b.c, err = dialCtrl(opts.NetNS, ctrlAddr, 10*time.Second); err != nil {
		return fail(err)
	}
	if err := b.waitRegistered(10 * time.Second); err != nil {
		return fail(err)
	}
	return b, nil
}

func (b *Baresip) accountLine() string {
	// The registrar's port goes in the AOR: an outbound proxy would make
	// baresip speak SIP outbound (RFC 5626), which the lab does not need.
	line := fmt.Sprintf("<sip:%s@%s>;auth_pass=\"%s\";answermode=%s;regint=300", //nolint:gocritic // sprintfQuotedString: baresip's quoting, not Go's
		b.opts.User, b.opts.Registrar, b.opts.Password, b.opts.AnswerMode)
	if b.opts.TLS {
		line = strings.Replace(line, ">", ";transport=tls>", 1)
	}
	if b.opts.Codecs != "" {
		line += ";audio_codecs=" + b.opts.Codecs
	}
	if b.opts.MediaEnc != "" {
		line += ";mediaenc=" + b.opts.MediaEnc
	}
	return line
}

func baresipConfig(opts BaresipOptions, sipAddr, ctrlAddr string, rtpBase int) string {
	player := "alsa,null"
	if opts.NoPlayback {
		player = "aubridge,noplayback"
	}
	return fmt.Sprintf(`# Generated by deskphone/tools/labkit.
poll_method		epoll
sip_listen		%s
net_interface		%s
rtp_ports		%d-%d
rtp_timeout		0
call_max_calls		4

audio_player		%s
audio_alert		alsa,null
audio_source		ausine,%d
ausrc_srate		48000
ausrc_channels		2

module_path		%s
module			g711.so
module			opus.so
module			ausine.so
module			aufile.so
module			alsa.so
module			sndfile.so
module			aubridge.so
module_app		account.so
module_app		contact.so
module_app		menu.so
module_app		ctrl_tcp.so

ctrl_tcp_listen		%s
statmode_default	off
snd_path		%s
rtcp_mux		%s
`, sipAddr, opts.NetNS.peerHost(), rtpBase, rtpBase+rtpPortCount-1, player, opts.ToneHz,
		baresipModules, ctrlAddr, filepath.Join(opts.Dir, "rec"), map[bool]string{false: "no", true: "yes"}[opts.RTCPMux]) +
		baresipSecurity(opts)
}

// baresipSecurity is the config for SIP/TLS (the CA it verifies the
// registrar with) and the srtp module (MediaEnc).
func baresipSecurity(opts BaresipOptions) string {
	var b strings.Builder
	if opts.CAFile != "" {
		fmt.Fprintf(&b, "sip_cafile\t\t%s\n", opts.CAFile)
	}
	if opts.MediaEnc != "" {
		b.WriteString("module\t\t\tsrtp.so\n")
	}
	return b.String()
}

// waitRegistered polls reginfo until the account shows OK.
func (b *Baresip) waitRegistered(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		if b.p.exited() {
			return fmt.Errorf("exited during start-up (%w)", b.p.err)
		}
		out, err := b.c.command(ctx, "reginfo", "")
		if err == nil && registeredOK(out) {
			return nil
		}
		last = out
		select {
		case <-ctx.Done():
			return fmt.Errorf("not registered with %s within %v; reginfo: %q", b.opts.Registrar, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// registeredOK reads reginfo's "0 - sip:1002@127.0.0.1 OK" (with colour
// escapes) lines.
func registeredOK(reginfo string) bool {
	for _, line := range strings.Split(reginfo, "\n") {
		line = ansiEscape.ReplaceAllString(line, " ")
		if strings.Contains(line, "sip:") && slices.Contains(strings.Fields(line), "OK") {
			return true
		}
	}
	return false
}

// PID is baresip's process id, for its CPU and memory figures (tools/bench).
func (b *Baresip) PID() int { return b.p.cmd.Process.Pid }

// SIPAddr is where baresip listens for SIP (UDP and TCP).
func (b *Baresip) SIPAddr() string {
	return net.JoinHostPort(b.opts.NetNS.peerHost(), strconv.Itoa(b.sipPort))
}

// URI is the SIP URI of a user on the registrar baresip uses, e.g. to Dial.
func (b *Baresip) URI(user string) string {
	if b.opts.TLS {
		return "sip:" + user + "@" + b.opts.Registrar + ";transport=tls"
	}
	return "sip:" + user + "@" + b.opts.Registrar
}

// Command runs a baresip command (as typed after "/" in its menu) and
// returns its output.
func (b *Baresip) Command(cmd, params string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.c.command(ctx, cmd, params)
}

// Dial calls uri, e.g. "sip:1001@127.0.0.1:5060".
func (b *Baresip) Dial(uri string) error {
	_, err := b.Command("dial", uri)
	return err
}

// Answer accepts the ringing incoming call.
func (b *Baresip) Answer() error {
	_, err := b.Command("accept", "")
	return err
}

// Hangup ends the current call (or rejects the ringing one).
func (b *Baresip) Hangup() error {
	_, err := b.Command("hangup", "")
	return err
}

// dtmfGap separates digits so the far end sees distinct key presses.
const dtmfGap = 200 * time.Millisecond

// SendDTMF sends digits (0-9, *, #, A-D) as RFC 4733 events, one at a time.
func (b *Baresip) SendDTMF(digits string) error {
	for i, d := range digits {
		if i > 0 {
			time.Sleep(dtmfGap)
		}
		if !strings.ContainsRune("0123456789*#ABCDabcd", d) {
			return fmt.Errorf("baresip: DTMF digit %q: want 0-9, *, # or A-D", d)
		}
		if _, err := b.Command("sndcode", string(d)); err != nil {
			return err
		}
	}
	return nil
}

// WaitEvent returns the oldest event of type typ not yet returned, waiting
// for it until ctx ends. Events are kept from the start, so none is lost
// between calls.
func (b *Baresip) WaitEvent(ctx context.Context, typ string) (Event, error) {
	return b.c.waitEvent(ctx, typ, func(e Event) bool { return e.Type == typ })
}

// WaitEventMatch is WaitEvent for the oldest event match accepts, e.g. a
// CALL_REMOTE_SDP whose Param is "offer".
func (b *Baresip) WaitEventMatch(ctx context.Context, match func(Event) bool) (Event, error) {
	return b.c.waitEvent(ctx, "(matching)", match)
}

// receivedDTMF matches baresip's log of received digits. An RFC 4733
// digit shows twice, "received event: '1' (end=0)" when it starts and
// "(end=1)" when it ends; a SIP INFO one (application/dtmf-relay) once,
// "call: received DTMF: '5' (duration=160)".
var receivedDTMF = regexp.MustCompile(`received (?:event|DTMF): '(.)'(?: \(end=(\d)\))?`)

// ReceivedDTMF returns the digits baresip has received so far, by RTP or
// SIP INFO, in order.
func (b *Baresip) ReceivedDTMF() string {
	var sb strings.Builder
	for _, m := range receivedDTMF.FindAllStringSubmatch(b.p.log(), -1) {
		if m[2] != "1" {
			sb.WriteString(m[1])
		}
	}
	return sb.String()
}

// Recordings returns the WAV files of what baresip heard, one per call,
// oldest first.
func (b *Baresip) Recordings() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(b.opts.Dir, "rec", "dump-*-dec.wav"))
	if err != nil {
		return nil, err
	}
	mod := make(map[string]time.Time, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		mod[p] = fi.ModTime()
	}
	sort.SliceStable(paths, func(i, j int) bool { return mod[paths[i]].Before(mod[paths[j]]) })
	return paths, nil
}

// Log returns everything baresip has logged so far.
func (b *Baresip) Log() string { return b.p.log() }

// Stop sends SIGTERM (baresip un-registers and exits) and SIGKILL after 5 s.
func (b *Baresip) Stop() error {
	_ = b.c.close() // baresip is being stopped: a broken control link changes nothing
	// The first SIGTERM hangs up calls and un-registers; with a call whose
	// far end is gone it waits for that BYE to time out (32 s). A second
	// SIGTERM makes baresip quit at once (its signal handler's second stage).
	_ = syscall.Kill(-b.p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.p.done:
	case <-time.After(2 * time.Second):
	}
	return b.p.stop(5 * time.Second)
}
