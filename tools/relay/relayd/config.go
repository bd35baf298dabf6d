// Package relayd is the reference relay: the integrator's server that holds
// the cloud API key and speaks a small HTTP/JSON contract to the desk phones
// (see tools/relay/README.md). The binary is tools/relay.
package relayd

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultEndpoint is the contact center's cloud API host.
const DefaultEndpoint = "ccc.tencentcloudapi.com"

// Environment variables. The secret key is read only from the environment so
// it never shows in a process listing or a shell history of flags.
const (
	EnvSecretID   = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey  = "TENCENTCLOUD_SECRET_KEY"
	EnvAdminToken = "RELAY_ADMIN_TOKEN"
)

// Config is everything the relay needs. LoadConfig fills it from flags and
// the environment; tests build it directly.
type Config struct {
	Listen       string // host:port
	TLSCert      string // PEM files for HTTPS
	TLSKey       string
	InsecureHTTP bool // plain HTTP, for labs only

	SdkAppID    uint64
	Region      string // X-TC-Region; empty = none (ccc does not need one)
	Endpoint    string // cloud API host[:port]
	CloudCAFile string // extra CA PEM trusted for Endpoint (tests, proxies)
	SecretID    string
	SecretKey   string

	DevicesFile string
	AdminToken  string // empty disables POST /v1/admin/force-offline

	Poll      time.Duration // DescribeStaffStatusMetrics interval
	KeepAlive time.Duration // SSE comment interval
}

// LoadConfig reads flags (args without the program name) with defaults from
// the environment (RELAY_*), and the secrets from the environment only.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var c Config
	var appID string
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Listen, "listen", env("RELAY_LISTEN", ":8443"), "listen address (RELAY_LISTEN)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("RELAY_TLS_CERT", ""), "TLS certificate PEM file (RELAY_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("RELAY_TLS_KEY", ""), "TLS private key PEM file (RELAY_TLS_KEY)")
	fs.BoolVar(&c.InsecureHTTP, "insecure-http", env("RELAY_INSECURE_HTTP", "") == "1", "serve plain HTTP (labs only; RELAY_INSECURE_HTTP=1)")
	fs.StringVar(&appID, "sdkappid", env("RELAY_SDKAPPID", ""), "contact-center SdkAppId (RELAY_SDKAPPID)")
	fs.StringVar(&c.Region, "region", env("RELAY_REGION", ""), "cloud region, e.g. ap-guangzhou (RELAY_REGION)")
	fs.StringVar(&c.Endpoint, "endpoint", env("RELAY_CLOUD_ENDPOINT", DefaultEndpoint), "cloud API host[:port] (RELAY_CLOUD_ENDPOINT)")
	fs.StringVar(&c.CloudCAFile, "cloud-ca", env("RELAY_CLOUD_CA", ""), "extra CA PEM file trusted for the cloud endpoint (RELAY_CLOUD_CA)")
	fs.StringVar(&c.DevicesFile, "devices", env("RELAY_DEVICES", ""), "devices file, YAML or JSON (RELAY_DEVICES)")
	poll := 5 * time.Second
	if v := getenv("RELAY_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("RELAY_POLL %q is not a duration (e.g. 5s)", v)
		}
		poll = d
	}
	fs.DurationVar(&c.Poll, "poll", poll, "status poll interval (RELAY_POLL)")
	fs.DurationVar(&c.KeepAlive, "keepalive", 15*time.Second, "SSE keep-alive interval")
	if err := fs.Parse(args); err != nil {
		var usage bytes.Buffer
		fs.SetOutput(&usage)
		fs.PrintDefaults()
		if errors.Is(err, flag.ErrHelp) {
			err = errors.New("usage")
		}
		return c, fmt.Errorf("%w; flags:\n%s\nsecrets: %s, %s; admin route: %s", err, usage.String(), EnvSecretID, EnvSecretKey, EnvAdminToken)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q: every setting is a flag", fs.Arg(0))
	}
	if appID == "" {
		return c, errors.New("no SdkAppId: pass -sdkappid or set RELAY_SDKAPPID (the application id in the contact center console, e.g. 1400000000)")
	}
	id, err := strconv.ParseUint(appID, 10, 64)
	if err != nil || id == 0 {
		return c, fmt.Errorf("SdkAppId %q is not a positive number (e.g. 1400000000)", appID)
	}
	c.SdkAppID = id
	c.SecretID, c.SecretKey = getenv(EnvSecretID), getenv(EnvSecretKey)
	c.AdminToken = getenv(EnvAdminToken)
	return c, c.Validate()
}

// Validate checks what New needs; every error says what to do.
func (c Config) Validate() error {
	for _, s := range []struct{ name, val string }{{EnvSecretID, c.SecretID}, {EnvSecretKey, c.SecretKey}} {
		if strings.TrimSpace(s.val) == "" {
			return fmt.Errorf("%s is not set: export the contact center's cloud API key in the environment (never in a flag or a file the phones can reach)", s.name)
		}
	}
	if c.SdkAppID == 0 {
		return errors.New("no SdkAppId: pass -sdkappid or set RELAY_SDKAPPID")
	}
	if c.Endpoint == "" {
		return errors.New("empty cloud endpoint: leave -endpoint unset for " + DefaultEndpoint)
	}
	if c.DevicesFile == "" {
		return errors.New("no devices file: pass -devices FILE (or RELAY_DEVICES) mapping each device token to its staffUserId and extensionId")
	}
	if !c.InsecureHTTP && (c.TLSCert == "" || c.TLSKey == "") {
		return errors.New("no TLS certificate: pass -tls-cert and -tls-key (PEM files); plain HTTP needs -insecure-http and is for labs only")
	}
	if c.Poll < 100*time.Millisecond && c.Poll != 0 {
		return fmt.Errorf("poll interval %v is too short (the cloud allows 20 requests a second): use 1s or more", c.Poll)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return fmt.Errorf("%s is too short: use at least 16 characters", EnvAdminToken)
	}
	return nil
}

// Device is one phone: the agent it serves and its SIP extension.
type Device struct {
	StaffUserID string `yaml:"staffUserId" json:"staffUserId"` // the agent's e-mail
	ExtensionID string `yaml:"extensionId" json:"extensionId"`
}

// tokenKey is how devices are looked up: a hash of the bearer token, so the
// map lookup leaks nothing about the token's bytes through timing.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// Devices maps the hash of a device's bearer token to the device.
type Devices map[tokenKey]Device

// LoadDevices reads the devices file: one mapping from device token to
// {staffUserId, extensionId}. YAML or JSON (JSON is YAML). Errors name the
// file and line but never print a token.
func LoadDevices(path string) (Devices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devices file: %w", err)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty: list each device as TOKEN: {staffUserId: agent@example.com, extensionId: \"8001\"}", path)
		}
		return nil, fmt.Errorf("%s: not YAML or JSON: %w", path, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: want a mapping TOKEN: {staffUserId: ..., extensionId: ...}", path, doc.Line)
	}
	out := make(map[tokenKey]Device)
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		tok := k.Value
		where := fmt.Sprintf("%s:%d", path, k.Line)
		if len(tok) < 16 || strings.ContainsAny(tok, " \t\r\n") {
			return nil, fmt.Errorf("%s: a device token must be at least 16 characters with no whitespace (e.g. from `openssl rand -hex 24`)", where)
		}
		if _, dup := out[keyOf(tok)]; dup {
			return nil, fmt.Errorf("%s: this token is listed twice", where)
		}
		if v.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: want {staffUserId: ..., extensionId: ...} after the token", where)
		}
		var d Device
		for j := 0; j+1 < len(v.Content); j += 2 {
			f, val := v.Content[j], v.Content[j+1]
			if val.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s:%d: %s must be a string", path, f.Line, f.Value)
			}
			switch f.Value {
			case "staffUserId":
				d.StaffUserID = strings.TrimSpace(val.Value)
			case "extensionId":
				d.ExtensionID = strings.TrimSpace(val.Value)
			default:
				return nil, fmt.Errorf("%s:%d: unknown key %q (use staffUserId and extensionId)", path, f.Line, f.Value)
			}
		}
		if !strings.Contains(d.StaffUserID, "@") {
			return nil, fmt.Errorf("%s: staffUserId %q is not the agent's e-mail address", where, d.StaffUserID)
		}
		if d.ExtensionID == "" {
			return nil, fmt.Errorf("%s: device of %s has no extensionId (the extension created with CreateExtension)", where, d.StaffUserID)
		}
		out[keyOf(tok)] = d
	}
	return out, nil
}
