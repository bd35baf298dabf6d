package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// validate checks every value of c, after defaults and secrets, and records
// each problem. dir is the config file's directory ("" = working directory).
func (d *decoder) validate(c *Config, dir string) {
	d.checkAccount(&c.Account)
	d.checkTLS(&c.Account, dir)
	d.checkAgent(&c.Agent)
	d.checkRelay(c, dir)
	if strings.TrimSpace(c.Board) == "" {
		d.add("board", "is empty; name a board profile under boards/, e.g. board: sim")
	}
	d.checkAudio(&c.Audio)
	d.checkSim(c, dir)
	d.checkPositive("calls.ring_timeout", int64(c.Calls.RingTimeout), "30s")
	d.checkPositive("calls.answer_timeout", int64(c.Calls.AnswerTimeout), "60s")
	if c.Calls.MaxLines < 1 || c.Calls.MaxLines > 8 {
		d.add("calls.max_lines", "%d is out of range; use 1-8 (2 gives call waiting)", c.Calls.MaxLines)
	}
	if c.Account.Keepalive < 0 {
		d.add("account.keepalive", "is negative; use a duration such as 25s, or 0 to turn it off")
	}
	if c.Account.AddressCheck < 0 {
		d.add("account.address_check", "is negative; use a duration such as 5s, or 0 to turn address watching off")
	}
	d.checkPositive("account.retry_min", int64(c.Account.RetryMin), "1s")
	d.checkPositive("account.retry_max", int64(c.Account.RetryMax), "60s")
	if c.Account.RetryMax > 0 && c.Account.RetryMax < c.Account.RetryMin {
		d.add("account.retry_max", "%v is below account.retry_min (%v); the back-off grows from retry_min up to retry_max", c.Account.RetryMax, c.Account.RetryMin)
	}
	if c.Account.Probe < 0 {
		d.add("account.probe", "is negative; use a duration such as 1s, or 0 to wait out the back-off")
	}
	if c.Calls.Keepalive < 0 {
		d.add("calls.keepalive", "is negative; use a duration such as 30s, or 0 to turn it off")
	}
	if c.Calls.FirstMediaTimeout < 0 {
		d.add("calls.first_media_timeout", "is negative; use a duration such as 5s, or 0 to turn it off")
	}
	if c.Calls.MediaTimeout < 0 {
		d.add("calls.media_timeout", "is negative; use a duration such as 30s, or 0 to turn it off")
	}
	if c.Calls.HoldMusic != "" {
		if dir != "" && !filepath.IsAbs(c.Calls.HoldMusic) {
			c.Calls.HoldMusic = filepath.Join(dir, c.Calls.HoldMusic)
		}
		if _, err := os.Stat(c.Calls.HoldMusic); err != nil {
			d.add("calls.hold_music", "cannot read '%s' (%v); give a 16-bit PCM WAV file, or remove it for silence", c.Calls.HoldMusic, err)
		}
	}
	if strings.ContainsAny(c.Calls.SessionIDHeader, " :\r\n\t") {
		d.add("calls.session_id_header", "'%s' is not a header name; use e.g. X-Session-Id", c.Calls.SessionIDHeader)
	}
	switch c.Audio.DTMFMode {
	case "rfc4733", "info", "both":
	default:
		d.add("audio.dtmf_mode", "'%s' is not supported; use rfc4733, info or both", c.Audio.DTMFMode)
	}
	switch c.Audio.EchoCancel {
	case "auto", "on", "off":
	default:
		d.add("audio.echo_cancel", "'%s' is not supported; use auto (the speaker route), on or off", c.Audio.EchoCancel)
	}
	switch c.Audio.SRTP {
	case "off":
	case "optional":
		if c.Account.Transport != "tls" && d.present("audio.srtp") {
			// Allowed (it is what most phones call "best effort"), but a
			// listener on the path reads the keys: say so once at start-up.
			c.Warnings = append(c.Warnings, Problem{File: d.fileOf("audio.srtp"), Line: d.line("audio.srtp"), Key: "audio.srtp",
				Msg: fmt.Sprintf("optional over %s sends the SRTP keys in clear SIP: anyone who sees the signalling can decrypt the audio; use account.transport: tls", c.Account.Transport)})
		}
	case "mandatory":
		if c.Account.Transport != "tls" {
			d.add("audio.srtp", "mandatory needs account.transport: tls: over %s the SRTP keys would cross the network in clear", c.Account.Transport)
		}
	default:
		d.add("audio.srtp", "'%s' is not supported; use off, optional or mandatory", c.Audio.SRTP)
	}
	d.checkAPI(&c.API)
	d.checkConsole(&c.Console)
	d.checkProvisioning(&c.Provisioning, dir)
}

// required reports a missing or empty required value and says what to add.
func (d *decoder) required(key, hint string) {
	if d.present(key) {
		d.add(key, "is empty; set %s", hint)
		return
	}
	section, name, _ := strings.Cut(key, ".")
	d.add(key, "missing; add %s: under %s: (%s)", name, section, hint)
}

func (d *decoder) checkAccount(a *Account) {
	prov := a.Provision == "relay" // the relay fills in what is missing
	switch a.Provision {
	case "", "none", "relay":
	default:
		d.add("account.provision", "'%s' is not supported; use relay (the account comes from relay.url) or remove it", a.Provision)
	}
	if prov && strings.TrimSpace(a.Cache) == "" {
		d.add("account.cache", "is empty; give a file the provisioned account is kept in, e.g. /var/lib/deskphone/account.json")
	}
	switch {
	case a.Registrar == "" && prov: // the relay provides it
	case a.Registrar == "":
		d.required("account.registrar", "the SIP registrar's host:port, e.g. pbx.example.com:5060")
	default:
		d.checkServer("account.registrar", a.Registrar)
	}
	d.checkFailover(a)
	if d.present("account.domain") && a.Domain != "" && !validHost(a.Domain) {
		d.add("account.domain", "'%s' is not a valid domain; use a DNS name or IP address, e.g. example.com, or remove it to use the registrar's host", a.Domain)
	}
	switch {
	case a.User == "" && prov:
	case a.User == "":
		d.required("account.user", `the extension, e.g. "1001"`)
	case strings.Contains(a.User, "@"):
		d.add("account.user", "'%s' contains '@'; give only the user part (e.g. %q) and put the host in account.domain", a.User, a.User[:strings.IndexByte(a.User, '@')])
	case strings.ContainsAny(a.User, " \t"):
		d.add("account.user", "'%s' contains spaces; use the extension exactly as the PBX knows it, e.g. \"1001\"", a.User)
	}
	if d.present("account.auth_user") && strings.ContainsAny(a.AuthUser, " \t") {
		d.add("account.auth_user", "'%s' contains spaces; use the digest user name the PBX gave you, or remove it to use account.user", a.AuthUser)
	}
	if a.Transport != "udp" && a.Transport != "tcp" && a.Transport != "tls" {
		d.add("account.transport", "'%s' is not supported; use udp, tcp or tls", a.Transport)
	}
	d.checkTrustedPeers(a.TrustedPeers)
	if a.Expires < 1 || a.Expires > 86400 {
		d.add("account.expires", "%d is out of range; use 1-86400 seconds (300 is usual)", a.Expires)
	}
	if a.Listen == "" {
		d.required("account.listen", "the local SIP address, e.g. 0.0.0.0:5060")
	} else {
		d.checkHostPort("account.listen", a.Listen, portRule{min: 0, anyHost: true, example: "5060"})
	}
}

func (d *decoder) checkAgent(a *Agent) {
	switch {
	case a.SdkAppId == 0 && !d.present("agent.sdk_app_id"):
		d.required("agent.sdk_app_id", "the contact center's SdkAppId, e.g. 1400000001")
	case a.SdkAppId <= 0:
		d.add("agent.sdk_app_id", "%d is not a valid SdkAppId; use the positive id of your contact-center application, e.g. 1400000001", a.SdkAppId)
	}
	if strings.TrimSpace(a.UserId) == "" {
		d.required("agent.user_id", "the agent's UserId, e.g. agent1001@example.com")
	}
	switch a.InitialStatus {
	case "free", "notReady":
	case "rest":
		if len(a.RestReasons) == 0 {
			d.add("agent.initial_status", "rest needs a reason: list them in agent.rest_reasons, e.g. [Meal, Meeting]")
		}
	default:
		d.add("agent.initial_status", "'%s' is not a status an agent starts in; use free, notReady or rest", a.InitialStatus)
	}
	if a.WrapUp < 0 || a.WrapUp > 24*time.Hour {
		d.add("agent.wrap_up", "%v is out of range; use a duration such as 30s, or 0s for no after-call work", a.WrapUp)
	}
	switch a.AfterWrapUp {
	case "previous", "free":
	default:
		d.add("agent.after_wrap_up", "'%s' is not supported; use previous (the status before the call) or free", a.AfterWrapUp)
	}
	seen := map[string]bool{}
	for i, r := range a.RestReasons {
		line := d.line(fmt.Sprintf("agent.rest_reasons[%d]", i))
		switch {
		case strings.TrimSpace(r) == "" || len(r) > 32:
			d.addAt("agent.rest_reasons", line, "item %d: give a short name of 1-32 characters, e.g. Meal", i+1)
		case seen[r]:
			d.addAt("agent.rest_reasons", line, "%s is listed twice; list each reason once", r)
		}
		seen[r] = true
	}
	switch a.Sync {
	case "none", "relay", "sip":
	default:
		d.add("agent.sync", "'%s' is not supported; use none, relay (the integrator's backend at relay.url) or sip (SIP presence)", a.Sync)
	}
}

// checkRelay checks the relay, which agent.sync: relay and
// account.provision: relay need.
func (d *decoder) checkRelay(c *Config, dir string) {
	r := &c.Relay
	var users []string
	if c.Agent.Sync == "relay" {
		users = append(users, "agent.sync: relay")
	}
	if c.Account.Provision == "relay" {
		users = append(users, "account.provision: relay")
	}
	if r.URL == "" {
		if len(users) > 0 {
			d.required("relay.url", fmt.Sprintf("the relay's address for %s, e.g. https://relay.example.com:8443", strings.Join(users, " and ")))
		}
		return
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		d.add("relay.url", "'%s' is not a URL; write https://host[:port], e.g. https://relay.example.com:8443", r.URL)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		d.add("relay.url", "%s would send the relay token in clear over the network; use https://", r.URL)
	}
	if r.Token == "" {
		d.required("relay.token", "the token the relay gave this device (or relay.token_file: PATH)")
	}
	if r.CAFile != "" {
		r.CAFile = resolvePath(dir, r.CAFile)
		if _, err := os.Stat(r.CAFile); err != nil {
			d.add("relay.ca_file", "cannot read %s (%v); give the PEM file of the CA that signed the relay's certificate, or remove it to use the system's", r.CAFile, unwrapPath(err))
		}
	}
}

func (d *decoder) checkAudio(a *Audio) {
	d.checkCodecs(a.Codecs)
	if a.DTMFPayloadType < 96 || a.DTMFPayloadType > 127 {
		d.add("audio.dtmf_payload_type", "%d is outside the dynamic payload types 96-127; use 101 unless your PBX says otherwise", a.DTMFPayloadType)
	}
	d.checkRTPPorts(a.RTPPorts)
}

// checkSim validates the simulated board's sound, also where it used to be
// written (audio.sim), which is moved to sim: with a warning.
func (d *decoder) checkSim(c *Config, dir string) {
	if !d.present("audio.sim") {
		d.checkSimInput("sim.input", &c.Sim, dir)
		return
	}
	if d.present("sim") {
		d.add("audio.sim", "is the old place of sim:, which is set too; move what it holds into sim: and remove it")
		return
	}
	if !d.present("audio.sim.input") {
		c.Audio.Sim.Input = c.Sim.Input // the default
	}
	d.checkSimInput("audio.sim.input", &c.Audio.Sim, dir)
	c.Sim, c.Audio.Sim = c.Audio.Sim, SimAudio{}
	c.Warnings = append(c.Warnings, Problem{File: d.fileOf("audio.sim"), Line: d.line("audio.sim"), Key: "audio.sim",
		Msg: "is deprecated: the simulated board's sound is now a section of its own; move it to the top level as sim: (same keys)"})
}

// supportedCodecs are the codecs the media engine has, by SDP name (OPUS
// needs the cgo build: a pure-Go build refuses it at start-up by name).
var supportedCodecs = []string{"PCMU", "PCMA", "OPUS"}

func (d *decoder) checkCodecs(codecs []string) {
	const key = "audio.codecs"
	if len(codecs) == 0 {
		d.add(key, "no codecs listed; list at least one, e.g. [PCMU, PCMA]")
		return
	}
	first := map[string]int{}
	for i, codec := range codecs {
		line := d.line(fmt.Sprintf("%s[%d]", key, i))
		if !isSupportedCodec(codec) {
			last := len(supportedCodecs) - 1
			d.addAt(key, line, "'%s' is not a supported codec; use %s or %s", codec, strings.Join(supportedCodecs[:last], ", "), supportedCodecs[last])
		}
		if j, dup := first[codec]; dup {
			d.addAt(key, line, "%s is listed twice (items %d and %d); list each codec once", codec, j+1, i+1)
			continue
		}
		first[codec] = i
	}
}

func isSupportedCodec(c string) bool {
	for _, s := range supportedCodecs {
		if c == s {
			return true
		}
	}
	return false
}

func (d *decoder) checkRTPPorts(s string) {
	const key = "audio.rtp_ports"
	lo, hi, ok := parsePortRange(s)
	switch {
	case !ok:
		d.add(key, "'%s' is not a port range; write LO-HI, e.g. 16384-16583", s)
	case lo < 1024 || hi > 65535:
		d.add(key, "%d-%d is outside 1024-65535; pick ports in that range, e.g. 16384-16583", lo, hi)
	case lo >= hi:
		d.add(key, "%d-%d is empty or reversed; write LO-HI with LO < HI, e.g. 16384-16583", lo, hi)
	case lo%2 != 0:
		d.add(key, "%d-%d starts at an odd port; RTP uses even ports, so start at %d", lo, hi, lo+1)
	}
}

// checkSimInput validates and normalises the simulated microphone source
// written at key.
func (d *decoder) checkSimInput(key string, s *SimAudio, dir string) {
	in := strings.TrimSpace(s.Input)
	lower := strings.ToLower(in)
	switch {
	case in == "":
		d.add(key, "is empty; use silence, tone:HZ (e.g. tone:1000) or the path of a WAV file")
	case lower == "silence":
		s.Input = "silence"
	case strings.HasPrefix(lower, "tone:"):
		hz, err := strconv.Atoi(strings.TrimSpace(in[len("tone:"):]))
		if err != nil || hz < 1 || hz > 20000 {
			d.add(key, "'%s' is not a valid tone; use tone:HZ with HZ a whole number 1-20000, e.g. tone:1000", in)
			return
		}
		s.Input = "tone:" + strconv.Itoa(hz)
	default:
		path := resolvePath(dir, in)
		switch fi, err := os.Stat(path); {
		case err != nil:
			d.add(key, "'%s' is not silence or tone:HZ, and file %s cannot be read (%v); give an existing WAV file, silence or tone:1000", in, path, unwrapPath(err))
		case fi.IsDir():
			d.add(key, "%s is a directory; give a WAV file, silence or tone:1000", path)
		default:
			s.Input = path
		}
	}
}

func (d *decoder) checkPositive(key string, v int64, example string) {
	if v <= 0 {
		d.add(key, "must be longer than zero; write e.g. %s", example)
	}
}

func (d *decoder) checkAPI(a *API) {
	const key = "api.listen"
	if a.Listen == "" {
		d.required(key, "the control API's address, e.g. 127.0.0.1:8080")
		return
	}
	host, ok := d.checkHostPort(key, a.Listen, portRule{min: 1, anyHost: true, example: "8080"})
	if ok && !isLoopback(host) && a.Token == "" && a.TokenFile == "" {
		d.add(key, "%s is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1", a.Listen)
	}
	d.checkToken(a)
}

// baudRates are the line speeds a Linux serial port can be set to.
var baudRates = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000,
	921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000}

func (d *decoder) checkConsole(c *Console) {
	if !slices.Contains(baudRates, c.Baud) {
		d.add("console.baud", "%d is not a serial line speed; use one of %s (115200 is usual)", c.Baud, joinInts(baudRates))
	}
	if c.Serial != "" && !filepath.IsAbs(c.Serial) {
		d.add("console.serial", "'%s' is not a device path; give the serial port's path, e.g. /dev/ttyAMA0 or /dev/ttyUSB0, or remove it to turn the console off", c.Serial)
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// minTokenLen is the shortest API token accepted, in characters.
const minTokenLen = 16

// checkToken checks the API token, read from api.token_file by now. The
// token is a secret: the messages never quote it.
func (d *decoder) checkToken(a *API) {
	if a.Token == "" || d.reported("api.token_file") {
		return // none, or readSecrets already said what is wrong
	}
	key, where := "api.token", "the token"
	if a.TokenFile != "" {
		key, where = "api.token_file", "the token in "+a.TokenFile
	}
	if i := strings.IndexFunc(a.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		d.add(key, "%s has whitespace or a control character (character %d), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16", where, utf8.RuneCountInString(a.Token[:i])+1)
		return
	}
	if n := utf8.RuneCountInString(a.Token); n < minTokenLen {
		d.add(key, "%s is %d characters long, too easy to guess; make it at least %d, e.g. the output of: openssl rand -hex 16", where, n, minTokenLen)
	}
}

// reported reports whether a problem was already recorded for key.
func (d *decoder) reported(key string) bool {
	for _, p := range d.problems {
		if p.Key == key {
			return true
		}
	}
	return false
}

// checkProvisioning checks where the configuration is fetched from
// (config/provision) and normalises the MAC.
func (d *decoder) checkProvisioning(p *Provisioning, dir string) {
	if p.URL != "" {
		if _, err := ProvisioningBase(p.URL); err != nil {
			d.add("provisioning.url", "%v", err)
		}
	}
	if p.CAFile != "" {
		p.CAFile = resolvePath(dir, p.CAFile)
		if _, err := os.Stat(p.CAFile); err != nil {
			d.add("provisioning.ca_file", "cannot read %s (%v); give the PEM file of the CA that signed the provisioning server's certificate, or remove it to use the system's", p.CAFile, unwrapPath(err))
		}
	}
	if p.DHCPFile != "" {
		p.DHCPFile = resolvePath(dir, p.DHCPFile)
	}
	if strings.TrimSpace(p.Store) == "" {
		d.add("provisioning.store", "is empty; give the file the provisioned configuration is kept in, e.g. /var/lib/deskphone/provisioned.yaml")
	} else {
		p.Store = resolvePath(dir, p.Store)
	}
	if p.MAC != "" {
		mac, ok := normalMAC(p.MAC)
		if !ok {
			d.add("provisioning.mac", "'%s' is not a MAC address; write 12 hex digits, e.g. 0c1a2b3c4d5e or 0c:1a:2b:3c:4d:5e, or remove it to use the network interface's", p.MAC)
		}
		p.MAC = mac
	}
	for i, k := range p.KeepLocal {
		line := d.line(fmt.Sprintf("provisioning.keep_local[%d]", i))
		switch k = strings.TrimSpace(k); {
		case k == "provisioning" || strings.HasPrefix(k, "provisioning."):
			d.addAt("provisioning.keep_local", line, "item %d: %s is always kept local; remove it", i+1, k)
		case !KnownKey(k):
			d.addAt("provisioning.keep_local", line, "item %d: '%s' is not a configuration key; list dotted keys of config/examples/phone.yaml, e.g. api.token or account", i+1, k)
		}
		p.KeepLocal[i] = k
	}
	if p.Timeout <= 0 || p.Timeout > 5*time.Minute {
		d.add("provisioning.timeout", "%v is out of range; use a duration up to 5m, e.g. 10s", p.Timeout)
	}
}

// ProvisioningBase checks the address of a provisioning server and returns
// it as a base URL ending in "/". A bare host[:port][/path] (as DHCP option
// 66 often carries) means https://. Plain http:// is refused unless the host
// is loopback: the files carry passwords.
func ProvisioningBase(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("'%s' is not a provisioning URL; write https://host[:port]/path/, e.g. https://prov.example.com/deskphone/", s)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", fmt.Errorf("%s would fetch the configuration, passwords included, in clear over the network; use https://", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%s: %s:// is not supported; serve the files over https://", s, u.Scheme)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

// normalMAC returns mac as 12 lower-case hex digits, without separators.
func normalMAC(mac string) (string, bool) {
	m := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(mac)))
	if len(m) != 12 {
		return mac, false
	}
	for _, r := range m {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return mac, false
		}
	}
	return m, true
}

// checkServer checks a registrar/outbound proxy: host:port, or a host name
// alone (RFC 3263 finds the port; an IP address got 5060 in applyDefaults).
func (d *decoder) checkServer(key, s string) {
	if hasPort(s) {
		d.checkHostPort(key, s, portRule{min: 1, example: "5060"})
		return
	}
	if !validHost(s) {
		d.add(key, "'%s' is not a host name or IP address; write host:port (pbx.example.com:5060) or a name whose SRV records the DNS has (pbx.example.com)", s)
	}
}

// checkFailover checks the failover registrars and their DNS and timing.
func (d *decoder) checkFailover(a *Account) {
	seen := map[string]bool{strings.ToLower(a.Registrar): true}
	for i, f := range a.Failover {
		key := fmt.Sprintf("account.failover[%d]", i)
		switch {
		case f == "":
			d.addAt("account.failover", d.line(key), "item %d is empty; give host:port or a host name with SRV records, e.g. pbx2.example.com:5060", i+1)
			continue
		case seen[strings.ToLower(f)]:
			d.addAt("account.failover", d.line(key), "item %d: '%s' is listed twice (account.registrar counts as the first); remove the repeat", i+1, f)
			continue
		}
		seen[strings.ToLower(f)] = true
		d.checkServer(key, f)
	}
	if a.DNS != "" {
		d.checkHostPort("account.dns", a.DNS, portRule{min: 1, example: "53"})
	}
	if len(a.Failover) == 0 {
		return
	}
	d.checkPositive("account.failover_timeout", int64(a.FailoverTimeout), "5s")
	if a.FailbackProbe < 0 {
		d.add("account.failback_probe", "is negative; use a duration such as 5s, or 0 to stay on a failover registrar")
	}
	if a.FailbackAfter < 1 || a.FailbackAfter > 100 {
		d.add("account.failback_after", "%d is out of range; use 1-100 answers in a row (3 keeps a flapping registrar from pulling the phone back)", a.FailbackAfter)
	}
}

// checkTrustedPeers checks account.trusted_peers: host, host:port or CIDR.
func (d *decoder) checkTrustedPeers(peers []string) {
	for i, p := range peers {
		key := fmt.Sprintf("account.trusted_peers[%d]", i)
		line := d.line(key)
		p = strings.TrimSpace(p)
		if p == "" {
			d.addAt("account.trusted_peers", line, "item %d is empty; give host, host:port or a CIDR such as 10.0.0.0/24", i+1)
			continue
		}
		if strings.Contains(p, "/") {
			if _, err := netip.ParsePrefix(p); err != nil {
				d.addAt("account.trusted_peers", line, "item %d: '%s' is not a valid CIDR; write e.g. 10.0.0.0/24", i+1, p)
			}
			continue
		}
		if _, _, err := net.SplitHostPort(p); err == nil {
			d.checkHostPort(key, p, portRule{min: 1, example: "5060"})
			continue
		}
		if h := strings.TrimSuffix(strings.TrimPrefix(p, "["), "]"); !validHost(h) {
			d.addAt("account.trusted_peers", line, "item %d: '%s' is not a host name, IP address or CIDR; write e.g. pbx.example.com, 10.0.0.5:5060 or 10.0.0.0/24", i+1, p)
		}
	}
}

// checkTLS checks the certificate settings of transport tls: a CA file
// that holds certificates, and a server name that is a host name.
func (d *decoder) checkTLS(a *Account, dir string) {
	if a.CAFile != "" {
		if dir != "" && !filepath.IsAbs(a.CAFile) {
			a.CAFile = filepath.Join(dir, a.CAFile)
		}
		pem, err := os.ReadFile(a.CAFile)
		switch {
		case err != nil:
			d.add("account.ca_file", "cannot read '%s' (%v); give the PEM file of the CA that signed the registrar's certificate", a.CAFile, err)
		case !x509.NewCertPool().AppendCertsFromPEM(pem):
			d.add("account.ca_file", "'%s' holds no PEM certificate; give the CA certificate (-----BEGIN CERTIFICATE-----)", a.CAFile)
		}
	}
	if a.TLSServerName != "" && !validHost(a.TLSServerName) {
		d.add("account.tls_server_name", "'%s' is not a host name; give the name in the registrar's certificate, e.g. sip.example.com", a.TLSServerName)
	}
	if (a.CAFile != "" || a.TLSServerName != "") && a.Transport != "tls" {
		d.add("account.transport", "is %s, but account.ca_file or tls_server_name is set: use transport: tls, or remove them", a.Transport)
	}
}
