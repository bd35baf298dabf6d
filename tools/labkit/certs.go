package labkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority made for one test run, to sign the lab's
// TLS servers (Kamailio's tls module, baresip's SIP/TLS) and to be the
// phone's account.ca_file.
type CA struct {
	Dir     string // CAFile and every Issue'd pair are written here
	CAFile  string // the CA certificate, PEM
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	counter int64
}

// CertPair is a certificate (chain: leaf then CA) and its private key, PEM files.
type CertPair struct {
	CertFile, KeyFile string
}

// NewCA makes a CA named name (its CN) and writes its certificate to
// Dir/name.pem. Two CAs from two calls do not trust each other: a test
// of a wrong CA uses the second.
func NewCA(dir, name string) (*CA, error) {
	if dir == "" || name == "" {
		return nil, errors.New("labkit: NewCA needs a directory and a name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"deskphone lab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{Dir: dir, CAFile: filepath.Join(dir, name+".pem"), cert: cert, key: key, counter: 1}
	if err := writePEM(ca.CAFile, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return ca, nil
}

// Issue signs a server certificate for names (host names and IP
// addresses, e.g. "sip.lab.test", "127.0.0.1") and writes
// Dir/file.pem (leaf + CA) and Dir/file.key.
func (ca *CA) Issue(file string, names ...string) (CertPair, error) {
	if len(names) == 0 {
		return CertPair{}, errors.New("labkit: Issue needs at least one name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return CertPair{}, err
	}
	ca.counter++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.counter),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return CertPair{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return CertPair{}, err
	}
	p := CertPair{CertFile: filepath.Join(ca.Dir, file+".pem"), KeyFile: filepath.Join(ca.Dir, file+".key")}
	if err := writePEM(p.CertFile, "CERTIFICATE", der, ca.cert.Raw); err != nil {
		return CertPair{}, err
	}
	if err := writePEM(p.KeyFile, "EC PRIVATE KEY", kder); err != nil {
		return CertPair{}, err
	}
	return p, nil
}

// writePEM writes blocks of one type to path.
func writePEM(path, typ string, blocks ...[]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: b}); err != nil {
			_ = f.Close() // the encode error is the one to report
			return fmt.Errorf("labkit: %s: %w", path, err)
		}
	}
	return f.Close()
}
