package config

import (
	"errors"
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

	d.tokenOrFile("relay", &c.Relay.Token, &c.Relay.TokenFile, "the relay token", dir)
	d.tokenOrFile("api", &c.API.Token, &c.API.TokenFile, "the API token", dir)
}

// tokenOrFile checks that section's token is given at most once, inline or
// in a file, and reads the file.
func (d *decoder) tokenOrFile(section string, token, file *string, what, dir string) {
	switch {
	case *token != "" && *file != "":
		d.add(section+".token_file", "both %s.token and %s.token_file are set; keep only one", section, section)
	case *file != "":
		*file = resolvePath(dir, *file)
		*token = d.readSecret(section+".token_file", *file, what, section+".token")
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
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
