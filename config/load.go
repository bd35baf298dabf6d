package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, parses and validates the config file at path. Relative paths
// inside it (password_file, token_file, audio.sim.input) are taken relative
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

// yaml.v3 reports syntax errors as "yaml: line N: what".
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parse(data []byte, name, dir string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p := Problem{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		}
		if strings.Contains(p.Msg, "tab character") {
			if l := firstTabIndent(data); l > 0 {
				p.Line = l // yaml.v3 reports the line before
			}
		}
		p.Msg = "YAML syntax error: " + p.Msg + "; check indentation (spaces, not tabs), colons and quotes on this line or the next"
		return nil, &Error{Problems: []Problem{p}}
	}
	var doc *yaml.Node
	if len(root.Content) > 0 {
		doc = root.Content[0]
	}

	d := newDecoder(name)
	c := Default()
	d.decodeStruct(doc, reflect.ValueOf(c).Elem(), "")
	d.applyDefaults(c)
	d.readSecrets(c, dir)
	d.validate(c, dir)

	if len(d.problems) > 0 {
		slices.SortStableFunc(d.problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{Problems: d.problems}
	}
	return c, nil
}

// firstTabIndent returns the 1-based number of the first line indented with a
// tab, or 0.
func firstTabIndent(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") {
			return i + 1
		}
	}
	return 0
}

// applyDefaults fills the defaults that depend on other values and
// normalises case.
func (d *decoder) applyDefaults(c *Config) {
	a := &c.Account
	a.Registrar = strings.TrimSpace(a.Registrar)
	if a.Registrar != "" && !hasPort(a.Registrar) {
		a.Registrar = net.JoinHostPort(strings.Trim(a.Registrar, "[]"), "5060")
	}
	if a.Domain == "" {
		if host, _, err := net.SplitHostPort(a.Registrar); err == nil {
			a.Domain = host
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

// readSecrets checks that each secret is given exactly once and reads the
// ones kept in files.
func (d *decoder) readSecrets(c *Config, dir string) {
	a := &c.Account
	switch {
	case a.Password != "" && a.PasswordFile != "":
		d.add("account.password_file", "both account.password and account.password_file are set; keep only one")
	case a.Password == "" && a.PasswordFile == "":
		if d.present("account.password") {
			d.add("account.password", "is empty; set the SIP password here or use account.password_file")
		} else {
			d.add("account.password", "missing; add password: (or password_file: PATH) under account:")
		}
	case a.PasswordFile != "":
		a.PasswordFile = resolvePath(dir, a.PasswordFile)
		a.Password = d.readSecret("account.password_file", a.PasswordFile, "the SIP password", "account.password")
	}

	api := &c.API
	switch {
	case api.Token != "" && api.TokenFile != "":
		d.add("api.token_file", "both api.token and api.token_file are set; keep only one")
	case api.TokenFile != "":
		api.TokenFile = resolvePath(dir, api.TokenFile)
		api.Token = d.readSecret("api.token_file", api.TokenFile, "the API token", "api.token")
	}
}

// readSecret reads a one-line secret file, trimming the trailing newline.
func (d *decoder) readSecret(key, path, what, inline string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		d.add(key, "cannot read %s (%v); create it holding %s on one line, or set %s instead", path, unwrapPath(err), what, inline)
		return ""
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		d.add(key, "%s is empty; write %s into it", path, what)
	}
	return s
}

// unwrapPath drops the path from an *os.PathError, which the message already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// resolvePath makes a relative path relative to dir (the config file's
// directory); dir "" leaves it relative to the working directory.
func resolvePath(dir, p string) string {
	if dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
