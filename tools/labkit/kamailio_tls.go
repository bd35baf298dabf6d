package labkit

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// TLSAddr is the host:port of SIP over TLS (KamailioOptions.TLS), or "".
func (k *Kamailio) TLSAddr() string {
	if k.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort(k.host, strconv.Itoa(k.tlsPort))
}

func tlsConfigPath(dir string) string { return filepath.Join(dir, "tls.cfg") }

// writeTLSConfig writes the tls module's profile: TLS 1.2 and later, our
// certificate, no client certificates asked for (phones authenticate with
// digest, as over UDP). As a client (relaying to a TLS contact) it does
// not verify: the lab's far ends have no certificates of their own.
func writeTLSConfig(opts KamailioOptions) error {
	cfg := fmt.Sprintf(`[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = %s
certificate = %s

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`, opts.TLS.KeyFile, opts.TLS.CertFile)
	if err := os.WriteFile(tlsConfigPath(opts.Dir), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("kamailio: %w", err)
	}
	return nil
}
