package provision

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"deskphone/config"
	"deskphone/phone/agent/relay"
)

// MaxFile is the largest provisioned file accepted, in bytes.
const MaxFile = 256 << 10

// CommonFile is the file for every phone, fetched when the server has no
// <mac>.yaml.
const CommonFile = "deskphone.yaml"

// fetch gets <base>/<mac>.yaml, or <base>/deskphone.yaml when the server has
// none (404), within provisioning.timeout. It returns the file and its URL.
// A file over MaxFile is a *config.Error; anything else that fails is
// ErrUnreachable with the reason.
func fetch(ctx context.Context, l *local, log *slog.Logger) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, l.prov.Timeout)
	defer cancel()
	client, err := newClient(l.prov.CAFile)
	if err != nil {
		return nil, "", err
	}
	base, err := url.Parse(l.base)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	var names []string
	mac := l.prov.MAC
	if mac == "" {
		if mac, err = routeMAC(ctx, base); err != nil {
			log.Warn("no per-phone provisioning file: the MAC is unknown; set provisioning.mac", "error", err)
		}
	}
	if mac != "" {
		names = append(names, mac+".yaml")
	}
	names = append(names, CommonFile)
	var missing []string
	for _, name := range names {
		u := base.JoinPath(name).String()
		data, status, err := get(ctx, client, u)
		switch {
		case err != nil:
			return nil, "", err
		case status == http.StatusNotFound:
			missing = append(missing, u)
			continue
		case status != http.StatusOK:
			return nil, "", fmt.Errorf("%w: %s answered %d %s; check the server", ErrUnreachable, u, status, http.StatusText(status))
		}
		return data, u, nil
	}
	return nil, "", fmt.Errorf("%w: the server has no file for this phone (404 for %v); put one there, or check provisioning.url", ErrUnreachable, missing)
}

// get fetches one file: its body, or the status when it is not 200.
func get(ctx context.Context, client *http.Client, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	req.Header.Set("Accept", "application/yaml, text/yaml, text/plain")
	res, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w; check provisioning.url, that the server is up and its certificate (provisioning.ca_file for a private CA)", ErrUnreachable, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, res.StatusCode, nil
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxFile+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: reading %s: %w", ErrUnreachable, u, err)
	}
	if len(data) > MaxFile {
		return nil, 0, &config.Error{Problems: []config.Problem{{File: u,
			Msg: fmt.Sprintf("is larger than %d KiB, more than a phone's configuration needs; serve the phone's keys only", MaxFile>>10)}}}
	}
	return data, http.StatusOK, nil
}

// newClient is an HTTPS client trusting the system's CAs plus caFile's. It
// follows no redirect to plain http off loopback.
func newClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := relay.CertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("provisioning.ca_file: %w", err)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if _, err := config.ProvisioningBase(req.URL.String()); err != nil {
			return fmt.Errorf("redirected: %w", err)
		}
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return nil
	}}, nil
}

// routeMAC is the MAC of the interface the kernel routes to base's host
// through, as 12 lower-case hex digits. Connecting a UDP socket sends
// nothing; it only picks the route and so the local address.
func routeMAC(ctx context.Context, base *url.URL) (string, error) {
	port := base.Port()
	if port == "" {
		port = "443"
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "udp", net.JoinHostPort(base.Hostname(), port))
	if err != nil {
		return "", fmt.Errorf("no route to %s: %w", base.Hostname(), err)
	}
	ip := c.LocalAddr().(*net.UDPAddr).IP
	_ = c.Close() // a UDP "connection" that sent nothing: only the local address was wanted
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				if len(ifc.HardwareAddr) == 0 {
					return "", fmt.Errorf("interface %s (%s), which routes to %s, has no MAC address", ifc.Name, ip, base.Hostname())
				}
				return hex.EncodeToString(ifc.HardwareAddr), nil
			}
		}
	}
	return "", fmt.Errorf("no interface holds %s, the address that routes to %s", ip, base.Hostname())
}
