package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// requestTimeout bounds a request that is not a stream: longer than the
// API's slowest function (POST /v1/login, 15 s).
const requestTimeout = 20 * time.Second

// client calls one phone's control API.
type client struct {
	base  *url.URL // scheme and host; the API's paths are absolute
	token string
	http  *http.Client
}

// APIError is the API's error answer, {code, message}.
type APIError struct {
	HTTPStatus int
	Code       int    `json:"code"`
	Message    string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (code %d, HTTP %d)", e.Message, e.Code, e.HTTPStatus)
}

// newClient checks the API address: a URL, or host:port meaning http.
func newClient(api, token string) (*client, error) {
	raw := api
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("-api %q: give the phone's control API as http://HOST:PORT (e.g. %s)", api, DefaultAPI)
	}
	u.Path = ""
	return &client{base: u, token: token, http: &http.Client{}}, nil
}

// request builds a request of path (with its query) and a JSON body.
func (c *client) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// send sends req and returns the response if it is a 200; otherwise the
// API's error.
func (c *client) send(req *http.Request) (*http.Response, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, c.reachError(err)
	}
	if res.StatusCode == http.StatusOK {
		return res, nil
	}
	defer res.Body.Close()
	return nil, apiError(res)
}

// do calls the API and returns its JSON answer (a 200) or its error.
func (c *client) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	res, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s %s: the answer is not JSON (is %s the phone's control API?): %.200q", method, path, c.base, raw)
	}
	return bytes.TrimSpace(raw), nil
}

// apiError reads a non-200 answer: the API's {code, message}, or what the
// server said if it is not the API.
func apiError(res *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	e := &APIError{HTTPStatus: res.StatusCode}
	if json.Unmarshal(raw, e) != nil || e.Message == "" {
		msg := strings.TrimSpace(string(raw))
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		return fmt.Errorf("HTTP %d from %s %s: %.300s", res.StatusCode, res.Request.Method, res.Request.URL.Path, msg)
	}
	return e
}

// reachError explains a request that got no answer.
func (c *client) reachError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	how := "set it with -api URL or $DESKPHONE_API"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach the phone's control API at %s: connection refused — is the phone running, and is that its api.listen? (%s)", c.base, how)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the phone's control API at %s did not answer within %s (%s)", c.base, requestTimeout, how)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot reach the phone's control API at %s: %w (%s)", c.base, dnsErr, how)
	}
	return fmt.Errorf("cannot reach the phone's control API at %s: %w (%s)", c.base, err, how)
}
