package config

import (
	"os"
	"strings"
)

// readSecrets checks that each secret is given exactly once and reads the
// ones kept in files.
func (d *decoder) readSecrets(c *Config, dir string) {
	a := &c.Account
	switch {
	case a.Password != "" && a.PasswordFile != "":
		d.add("account.password_file", "both account.password and account.password_file are set; keep only one")
	case a.Password == "" && a.PasswordFile == "" && a.Provision == "relay":
		// the relay gives it
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

	r := &c.Relay
	switch {
	case r.Token != "" && r.TokenFile != "":
		d.add("relay.token_file", "both relay.token and relay.token_file are set; keep only one")
	case r.TokenFile != "":
		r.TokenFile = resolvePath(dir, r.TokenFile)
		r.Token = d.readSecret("relay.token_file", r.TokenFile, "the relay token", "relay.token")
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
