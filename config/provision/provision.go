// Package provision fetches the phone's configuration from a provisioning
// server, as commercial desk phones do, and merges it over the local file.
//
// The server is provisioning.url, or else the URL (or host, meaning
// https://HOST/) that the DHCP client's hook wrote from option 66 into
// provisioning.dhcp_file. From it the phone fetches <url>/<mac>.yaml (the MAC
// of the interface that routes to the server, or provisioning.mac: 12
// lower-case hex digits) and, if the server answers 404, <url>/deskphone.yaml.
// Only https with a verified certificate (the system's CAs plus
// provisioning.ca_file) is used; http only to a loopback host.
//
// The merge rule: the provisioned file's keys override the local file's, key
// by key at the leaf level (a value or a whole list); sections merge key by
// key, and keys the local file lacks are added. Not taken from the server:
// anything under provisioning:, and every key the local file lists in
// provisioning.keep_local (a section keeps all its keys; account.password
// also keeps account.password_file, and the other way round, likewise
// tokens). The merged tree is then decoded and validated by the config
// package, so each problem names the file and line its value came from: the
// local path, or the provisioned file's URL.
//
// An accepted file is stored in provisioning.store (atomically, 0600) and
// used at boot when the server cannot be reached, or sends a file that is
// refused (bad YAML, unknown key, bad value, over 256 KiB): the previous
// configuration stays. With neither, the local file alone is used.
package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"gopkg.in/yaml.v3"

	"deskphone/config"
)

// Load is config.Load with provisioning: it reads the local file at path
// and, when it (or DHCP) names a provisioning server, fetches and merges
// the provisioned file, falling back to the stored one and then to the
// local file alone. Only a broken local file, or no usable configuration
// at all, is an error.
func Load(ctx context.Context, path string, log *slog.Logger) (*config.Config, error) {
	l, err := readLocal(path)
	if err != nil {
		return nil, err
	}
	if l.base == "" && l.dhcpErr == nil {
		return config.Load(path) // provisioning is off
	}
	why := l.dhcpErr
	if why == nil {
		var cfg *config.Config
		if cfg, why = fetchAndBuild(ctx, l, log); why == nil {
			return cfg, nil
		}
	}
	if data, err := os.ReadFile(l.prov.Store); err == nil {
		cfg, _, err := l.build(data, l.prov.Store)
		if err == nil {
			log.Warn("using the stored provisioned configuration", "file", l.prov.Store, "because", why.Error())
			return cfg, nil
		}
		log.Error("the stored provisioned configuration is not usable", "file", l.prov.Store, "problems", err.Error())
	}
	cfg, err := config.Load(path)
	if err != nil {
		// why is text: err, the local file's problems, is the one config.Error a caller may look for.
		return nil, fmt.Errorf("provisioning failed (%v), nothing usable is stored in %s, and the local file alone is not a complete configuration:\n%w", why, l.prov.Store, err) //nolint:errorlint // see above
	}
	log.Warn("using the local configuration alone", "because", why.Error())
	return cfg, nil
}

// fetchAndBuild fetches the provisioned file, merges and validates it, and
// stores it when it is accepted.
func fetchAndBuild(ctx context.Context, l *local, log *slog.Logger) (*config.Config, error) {
	data, name, err := fetch(ctx, l, log)
	if err != nil {
		return nil, err
	}
	cfg, ignored, err := l.build(data, name)
	if err != nil {
		log.Error("provisioned configuration refused; keeping the previous one", "from", name, "problems", err.Error())
		return nil, err
	}
	logIgnored(log, name, ignored)
	if _, err := storeNew(l.prov.Store, data); err != nil {
		log.Warn("cannot keep the provisioned configuration; the phone will need the server at its next boot", "file", l.prov.Store, "error", err)
	}
	log.Info("configuration provisioned", "from", name)
	return cfg, nil
}

// local is the local config file as read for one fetch: the merge changes
// its tree, so every fetch parses it again.
type local struct {
	path    string
	data    []byte
	prov    config.Provisioning
	base    string // the server's base URL, "" = provisioning off
	dhcpErr error  // option 66 was given but is no usable URL
}

func readLocal(path string) (*local, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: cannot read %w; pass the path of a phone.yaml (see config/examples/phone.yaml)", err)
	}
	doc, err := config.ReadTree(data, path)
	if err != nil {
		return nil, err
	}
	prov, err := config.ReadProvisioning(doc, path, filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	l := &local{path: path, data: data, prov: prov}
	if prov.URL != "" {
		l.base, _ = config.ProvisioningBase(prov.URL) // checked by ReadProvisioning
		return l, nil
	}
	if prov.DHCPFile == "" {
		return l, nil
	}
	opt, err := os.ReadFile(prov.DHCPFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		l.dhcpErr = fmt.Errorf("provisioning.dhcp_file: %w", err)
	case len(bytes.TrimSpace(opt)) > 0:
		if l.base, err = config.ProvisioningBase(string(opt)); err != nil {
			l.dhcpErr = fmt.Errorf("DHCP option 66 in %s: %w", prov.DHCPFile, err)
		}
	}
	return l, nil
}

// build merges the provisioned data (named name in messages) over the local
// file and validates the result.
func (l *local) build(data []byte, name string) (*config.Config, []string, error) {
	ltree, err := config.ReadTree(l.data, l.path)
	if err != nil {
		return nil, nil, err
	}
	ptree, err := config.ReadTree(data, name)
	if err != nil {
		return nil, nil, err
	}
	if ptree != nil && config.Resolve(ptree).Kind != 0 && config.Resolve(ptree).Kind != yaml.MappingNode {
		_, err := config.ParseTree(ptree, name, nil, "") // says what the document should be
		return nil, nil, err
	}
	m := newMerger(l.prov.KeepLocal, name)
	cfg, err := config.ParseTree(m.merge(ltree, ptree), l.path, m.origins, filepath.Dir(l.path))
	if err != nil {
		return nil, nil, err
	}
	cfg.File = l.path
	return cfg, m.ignored, nil
}

func logIgnored(log *slog.Logger, from string, ignored []string) {
	for _, k := range ignored {
		log.Info("provisioned key not applied", "from", from, "key", k)
	}
}

// Provisioner fetches the configuration again on demand (POST
// /v1/provision) for a phone running cfg.
type Provisioner struct {
	path    string
	running string // fingerprint of the running configuration
	log     *slog.Logger
	mu      sync.Mutex // one fetch at a time: two would race on the store
}

// New returns the Provisioner for a phone running cfg, before anything
// changes cfg (e.g. account.provision: relay).
func New(cfg *config.Config, log *slog.Logger) *Provisioner {
	return &Provisioner{path: cfg.File, running: fingerprint(cfg), log: log}
}

// fingerprint is a configuration's every value, to tell whether a new one
// differs (Config holds only strings, numbers, bools and string lists).
func fingerprint(c *config.Config) string { return fmt.Sprintf("%#v", *c) }

// Result is the outcome of a fetch on demand.
type Result struct {
	Source  string   `json:"source"`            // the provisioned file's URL
	Changed bool     `json:"changed"`           // the configuration differs from the running one
	Stored  bool     `json:"stored"`            // the file differed from the stored one and replaced it
	Applies string   `json:"applies"`           // when a change takes effect
	Ignored []string `json:"ignored,omitempty"` // provisioned keys not applied, and why
}

// Errors of Fetch, told apart by the control API.
var (
	ErrNotConfigured = errors.New("provisioning is not configured")
	ErrUnreachable   = errors.New("the provisioning server cannot be reached")
)

// Fetch fetches and validates the provisioned file now and stores it when
// it is accepted and new; it applies at the next restart. A refused file
// is a *config.Error, and the stored file stays.
func (p *Provisioner) Fetch(ctx context.Context) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.path == "" {
		return Result{}, fmt.Errorf("%w: the phone was started without a config file", ErrNotConfigured)
	}
	l, err := readLocal(p.path)
	if err != nil {
		return Result{}, err
	}
	switch {
	case l.dhcpErr != nil:
		return Result{}, fmt.Errorf("%w: %w", ErrNotConfigured, l.dhcpErr)
	case l.base == "":
		return Result{}, fmt.Errorf("%w: set provisioning.url in %s, or have the DHCP client's hook write option 66 to %s", ErrNotConfigured, p.path, l.prov.DHCPFile)
	}
	data, name, err := fetch(ctx, l, p.log)
	if err != nil {
		return Result{}, err
	}
	cfg, ignored, err := l.build(data, name)
	if err != nil {
		p.log.Error("provisioned configuration refused; keeping the previous one", "from", name, "problems", err.Error())
		return Result{}, err
	}
	logIgnored(p.log, name, ignored)
	r := Result{Source: name, Changed: fingerprint(cfg) != p.running, Applies: "at the next restart", Ignored: ignored}
	if r.Stored, err = storeNew(l.prov.Store, data); err != nil {
		return Result{}, fmt.Errorf("the provisioned configuration is valid but cannot be kept: %w", err)
	}
	p.log.Info("configuration provisioned on demand", "from", name, "changed", r.Changed, "stored", r.Stored)
	return r, nil
}

// Check validates the local file at path as the phone would run it without
// fetching: merged with the stored provisioned file when provisioning is on
// and one is stored, else alone. For editors of the local file (a file that
// leaves the password to the server is complete only with it).
func Check(path string) (*config.Config, error) {
	l, err := readLocal(path)
	if err != nil {
		return nil, err
	}
	if l.base != "" || l.dhcpErr != nil {
		if data, err := os.ReadFile(l.prov.Store); err == nil {
			cfg, _, err := l.build(data, l.prov.Store)
			return cfg, err
		}
	}
	return config.Load(path)
}
