// Package relay is the agent-status backend that talks to the integrator's
// relay over HTTPS (contract: tools/relay/README.md). The relay holds the
// contact center's cloud API key; the phone holds only its device token.
package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"deskphone/phone/agent"
)

// Options configure a Client.
type Options struct {
	BaseURL string // https://relay.example.com (a path prefix is kept)
	Token   string // the device's bearer token
	CAFile  string // optional PEM: extra CA for the relay's certificate
	// AllowHTTP permits an http:// BaseURL (labs only: the token and the SIP
	// password would cross the network in clear).
	AllowHTTP bool

	DialTimeout    time.Duration // TCP + TLS handshake; default 10s
	RequestTimeout time.Duration // Report, Status, Provision; default 15s
	// IdleTimeout ends a Watch stream that sent nothing (the relay sends a
	// keep-alive every 15 s); default 45s.
	IdleTimeout time.Duration
}

// Client implements agent.Backend against a relay.
type Client struct {
	base *url.URL
	opt  Options
	http *http.Client
}

var _ agent.Backend = (*Client)(nil)

// New checks the options and prepares the HTTPS client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("relay: base URL %q is not https://host[:port]", o.BaseURL)
	}
	if u.Scheme == "http" && !o.AllowHTTP {
		return nil, fmt.Errorf("relay: base URL %q is plain HTTP: use https:// (AllowHTTP is for labs only)", o.BaseURL)
	}
	if o.Token == "" || strings.ContainsAny(o.Token, " \t\r\n") {
		return nil, errors.New("relay: the device token is empty or contains whitespace")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 15 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 45 * time.Second
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pool, err := CertPool(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   o.DialTimeout,
		ResponseHeaderTimeout: o.RequestTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &Client{base: u, opt: o, http: &http.Client{Transport: tr}}, nil
}

// Name is "relay".
func (c *Client) Name() string { return "relay" }

// wire is the status as the relay sends and receives it.
type wire struct {
	Status string     `json:"status"`
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since,omitempty"`
}

func (w wire) change() (agent.Change, error) {
	st, err := agent.ParseStatus(w.Status)
	if err != nil {
		return agent.Change{}, err
	}
	ch := agent.Change{Status: st, Reason: w.Reason}
	if w.Since != nil {
		ch.Since = *w.Since
	}
	return ch, nil
}

// Report asks the relay to set the status (POST /v1/agent/status).
func (c *Client) Report(ctx context.Context, ch agent.Change) error {
	w := wire{Status: string(ch.Status), Reason: ch.Reason}
	if !ch.Since.IsZero() {
		w.Since = &ch.Since
	}
	return c.do(ctx, http.MethodPost, "/v1/agent/status", w, nil)
}

// Status reads the agent's status as the contact center sees it.
func (c *Client) Status(ctx context.Context) (agent.Change, error) {
	var w wire
	if err := c.do(ctx, http.MethodGet, "/v1/agent/status", nil, &w); err != nil {
		return agent.Change{}, err
	}
	ch, err := w.change()
	if err != nil {
		return agent.Change{}, fmt.Errorf("relay: %w", err)
	}
	return ch, nil
}

// Account is the SIP account the relay provisions (DescribeExtension).
type Account struct {
	Extension     string `json:"extension"`
	Domain        string `json:"domain"`
	Password      string `json:"password"`
	OutboundProxy string `json:"outboundProxy"`
	Transport     string `json:"transport"`
}

// Provision fetches the phone's SIP account. An answer with a field missing
// is an error naming the fields: a half account would only fail to register.
func (c *Client) Provision(ctx context.Context) (Account, error) {
	var a Account
	if err := c.do(ctx, http.MethodGet, "/v1/provision", nil, &a); err != nil {
		return Account{}, err
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"extension", a.Extension}, {"domain", a.Domain},
		{"password", a.Password}, {"outboundProxy", a.OutboundProxy}, {"transport", a.Transport}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Account{}, fmt.Errorf("relay: the provisioned account lacks %s: complete extension %q in the contact center (DescribeExtension)",
			strings.Join(missing, ", "), a.Extension)
	}
	return a, nil
}

func (c *Client) url(path string) string { return c.base.String() + path }

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	return req, nil
}

// do runs one JSON request with RequestTimeout.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		body = strings.NewReader(string(b))
	}
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("relay %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return answerErr(method, path, resp)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) //nolint:errcheck // keep the connection reusable
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("relay %s %s: bad answer: %w", method, path, err)
	}
	return nil
}

// answerErr turns a non-2xx answer into an error: the contact center's or
// the relay's "no" (4xx) is an *agent.RefusedError; a token the relay does
// not know, a timeout, a rate limit or a 5xx is a plain error (try later).
func answerErr(method, path string, resp *http.Response) error {
	var e struct{ Code, Message string }
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e) //nolint:errcheck // the status alone still says enough
	msg := e.Message
	if msg == "" {
		msg = resp.Status
	}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return fmt.Errorf("relay %s %s: the relay refused this phone (%d %s): check the device token", method, path, s, msg)
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500 || s < 400:
		return fmt.Errorf("relay %s %s: %d %s: %s", method, path, s, e.Code, msg)
	default:
		return &agent.RefusedError{Code: s, Message: msg}
	}
}

// Watch follows GET /v1/agent/events (Server-Sent Events) and delivers the
// current status first, then each change; kickedOut arrives as Offline with
// Kicked set. It returns nil when ctx ends, an error when the stream breaks
// or stays silent longer than IdleTimeout.
func (c *Client) Watch(ctx context.Context, got func(agent.Change)) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.newRequest(sctx, http.MethodGet, "/v1/agent/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("relay events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return answerErr(http.MethodGet, "/v1/agent/events", resp)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("relay events: answer is %q, not text/event-stream (a proxy in the way?)", ct)
	}

	// A silent stream is a dead one: the watchdog cancels the request.
	var mu sync.Mutex
	idle := false
	watchdog := time.AfterFunc(c.opt.IdleTimeout, func() { mu.Lock(); idle = true; mu.Unlock(); cancel() })
	defer watchdog.Stop()

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4096), 64<<10)
	var name string
	var data strings.Builder
	for sc.Scan() {
		watchdog.Reset(c.opt.IdleTimeout)
		line := sc.Text()
		switch {
		case line == "":
			if ch, ok := decodeEvent(name, data.String()); ok {
				got(ch)
			}
			name = ""
			data.Reset()
		case strings.HasPrefix(line, ":"): // keep-alive
		default:
			field, val, _ := strings.Cut(line, ":")
			val = strings.TrimPrefix(val, " ")
			switch field {
			case "event":
				name = val
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(val)
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case func() bool { mu.Lock(); defer mu.Unlock(); return idle }():
		return fmt.Errorf("relay events: nothing received for %v (keep-alives stopped)", c.opt.IdleTimeout)
	case sc.Err() != nil:
		return fmt.Errorf("relay events: %w", sc.Err())
	}
	return errors.New("relay events: the relay closed the stream")
}

// decodeEvent reads one event; unknown events and statuses are skipped so a
// newer relay can add them.
func decodeEvent(name, data string) (agent.Change, bool) {
	switch name {
	case "status":
		var w wire
		if json.Unmarshal([]byte(data), &w) != nil {
			return agent.Change{}, false
		}
		ch, err := w.change()
		return ch, err == nil
	case "kickedOut":
		var k struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal([]byte(data), &k) // a kick without a readable reason is still a kick
		return agent.Change{Status: agent.Offline, Reason: k.Reason, Since: time.Now(), Kicked: true}, true
	}
	return agent.Change{}, false
}

// CertPool is the system's CAs plus those in a PEM file (a private CA).
func CertPool(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}
