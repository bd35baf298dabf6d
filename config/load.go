package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Load reads, parses and validates the config file at path. Relative paths
// inside it (password_file, token_file, sim.input) are taken relative
// to the file's directory. A config problem is returned as an *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: cannot read %w; pass the path of a phone.yaml (see config/examples/phone.yaml)", err)
	}
	c, err := parse(data, path, filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.File = path
	return c, nil
}

// Parse parses and validates a config held in data; name is the file name used
// in messages. Relative paths inside it are taken relative to the working
// directory. A config problem is returned as an *Error.
func Parse(data []byte, name string) (*Config, error) {
	return parse(data, name, "")
}

func parse(data []byte, name, dir string) (*Config, error) {
	doc, err := ReadTree(data, name)
	if err != nil {
		return nil, err
	}
	return ParseTree(doc, name, nil, dir)
}

// applyDefaults fills the defaults that depend on other values and
// normalises case.
func (d *decoder) applyDefaults(c *Config) {
	a := &c.Account
	a.Registrar = defaultSIPPort(a.Registrar)
	for i, f := range a.Failover {
		a.Failover[i] = defaultSIPPort(f)
	}
	if a.Domain == "" {
		if host, _, err := net.SplitHostPort(a.Registrar); err == nil {
			a.Domain = host
		} else if !hasPort(a.Registrar) {
			a.Domain = a.Registrar // a name left for RFC 3263
		}
	}
	if a.AuthUser == "" {
		a.AuthUser = a.User
	}
	a.Transport = strings.ToLower(a.Transport)
	for i, codec := range c.Audio.Codecs {
		c.Audio.Codecs[i] = strings.ToUpper(strings.TrimSpace(codec))
	}
}

// defaultSIPPort gives an IP address without a port SIP's 5060. A host
// name alone stays as it is: the phone looks up its NAPTR and SRV records
// (RFC 3263), which name the port.
func defaultSIPPort(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !hasPort(s) && net.ParseIP(strings.Trim(s, "[]")) != nil {
		return net.JoinHostPort(strings.Trim(s, "[]"), "5060")
	}
	return s
}

// hasPort reports whether s looks like host:port rather than a bare host or
// IPv6 address. Malformed values count as having a port so that validation
// reports them as written.
func hasPort(s string) bool {
	if strings.HasPrefix(s, "[") {
		return !strings.HasSuffix(s, "]")
	}
	if strings.Count(s, ":") > 1 && net.ParseIP(s) != nil {
		return false // bare IPv6
	}
	return strings.Contains(s, ":")
}

// resolvePath makes a relative path relative to dir (the config file's
// directory); dir "" leaves it relative to the working directory.
func resolvePath(dir, p string) string {
	if dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
