package sipua

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// ErrCertificate is a registrar (or proxy) whose TLS certificate the
// phone refused: signed by a CA it does not trust, or for another name.
// Nothing is sent to it, and the phone never falls back to TCP or UDP.
var ErrCertificate = errors.New("the registrar's TLS certificate was refused")

// clientTLS is the TLS configuration for transport tls: TLS 1.2 or later,
// the configured CA (else the system's roots), and the server name
// checked — the configured one, else the registrar's host.
func clientTLS(cfg Config) (*tls.Config, error) {
	if cfg.Transport != "tls" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if conf.ServerName == "" {
		host, _, err := net.SplitHostPort(cfg.Registrar)
		if err != nil {
			host = cfg.Registrar // a bare host name (RFC 3263)
		}
		conf.ServerName = host
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("account.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("account.ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// certificateError explains a refused certificate, or returns nil when
// err is not one.
func certificateError(err error) error {
	var cv *tls.CertificateVerificationError
	if !errors.As(err, &cv) {
		return nil
	}
	return fmt.Errorf("%w: %w (check account.ca_file and account.tls_server_name)", ErrCertificate, cv.Err)
}

// refuseInbound hangs up on every connection to the held TLS port (see
// New): SIP over TLS reaches the phone only over its own connection.
func refuseInbound(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed with the UA
		}
		_ = c.Close() // nothing to say to it
	}
}
