package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is a valid config; the line numbers in the tests below refer to it.
const base = `account:
  registrar: pbx.example.com:5060
  user: "1001"
  password: secret
  transport: udp
  expires: 300
  listen: 0.0.0.0:5070
agent:
  sdk_app_id: 1400000001
  user_id: agent1001@example.com
board: sim
audio:
  codecs: [PCMU, PCMA]
  dtmf_payload_type: 101
  rtp_ports: 16384-16583
sim:
  input: tone:1000
calls:
  ring_timeout: 30s
  answer_timeout: 60s
api:
  listen: 127.0.0.1:8080
`

// edit returns base with each old fragment replaced by its new one.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in base config", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// problems parses src and returns the error's lines, failing if it parsed.
func problems(t *testing.T, src string) []string {
	t.Helper()
	c, err := Parse([]byte(src), "t.yaml")
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want an error", c)
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(cerr.Problems) {
		t.Fatalf("Error() has %d lines for %d problems:\n%v", len(lines), len(cerr.Problems), err)
	}
	return lines
}

func TestLoadExample(t *testing.T) {
	c, err := Load("examples/phone.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Account: Account{
			Registrar: "127.0.0.1:5060", Domain: "127.0.0.1", User: "1001", AuthUser: "1001",
			Password: "secret", DisplayName: "Agent 1001", Transport: "udp", Expires: 300,
			Listen: "127.0.0.1:5070", Keepalive: 25 * time.Second, AddressCheck: 5 * time.Second, RetryMin: time.Second, RetryMax: time.Minute, Probe: time.Second, Provision: "none", Cache: "/var/lib/deskphone/account.json", TrustedPeers: []string{},
			Failover: []string{}, FailoverTimeout: 5 * time.Second, FailbackProbe: 5 * time.Second, FailbackAfter: 3,
		},
		Agent: Agent{SdkAppId: 1400000001, UserId: "agent1001@example.com", InitialStatus: "free",
			WrapUp: 15 * time.Second, AfterWrapUp: "previous", RefuseUnavailable: true,
			RestReasons: []string{"Meal", "Meeting", "Training"}, Sync: "none"},
		Board: "sim",
		Sim:   SimAudio{Input: "tone:1000", Output: "run/heard.wav"},
		Audio: Audio{
			Codecs: []string{"PCMU", "PCMA"}, DTMFPayloadType: 101, RTPPorts: "16384-16583", DTMFMode: "rfc4733", EchoCancel: "auto", SRTP: "off",
		},
		Calls: Calls{RingTimeout: 30 * time.Second, AnswerTimeout: 60 * time.Second, MaxLines: 2,
			Keepalive: 30 * time.Second, SessionIDHeader: "X-Session-Id",
			FirstMediaTimeout: 5 * time.Second, MediaTimeout: 30 * time.Second},
		API:     API{Listen: "127.0.0.1:8080"},
		Console: Console{Baud: 115200},
		Provisioning: Provisioning{DHCPFile: "/run/deskphone/option66", Store: "/var/lib/deskphone/provisioned.yaml",
			KeepLocal: []string{"api.token"}, Timeout: 10 * time.Second},
		File: "examples/phone.yaml",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load(example):\n got %+v\nwant %+v", c, want)
	}
}

// TestDefaults checks that a config holding only the required keys gets
// exactly Default() plus the derived defaults.
func TestDefaults(t *testing.T) {
	c, err := Parse([]byte(`
account: {registrar: pbx, user: "1001", password: pw}
agent: {sdk_app_id: 1400000001, user_id: a@example.com}
`), "min.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Account.Registrar = "pbx" // a name alone: RFC 3263 finds the port
	want.Account.Domain = "pbx"
	want.Account.User = "1001"
	want.Account.AuthUser = "1001"
	want.Account.Password = "pw"
	want.Agent.SdkAppId, want.Agent.UserId = 1400000001, "a@example.com"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse(minimal):\n got %+v\nwant %+v", c, want)
	}
	if lo, hi := c.Audio.RTPPortRange(); lo != 16384 || hi != 16583 {
		t.Errorf("RTPPortRange() = %d, %d; want 16384, 16583", lo, hi)
	}
	if want.Sim.Output != "" || want.API.Listen != "127.0.0.1:8080" || want.Account.Listen != "0.0.0.0:5060" {
		t.Errorf("Default() = %+v", want)
	}
}

// TestNormalised checks accepted values and how they are normalised.
func TestNormalised(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
		got   func(*Config) any
		want  any
	}{
		{"registrar name stays for SRV", []string{"pbx.example.com:5060", "pbx.example.com"},
			func(c *Config) any { return c.Account.Registrar }, "pbx.example.com"},
		{"registrar name's domain", []string{"pbx.example.com:5060", "pbx.example.com"},
			func(c *Config) any { return c.Account.Domain }, "pbx.example.com"},
		{"registrar IP port defaults", []string{"pbx.example.com:5060", "10.0.0.1"},
			func(c *Config) any { return c.Account.Registrar }, "10.0.0.1:5060"},
		{"failover", []string{"  user:", "  failover: [10.0.0.2, pbx2.example.com, \"pbx3.example.com:5080\"]\n  dns: 10.0.0.53:53\n  user:"},
			func(c *Config) any { return append(c.Account.Failover, c.Account.DNS) },
			[]string{"10.0.0.2:5060", "pbx2.example.com", "pbx3.example.com:5080", "10.0.0.53:53"}},
		{"bare IPv6 registrar", []string{"pbx.example.com:5060", `"::1"`},
			func(c *Config) any { return c.Account.Registrar }, "[::1]:5060"},
		{"bracketed IPv6 registrar", []string{"pbx.example.com:5060", `"[::1]"`},
			func(c *Config) any { return c.Account.Registrar }, "[::1]:5060"},
		{"domain from registrar", nil,
			func(c *Config) any { return c.Account.Domain }, "pbx.example.com"},
		{"explicit domain", []string{"  user:", "  domain: example.com\n  user:"},
			func(c *Config) any { return c.Account.Domain }, "example.com"},
		{"auth_user from user", nil,
			func(c *Config) any { return c.Account.AuthUser }, "1001"},
		{"unquoted numeric user keeps its text", []string{`"1001"`, "01001"},
			func(c *Config) any { return c.Account.User }, "01001"},
		{"transport case", []string{"transport: udp", "transport: TCP"},
			func(c *Config) any { return c.Account.Transport }, "tcp"},
		{"codec case", []string{"[PCMU, PCMA]", "[pcma, Pcmu]"},
			func(c *Config) any { return c.Audio.Codecs }, []string{"PCMA", "PCMU"}},
		{"opus", []string{"[PCMU, PCMA]", "[opus, PCMU, PCMA]"},
			func(c *Config) any { return c.Audio.Codecs }, []string{"OPUS", "PCMU", "PCMA"}},
		{"listen port 0", []string{"0.0.0.0:5070", "0.0.0.0:0"},
			func(c *Config) any { return c.Account.Listen }, "0.0.0.0:0"},
		{"silence", []string{"tone:1000", "Silence"},
			func(c *Config) any { return c.Sim.Input }, "silence"},
		{"tone", []string{"tone:1000", "TONE:440"},
			func(c *Config) any { return c.Sim.Input }, "tone:440"},
		{"null value keeps default", []string{"expires: 300", "expires:"},
			func(c *Config) any { return c.Account.Expires }, 300},
		{"duration", []string{"ring_timeout: 30s", "ring_timeout: 1m30s"},
			func(c *Config) any { return c.Calls.RingTimeout }, 90 * time.Second},
		{"api on localhost", []string{"127.0.0.1:8080", "localhost:8080"},
			func(c *Config) any { return c.API.Listen }, "localhost:8080"},
		{"api on ::1", []string{"127.0.0.1:8080", `"[::1]:8080"`},
			func(c *Config) any { return c.API.Listen }, "[::1]:8080"},
		{"api on network with token", []string{"127.0.0.1:8080", "0.0.0.0:8080\n  token: t0k3n-0f-16-chars"},
			func(c *Config) any { return c.API.Token }, "t0k3n-0f-16-chars"},
		{"alias", []string{"board: sim", "board: &b sim\nx_unused: *b"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := edit(t, tt.edits...)
			c, err := Parse([]byte(src), "t.yaml")
			if tt.got == nil { // expected to fail: the alias case checks unknown keys still apply
				if err == nil || !strings.Contains(err.Error(), "t.yaml:12: x_unused: unknown key") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestProblems checks each validation message, its key and its line. Every
// case must produce exactly the listed problems.
func TestProblems(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
		want  []string
	}{
		// account
		{"registrar port", []string{"pbx.example.com:5060", "pbx:99999"},
			[]string{"t.yaml:2: account.registrar: 'pbx:99999' is not a valid port (use 1-65535, e.g. pbx:5060)"}},
		{"registrar port 0", []string{"pbx.example.com:5060", "pbx:0"},
			[]string{"t.yaml:2: account.registrar: 'pbx:0' is not a valid port (use 1-65535, e.g. pbx:5060)"}},
		{"registrar SIP URI", []string{"pbx.example.com:5060", "sip:pbx.example.com"},
			[]string{"t.yaml:2: account.registrar: 'sip:pbx.example.com' is a SIP URI; write only host:port, e.g. pbx.example.com:5060"}},
		{"registrar without host", []string{"pbx.example.com:5060", `":5060"`},
			[]string{"t.yaml:2: account.registrar: ':5060' has no host; write e.g. pbx.example.com:5060"}},
		{"registrar bad host", []string{"pbx.example.com:5060", "pbx_ex ample:5060"},
			[]string{"t.yaml:2: account.registrar: 'pbx_ex ample' is not a valid host name or IP address; fix the host part of 'pbx_ex ample:5060'"}},
		{"registrar missing", []string{"  registrar: pbx.example.com:5060\n", ""},
			[]string{"t.yaml:1: account.registrar: missing; add registrar: under account: (the SIP registrar's host:port, e.g. pbx.example.com:5060)"}},
		{"registrar empty", []string{"pbx.example.com:5060", `""`},
			[]string{`t.yaml:2: account.registrar: is empty; set the SIP registrar's host:port, e.g. pbx.example.com:5060`}},
		{"registrar list", []string{"pbx.example.com:5060", "[a, b]"},
			[]string{"t.yaml:2: account.registrar: expected a string, got a list"}},
		{"registrar bad name", []string{"pbx.example.com:5060", "pbx_ex..ample"},
			[]string{"t.yaml:2: account.registrar: 'pbx_ex..ample' is not a host name or IP address; write host:port (pbx.example.com:5060) or a name whose SRV records the DNS has (pbx.example.com)"}},
		{"failover empty item", []string{"  user:", "  failover: [pbx2.example.com, \"\"]\n  user:"},
			[]string{"t.yaml:3: account.failover: item 2 is empty; give host:port or a host name with SRV records, e.g. pbx2.example.com:5060"}},
		{"failover repeats registrar", []string{"  user:", "  failover: [PBX.example.com:5060]\n  user:"},
			[]string{"t.yaml:3: account.failover: item 1: 'PBX.example.com:5060' is listed twice (account.registrar counts as the first); remove the repeat"}},
		{"failover bad port", []string{"  user:", "  failover: [\"pbx2:0\"]\n  user:"},
			[]string{"t.yaml:3: account.failover[0]: 'pbx2:0' is not a valid port (use 1-65535, e.g. pbx2:5060)"}},
		{"failover not a list", []string{"  user:", "  failover: pbx2.example.com\n  user:"},
			[]string{"t.yaml:3: account.failover: expected a list like [A, B], got 'pbx2.example.com'"}},
		{"dns without port", []string{"  user:", "  dns: 10.0.0.53\n  user:"},
			[]string{"t.yaml:3: account.dns: '10.0.0.53' is not host:port; write e.g. 10.0.0.53:53"}},
		{"failback_after 0", []string{"  user:", "  failover: [pbx2.example.com]\n  failback_after: 0\n  user:"},
			[]string{"t.yaml:4: account.failback_after: 0 is out of range; use 1-100 answers in a row (3 keeps a flapping registrar from pulling the phone back)"}},
		{"failback_probe negative", []string{"  user:", "  failover: [pbx2.example.com]\n  failback_probe: -1s\n  user:"},
			[]string{"t.yaml:4: account.failback_probe: is negative; use a duration such as 5s, or 0 to stay on a failover registrar"}},
		{"failover_timeout 0", []string{"  user:", "  failover: [pbx2.example.com]\n  failover_timeout: 0s\n  user:"},
			[]string{"t.yaml:4: account.failover_timeout: must be longer than zero; write e.g. 5s"}},
		{"domain", []string{"  user:", "  domain: ex ample.com\n  user:"},
			[]string{"t.yaml:3: account.domain: 'ex ample.com' is not a valid domain; use a DNS name or IP address, e.g. example.com, or remove it to use the registrar's host"}},
		{"user with @", []string{`"1001"`, "1001@pbx"},
			[]string{`t.yaml:3: account.user: '1001@pbx' contains '@'; give only the user part (e.g. "1001") and put the host in account.domain`}},
		{"user with space", []string{`"1001"`, `"10 01"`},
			[]string{`t.yaml:3: account.user: '10 01' contains spaces; use the extension exactly as the PBX knows it, e.g. "1001"`}},
		{"user missing", []string{"  user: \"1001\"\n", ""},
			[]string{`t.yaml:1: account.user: missing; add user: under account: (the extension, e.g. "1001")`}},
		{"password missing", []string{"  password: secret\n", ""},
			[]string{"t.yaml:1: account.password: missing; add password: (or password_file: PATH) under account:"}},
		{"password empty", []string{"password: secret", `password: ""`},
			[]string{"t.yaml:4: account.password: is empty; set the SIP password here or use account.password_file"}},
		{"password twice", []string{"password: secret", "password: secret\n  password_file: /x"},
			[]string{"t.yaml:5: account.password_file: both account.password and account.password_file are set; keep only one"}},
		{"transport", []string{"transport: udp", "transport: sctp"},
			[]string{"t.yaml:5: account.transport: 'sctp' is not supported; use udp, tcp or tls"}},
		{"ca file missing", []string{"transport: udp", "transport: tls\n  ca_file: /no/such/ca.pem"},
			[]string{"t.yaml:6: account.ca_file: cannot read '/no/such/ca.pem' (open /no/such/ca.pem: no such file or directory); give the PEM file of the CA that signed the registrar's certificate"}},
		{"ca file without tls", []string{"transport: udp", "transport: udp\n  tls_server_name: sip.example.com"},
			[]string{"t.yaml:5: account.transport: is udp, but account.ca_file or tls_server_name is set: use transport: tls, or remove them"}},
		{"srtp mandatory over udp", []string{"dtmf_payload_type: 101", "dtmf_payload_type: 101\n  srtp: mandatory"},
			[]string{"t.yaml:15: audio.srtp: mandatory needs account.transport: tls: over udp the SRTP keys would cross the network in clear"}},
		{"expires 0", []string{"expires: 300", "expires: 0"},
			[]string{"t.yaml:6: account.expires: 0 is out of range; use 1-86400 seconds (300 is usual)"}},
		{"expires too long", []string{"expires: 300", "expires: 86401"},
			[]string{"t.yaml:6: account.expires: 86401 is out of range; use 1-86400 seconds (300 is usual)"}},
		{"expires not a number", []string{"expires: 300", "expires: abc"},
			[]string{"t.yaml:6: account.expires: 'abc' is not a whole number; write digits only, e.g. expires: 300"}},
		{"expires fraction", []string{"expires: 300", "expires: 1.5"},
			[]string{"t.yaml:6: account.expires: '1.5' is not a whole number; write digits only, e.g. expires: 300"}},
		{"expires mapping", []string{"expires: 300", "expires: {a: 1}"},
			[]string{"t.yaml:6: account.expires: expected a whole number, got a mapping"}},
		{"listen port", []string{"0.0.0.0:5070", "0.0.0.0:70000"},
			[]string{"t.yaml:7: account.listen: '0.0.0.0:70000' is not a valid port (use 0-65535; 0 picks a free one, e.g. 0.0.0.0:5060)"}},
		{"listen without port", []string{"0.0.0.0:5070", "0.0.0.0"},
			[]string{"t.yaml:7: account.listen: '0.0.0.0' is not host:port; write e.g. 0.0.0.0:5060"}},
		// agent
		{"sdk_app_id zero", []string{"sdk_app_id: 1400000001", "sdk_app_id: 0"},
			[]string{"t.yaml:9: agent.sdk_app_id: 0 is not a valid SdkAppId; use the positive id of your contact-center application, e.g. 1400000001"}},
		{"sdk_app_id text", []string{"sdk_app_id: 1400000001", "sdk_app_id: abc"},
			[]string{"t.yaml:9: agent.sdk_app_id: 'abc' is not a whole number; write digits only"}},
		{"sdk_app_id missing", []string{"  sdk_app_id: 1400000001\n", ""},
			[]string{"t.yaml:8: agent.sdk_app_id: missing; add sdk_app_id: under agent: (the contact center's SdkAppId, e.g. 1400000001)"}},
		{"user_id missing", []string{"  user_id: agent1001@example.com\n", ""},
			[]string{"t.yaml:8: agent.user_id: missing; add user_id: under agent: (the agent's UserId, e.g. agent1001@example.com)"}},
		{"agent section missing", []string{"agent:\n  sdk_app_id: 1400000001\n  user_id: agent1001@example.com\n", ""},
			[]string{
				"t.yaml: agent.sdk_app_id: missing; add sdk_app_id: under agent: (the contact center's SdkAppId, e.g. 1400000001)",
				"t.yaml: agent.user_id: missing; add user_id: under agent: (the agent's UserId, e.g. agent1001@example.com)",
			}},
		{"agent not a mapping", []string{"agent:\n  sdk_app_id: 1400000001\n  user_id: agent1001@example.com\n", "agent: agent1001\n"},
			[]string{"t.yaml:8: agent: expected a mapping of keys, got 'agent1001'; write one key: value per line"}},
		// board
		{"board empty", []string{"board: sim", `board: ""`},
			[]string{"t.yaml:11: board: is empty; name a board profile under boards/, e.g. board: sim"}},
		// audio
		{"unknown codec", []string{"[PCMU, PCMA]", "[PCMU, G729]"},
			[]string{"t.yaml:13: audio.codecs: 'G729' is not a supported codec; use PCMU, PCMA or OPUS"}},
		{"duplicate codec", []string{"[PCMU, PCMA]", "[PCMU, pcmu]"},
			[]string{"t.yaml:13: audio.codecs: PCMU is listed twice (items 1 and 2); list each codec once"}},
		{"codec lines in a block list", []string{"[PCMU, PCMA]", "\n    - PCMU\n    - G722\n    - PCMU"},
			[]string{
				"t.yaml:15: audio.codecs: 'G722' is not a supported codec; use PCMU, PCMA or OPUS",
				"t.yaml:16: audio.codecs: PCMU is listed twice (items 1 and 3); list each codec once",
			}},
		{"no codecs", []string{"[PCMU, PCMA]", "[]"},
			[]string{"t.yaml:13: audio.codecs: no codecs listed; list at least one, e.g. [PCMU, PCMA]"}},
		{"codecs as a string", []string{"[PCMU, PCMA]", "PCMU"},
			[]string{"t.yaml:13: audio.codecs: expected a list like [A, B], got 'PCMU'"}},
		{"codec item a list", []string{"[PCMU, PCMA]", "[PCMU, [PCMA]]"},
			[]string{"t.yaml:13: audio.codecs: item 2: expected a single name, got a list"}},
		{"dtmf low", []string{"dtmf_payload_type: 101", "dtmf_payload_type: 95"},
			[]string{"t.yaml:14: audio.dtmf_payload_type: 95 is outside the dynamic payload types 96-127; use 101 unless your PBX says otherwise"}},
		{"dtmf high", []string{"dtmf_payload_type: 101", "dtmf_payload_type: 128"},
			[]string{"t.yaml:14: audio.dtmf_payload_type: 128 is outside the dynamic payload types 96-127; use 101 unless your PBX says otherwise"}},
		{"rtp odd", []string{"16384-16583", "16385-16583"},
			[]string{"t.yaml:15: audio.rtp_ports: 16385-16583 starts at an odd port; RTP uses even ports, so start at 16386"}},
		{"rtp reversed", []string{"16384-16583", "16384-16384"},
			[]string{"t.yaml:15: audio.rtp_ports: 16384-16384 is empty or reversed; write LO-HI with LO < HI, e.g. 16384-16583"}},
		{"rtp low", []string{"16384-16583", "1000-2000"},
			[]string{"t.yaml:15: audio.rtp_ports: 1000-2000 is outside 1024-65535; pick ports in that range, e.g. 16384-16583"}},
		{"rtp high", []string{"16384-16583", "60000-70000"},
			[]string{"t.yaml:15: audio.rtp_ports: 60000-70000 is outside 1024-65535; pick ports in that range, e.g. 16384-16583"}},
		{"rtp malformed", []string{"16384-16583", "16384"},
			[]string{"t.yaml:15: audio.rtp_ports: '16384' is not a port range; write LO-HI, e.g. 16384-16583"}},
		{"echo cancel", []string{"16384-16583", "16384-16583\n  echo_cancel: always"},
			[]string{"t.yaml:16: audio.echo_cancel: 'always' is not supported; use auto (the speaker route), on or off"}},
		{"tone zero", []string{"tone:1000", "tone:0"},
			[]string{"t.yaml:17: sim.input: 'tone:0' is not a valid tone; use tone:HZ with HZ a whole number 1-20000, e.g. tone:1000"}},
		{"tone high", []string{"tone:1000", "tone:20001"},
			[]string{"t.yaml:17: sim.input: 'tone:20001' is not a valid tone; use tone:HZ with HZ a whole number 1-20000, e.g. tone:1000"}},
		{"input empty", []string{"tone:1000", `""`},
			[]string{"t.yaml:17: sim.input: is empty; use silence, tone:HZ (e.g. tone:1000) or the path of a WAV file"}},
		{"input missing file", []string{"tone:1000", "no/such.wav"},
			[]string{"t.yaml:17: sim.input: 'no/such.wav' is not silence or tone:HZ, and file no/such.wav cannot be read (no such file or directory); give an existing WAV file, silence or tone:1000"}},
		// calls
		{"duration zero", []string{"ring_timeout: 30s", "ring_timeout: 0s"},
			[]string{"t.yaml:19: calls.ring_timeout: must be longer than zero; write e.g. 30s"}},
		{"duration negative", []string{"answer_timeout: 60s", "answer_timeout: -1s"},
			[]string{"t.yaml:20: calls.answer_timeout: must be longer than zero; write e.g. 60s"}},
		{"duration without unit", []string{"ring_timeout: 30s", "ring_timeout: 30"},
			[]string{"t.yaml:19: calls.ring_timeout: '30' has no unit; write e.g. 30s"}},
		{"duration text", []string{"ring_timeout: 30s", "ring_timeout: soon"},
			[]string{"t.yaml:19: calls.ring_timeout: 'soon' is not a duration; write e.g. 30s, 2m or 1m30s"}},
		// console
		{"console baud", []string{"127.0.0.1:8080\n", "127.0.0.1:8080\nconsole:\n  serial: /dev/ttyAMA0\n  baud: 115201\n"},
			[]string{"t.yaml:25: console.baud: 115201 is not a serial line speed; use one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000 (115200 is usual)"}},
		{"console device", []string{"127.0.0.1:8080\n", "127.0.0.1:8080\nconsole:\n  serial: ttyAMA0\n"},
			[]string{"t.yaml:24: console.serial: 'ttyAMA0' is not a device path; give the serial port's path, e.g. /dev/ttyAMA0 or /dev/ttyUSB0, or remove it to turn the console off"}},
		// api
		{"api on the network", []string{"127.0.0.1:8080", "0.0.0.0:8080"},
			[]string{"t.yaml:22: api.listen: 0.0.0.0:8080 is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1"}},
		{"api on every interface", []string{"127.0.0.1:8080", `":8080"`},
			[]string{"t.yaml:22: api.listen: :8080 is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1"}},
		{"api empty token on the network", []string{"127.0.0.1:8080", "192.168.1.10:8080\n  token: \"\""},
			[]string{"t.yaml:22: api.listen: 192.168.1.10:8080 is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1"}},
		{"api port", []string{"127.0.0.1:8080", "127.0.0.1:0"},
			[]string{"t.yaml:22: api.listen: '127.0.0.1:0' is not a valid port (use 1-65535, e.g. 127.0.0.1:8080)"}},
		{"api token twice", []string{"127.0.0.1:8080", "127.0.0.1:8080\n  token: a\n  token_file: b"},
			[]string{"t.yaml:24: api.token_file: both api.token and api.token_file are set; keep only one"}},
		{"api token with a space", []string{"127.0.0.1:8080", "0.0.0.0:8080\n  token: \"correct horse battery\""},
			[]string{"t.yaml:23: api.token: the token has whitespace or a control character (character 8), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16"}},
		{"api token with a tab", []string{"127.0.0.1:8080", "127.0.0.1:8080\n  token: \"0123456789abcdef\\t\""},
			[]string{"t.yaml:23: api.token: the token has whitespace or a control character (character 17), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16"}},
		{"api token with a control character", []string{"127.0.0.1:8080", "127.0.0.1:8080\n  token: \"0123456789\\x00abcdef\""},
			[]string{"t.yaml:23: api.token: the token has whitespace or a control character (character 11), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16"}},
		{"api token short", []string{"127.0.0.1:8080", "127.0.0.1:8080\n  token: s3cret"},
			[]string{"t.yaml:23: api.token: the token is 6 characters long, too easy to guess; make it at least 16, e.g. the output of: openssl rand -hex 16"}},
		{"api token 15 characters", []string{"127.0.0.1:8080", "0.0.0.0:8080\n  token: 0123456789abcde"},
			[]string{"t.yaml:23: api.token: the token is 15 characters long, too easy to guess; make it at least 16, e.g. the output of: openssl rand -hex 16"}},
		// agent status and relay
		{"agent statuses", []string{"  user_id: agent1001@example.com\n", "  user_id: agent1001@example.com\n  initial_status: busy\n  after_wrap_up: never\n  wrap_up: -1s\n  rest_reasons: [Meal, Meal]\n  sync: xmpp\n"},
			[]string{
				"t.yaml:11: agent.initial_status: 'busy' is not a status an agent starts in; use free, notReady or rest",
				"t.yaml:12: agent.after_wrap_up: 'never' is not supported; use previous (the status before the call) or free",
				"t.yaml:13: agent.wrap_up: -1s is out of range; use a duration such as 30s, or 0s for no after-call work",
				"t.yaml:14: agent.rest_reasons: Meal is listed twice; list each reason once",
				"t.yaml:15: agent.sync: 'xmpp' is not supported; use none, relay (the integrator's backend at relay.url) or sip (SIP presence)",
			}},
		{"relay sync without a relay", []string{"  user_id: agent1001@example.com\n", "  user_id: agent1001@example.com\n  sync: relay\n"},
			[]string{"t.yaml: relay.url: missing; add url: under relay: (the relay's address for agent.sync: relay, e.g. https://relay.example.com:8443)"}},
		{"relay over clear http", []string{"board: sim", "board: sim\nrelay: {url: \"http://relay.example.com\", token: t}"},
			[]string{"t.yaml:12: relay.url: http://relay.example.com would send the relay token in clear over the network; use https://"}},
		{"provisioned account needs no password", []string{"  password: secret\n", "  provision: relay\n"},
			[]string{"t.yaml: relay.url: missing; add url: under relay: (the relay's address for account.provision: relay, e.g. https://relay.example.com:8443)"}},
		{"trusted peers", []string{"expires: 300", "expires: 300\n  trusted_peers: [10.0.0.0/33, \"pbx:0\", \"\", \"bad host\"]"},
			[]string{
				"t.yaml:7: account.trusted_peers: item 1: '10.0.0.0/33' is not a valid CIDR; write e.g. 10.0.0.0/24",
				"t.yaml:7: account.trusted_peers[1]: 'pbx:0' is not a valid port (use 1-65535, e.g. pbx:5060)",
				"t.yaml:7: account.trusted_peers: item 3 is empty; give host, host:port or a CIDR such as 10.0.0.0/24",
				"t.yaml:7: account.trusted_peers: item 4: 'bad host' is not a host name, IP address or CIDR; write e.g. pbx.example.com, 10.0.0.5:5060 or 10.0.0.0/24",
			}},
		// keys
		{"unknown key with suggestion", []string{"password: secret", "pasword: secret\n  password: secret"},
			[]string{"t.yaml:4: account.pasword: unknown key (known: registrar, failover, dns, failover_timeout, failback_probe, failback_after, domain, user, auth_user, password, password_file, display_name, transport, expires, listen, keepalive, address_check, retry_min, retry_max, probe, reg_event, provision, cache, trusted_peers, accept_direct, ca_file, tls_server_name); did you mean password?"}},
		{"unknown key without suggestion", []string{"ring_timeout: 30s", "ring_timeout: 30s\n  frobnicate: yes"},
			[]string{"t.yaml:20: calls.frobnicate: unknown key (known: ring_timeout, answer_timeout, max_lines, hold_music, keepalive, session_id_header, first_media_timeout, media_timeout); remove it or fix its spelling"}},
		{"unknown section", []string{"board: sim", "board: sim\nbaord: sim"},
			[]string{"t.yaml:12: baord: unknown key (known: account, agent, board, sim, audio, calls, api, console, relay, provisioning); did you mean board?"}},
		{"unknown key in sim", []string{"input: tone:1000", "input: tone:1000\n  Output: x.wav"},
			[]string{"t.yaml:18: sim.Output: unknown key (known: input, output); did you mean output?"}},
		{"duplicate key", []string{"expires: 300", "expires: 300\n  expires: 600"},
			[]string{"t.yaml:7: account.expires: duplicate key (first at line 6); keep only one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, edit(t, tt.edits...))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMultipleProblems(t *testing.T) {
	src := edit(t,
		"pbx.example.com:5060", "pbx:99999",
		"transport: udp", "transport: sctp",
		"expires: 300", "expires: [300]",
		"  user_id: agent1001@example.com\n", "",
		"[PCMU, PCMA]", "[G729]",
		"127.0.0.1:8080", "0.0.0.0:8080",
		"board: sim", "board: sim\nextra: 1",
	)
	want := []string{
		"t.yaml:2: account.registrar: 'pbx:99999' is not a valid port (use 1-65535, e.g. pbx:5060)",
		"t.yaml:5: account.transport: 'sctp' is not supported; use udp, tcp or tls",
		"t.yaml:6: account.expires: expected a whole number, got a list",
		"t.yaml:8: agent.user_id: missing; add user_id: under agent: (the agent's UserId, e.g. agent1001@example.com)",
		"t.yaml:11: extra: unknown key (known: account, agent, board, sim, audio, calls, api, console, relay, provisioning); remove it or fix its spelling",
		"t.yaml:13: audio.codecs: 'G729' is not a supported codec; use PCMU, PCMA or OPUS",
		"t.yaml:22: api.listen: 0.0.0.0:8080 is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1",
	}
	if got := problems(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func TestEmptyFile(t *testing.T) {
	want := []string{
		"t.yaml: account.registrar: missing; add registrar: under account: (the SIP registrar's host:port, e.g. pbx.example.com:5060)",
		"t.yaml: account.user: missing; add user: under account: (the extension, e.g. \"1001\")",
		"t.yaml: account.password: missing; add password: (or password_file: PATH) under account:",
		"t.yaml: agent.sdk_app_id: missing; add sdk_app_id: under agent: (the contact center's SdkAppId, e.g. 1400000001)",
		"t.yaml: agent.user_id: missing; add user_id: under agent: (the agent's UserId, e.g. agent1001@example.com)",
	}
	for _, src := range []string{"", "# only a comment\n"} {
		got := problems(t, src)
		slices.Sort(got)
		w := append([]string(nil), want...)
		slices.Sort(w)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Parse(%q):\n got %q\nwant %q", src, got, w)
		}
	}
	got := problems(t, "- a\n- b\n")
	if want := "t.yaml:1: expected a mapping of sections (account:, agent:, …), got a list; write one key: value per line"; len(got) != 1 || got[0] != want {
		t.Errorf("Parse(list) = %q, want [%q]", got, want)
	}
}

func TestSyntaxError(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"tab indent", edit(t, "  password: secret", "\tpassword: secret"),
			"t.yaml:4: YAML syntax error: found character that cannot start any token (this line is indented with a tab; YAML needs spaces); check indentation, colons, brackets and quotes here"},
		{"too deep", edit(t, "  expires: 300", "   expires: 300"),
			"t.yaml:6: YAML syntax error: mapping values are not allowed in this context; check indentation, colons, brackets and quotes here"},
		{"too shallow", edit(t, "  expires: 300", " expires: 300"),
			"t.yaml:6: YAML syntax error: did not find expected key; check indentation, colons, brackets and quotes here"},
		{"unclosed quote", edit(t, `"1001"`, `"1001`),
			"t.yaml:3: YAML syntax error: found unexpected end of stream; check indentation, colons, brackets and quotes here"},
		{"colon in value", edit(t, "transport: udp", "transport: udp: tcp"),
			"t.yaml:5: YAML syntax error: mapping values are not allowed in this context; check indentation, colons, brackets and quotes here"},
		{"unclosed list", edit(t, "[PCMU, PCMA]", "[PCMU, PCMA"),
			"t.yaml:13: YAML syntax error: did not find expected ',' or ']'; check indentation, colons, brackets and quotes here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q\nwant [%q]", got, tt.want)
			}
		})
	}
}

// writeConfig writes a config and any extra files into a new directory and
// returns the config's path.
func writeConfig(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "phone.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswordFile(t *testing.T) {
	for _, content := range []string{"s3cret\n", "s3cret\r\n", "s3cret"} {
		path := writeConfig(t, edit(t, "password: secret", "password_file: secrets/sip"),
			map[string]string{"secrets/sip": content})
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Account.Password != "s3cret" {
			t.Errorf("password from %q = %q, want s3cret", content, c.Account.Password)
		}
		if want := filepath.Join(filepath.Dir(path), "secrets", "sip"); c.Account.PasswordFile != want {
			t.Errorf("PasswordFile = %q, want %q (relative to the config file)", c.Account.PasswordFile, want)
		}
		if c.File != path {
			t.Errorf("File = %q, want %q", c.File, path)
		}
	}
}

func TestPasswordFileProblems(t *testing.T) {
	path := writeConfig(t, edit(t, "password: secret", "password_file: missing.txt"), nil)
	_, err := Load(path)
	pwPath := filepath.Join(filepath.Dir(path), "missing.txt")
	want := path + ":4: account.password_file: cannot read " + pwPath +
		" (no such file or directory); create it holding the SIP password on one line, or set account.password instead"
	if err == nil || err.Error() != want {
		t.Errorf("missing file:\n got %v\nwant %s", err, want)
	}

	path = writeConfig(t, edit(t, "password: secret", "password_file: pw"), map[string]string{"pw": "\n"})
	_, err = Load(path)
	pwPath = filepath.Join(filepath.Dir(path), "pw")
	want = path + ":4: account.password_file: " + pwPath + " is empty; write the SIP password into it"
	if err == nil || err.Error() != want {
		t.Errorf("empty file:\n got %v\nwant %s", err, want)
	}
}

func TestTokenFile(t *testing.T) {
	path := writeConfig(t, edit(t, "127.0.0.1:8080", "0.0.0.0:8080\n  token_file: api-token"),
		map[string]string{"api-token": "abc123def456ghi789\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Token != "abc123def456ghi789" {
		t.Errorf("Token = %q, want abc123def456ghi789", c.API.Token)
	}

	// A token file that cannot be read is reported once, not also as a
	// missing token on api.listen.
	path = writeConfig(t, edit(t, "127.0.0.1:8080", "0.0.0.0:8080\n  token_file: nope"), nil)
	_, err = Load(path)
	want := path + ":23: api.token_file: cannot read " + filepath.Join(filepath.Dir(path), "nope") +
		" (no such file or directory); create it holding the API token on one line, or set api.token instead"
	if err == nil || err.Error() != want {
		t.Errorf("missing token file:\n got %v\nwant %s", err, want)
	}
}

// The token read from api.token_file is held to api.token's rules, and the
// problem names api.token_file and the file, never the token.
func TestTokenFileRules(t *testing.T) {
	for _, tt := range []struct{ content, want string }{
		{"0123456789abcdef\n", ""}, // exactly 16: accepted
		{"my token is long enough\n", "the token in %s has whitespace or a control character (character 3), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16"},
		{"0123456789abcdef \n", "the token in %s has whitespace or a control character (character 17), which an Authorization header cannot carry; make it one word of letters and digits, e.g. the output of: openssl rand -hex 16"},
		{"short\r\n", "the token in %s is 5 characters long, too easy to guess; make it at least 16, e.g. the output of: openssl rand -hex 16"},
	} {
		path := writeConfig(t, edit(t, "127.0.0.1:8080", "0.0.0.0:8080\n  token_file: api-token"), map[string]string{"api-token": tt.content})
		c, err := Load(path)
		if tt.want == "" {
			if err != nil || c.API.Token != strings.TrimSpace(tt.content) {
				t.Errorf("token file %q: %v", tt.content, err)
			}
			continue
		}
		want := path + ":23: api.token_file: " + fmt.Sprintf(tt.want, filepath.Join(filepath.Dir(path), "api-token"))
		if err == nil || err.Error() != want {
			t.Errorf("token file %q:\n got %v\nwant %s", tt.content, err, want)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(tt.content)) {
			t.Errorf("token file %q: the message quotes the token: %v", tt.content, err)
		}
	}
}

func TestSimInputFile(t *testing.T) {
	src := edit(t, "tone:1000", "sounds/caller.wav", "  input:", "  output: out/heard.wav\n  input:")
	path := writeConfig(t, src, map[string]string{"sounds/caller.wav": "RIFF"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "sounds", "caller.wav"); c.Sim.Input != want {
		t.Errorf("Input = %q, want %q", c.Sim.Input, want)
	}
	if c.Sim.Output != "out/heard.wav" {
		t.Errorf("Output = %q, want it left relative to the working directory", c.Sim.Output)
	}

	path = writeConfig(t, edit(t, "tone:1000", "sounds"), map[string]string{"sounds/x.wav": ""})
	_, err = Load(path)
	want := path + ":17: sim.input: " + filepath.Join(filepath.Dir(path), "sounds") +
		" is a directory; give a WAV file, silence or tone:1000"
	if err == nil || err.Error() != want {
		t.Errorf("directory input:\n got %v\nwant %s", err, want)
	}
}

// audio.sim, the old place of sim:, still works: moved to sim: with a
// warning naming its line; both at once is an error.
func TestAudioSimDeprecated(t *testing.T) {
	old := edit(t, "sim:\n  input: tone:1000\n", "", "  rtp_ports: 16384-16583\n",
		"  rtp_ports: 16384-16583\n  sim:\n    output: heard.wav\n")
	c, err := Parse([]byte(old), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sim != (SimAudio{Input: "tone:1000", Output: "heard.wav"}) || c.Audio.Sim != (SimAudio{}) {
		t.Errorf("Sim = %+v, Audio.Sim = %+v; want audio.sim moved to Sim with the default input", c.Sim, c.Audio.Sim)
	}
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0].String(), "t.yaml:16: audio.sim: is deprecated") ||
		!strings.Contains(c.Warnings[0].String(), "move it to the top level as sim:") {
		t.Errorf("Warnings = %v, want one at t.yaml:16 saying where sim: goes now", c.Warnings)
	}
	bad := strings.Replace(old, "output: heard.wav", "input: tone:0", 1)
	if got := problems(t, bad); len(got) != 1 || !strings.HasPrefix(got[0], "t.yaml:17: audio.sim.input: 'tone:0' is not a valid tone") {
		t.Errorf("bad audio.sim.input: %v", got)
	}
	both := strings.Replace(old, "board: sim\n", "board: sim\nsim: {input: silence}\n", 1)
	if got := problems(t, both); len(got) != 1 || got[0] != "t.yaml:17: audio.sim: is the old place of sim:, which is set too; move what it holds into sim: and remove it" {
		t.Errorf("audio.sim and sim: %v", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an fs.ErrNotExist error", err)
	}
	if err != nil && !strings.Contains(err.Error(), "config/examples/phone.yaml") {
		t.Errorf("Load(missing) = %v; want it to point at the example", err)
	}
}

func TestRTPPortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
	}{
		{"16384-16583", 16384, 16583},
		{" 20000 - 20100 ", 20000, 20100},
		{"16384", 0, 0},
		{"a-b", 0, 0},
		{"", 0, 0},
	}
	for _, tt := range tests {
		if lo, hi := (Audio{RTPPorts: tt.in}).RTPPortRange(); lo != tt.lo || hi != tt.hi {
			t.Errorf("RTPPortRange(%q) = %d, %d; want %d, %d", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"registrar", "domain", "user", "auth_user", "password", "password_file", "expires"}
	tests := []struct{ in, want string }{
		{"pasword", "password"},
		{"Password", "password"},
		{"registar", "registrar"},
		{"usr", "user"},
		{"passwordfile", "password_file"},
		{"expire", "expires"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// audio.srtp: optional over a transport in clear is allowed with a warning
// naming its line (the keys cross the network in the SIP); over TLS, or
// left at its default, no warning.
func TestSRTPOptionalInClearWarns(t *testing.T) {
	c, err := Parse([]byte(edit(t, "  rtp_ports: 16384-16583\n", "  rtp_ports: 16384-16583\n  srtp: optional\n")), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0].String(), "t.yaml:16: audio.srtp: optional over udp sends the SRTP keys in clear SIP") ||
		!strings.Contains(c.Warnings[0].String(), "account.transport: tls") {
		t.Errorf("Warnings = %v, want one at t.yaml:16 saying the keys go in clear and what to use", c.Warnings)
	}
	if c, err := Parse([]byte(base), "t.yaml"); err != nil || len(c.Warnings) != 0 {
		t.Errorf("the default (srtp off): warnings %v, %v", c.Warnings, err)
	}
}
