package phone

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"deskphone/config"
	"deskphone/config/atomic"
	"deskphone/phone/agent/relay"
	"deskphone/phone/sipua"
)

// relayClient is the relay of the config (relay.url), or nil without one.
func relayClient(cfg *config.Config) (*relay.Client, error) {
	r := cfg.Relay
	if r.URL == "" {
		return nil, nil
	}
	c, err := relay.New(relay.Options{BaseURL: r.URL, Token: r.Token, CAFile: r.CAFile, AllowHTTP: strings.HasPrefix(r.URL, "http://")})
	if err != nil {
		return nil, fmt.Errorf("relay.url: %w", err)
	}
	return c, nil
}

// Provision fills cfg.Account from the relay (account.provision: relay):
// the extension, domain, outbound proxy, transport and password the contact
// center has for this device. What it fetched is kept in account.cache,
// written atomically, so the phone boots while the relay is down; an answer
// that lacks a field is refused and the last good account is used. It is
// called once at boot, before New.
func Provision(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if cfg.Account.Provision != "relay" {
		return nil
	}
	c, err := relayClient(cfg)
	if err != nil {
		return err
	}
	path := cfg.Account.Cache
	a, ferr := c.Provision(ctx)
	if ferr == nil {
		if err := applyAccount(&cfg.Account, a); err != nil {
			ferr = err
		}
	}
	if ferr == nil {
		if err := writeCache(path, a); err != nil {
			log.Warn("cannot keep the provisioned account; the phone will need the relay at its next boot", "file", path, "error", err)
		}
		log.Info("SIP account provisioned by the relay", "extension", a.Extension, "domain", a.Domain, "proxy", a.OutboundProxy, "transport", a.Transport)
		return nil
	}
	cached, cerr := readCache(path)
	if cerr != nil {
		return fmt.Errorf("account.provision: the relay gave no account (%w) and there is no usable cached one (%w): check relay.url and the relay, or set the account in the config", ferr, cerr)
	}
	if err := applyAccount(&cfg.Account, cached); err != nil {
		return fmt.Errorf("account.cache %s: %w; delete it and fix the relay", path, err)
	}
	log.Warn("the relay gave no account; using the last one it gave", "error", ferr, "cache", path, "extension", cached.Extension)
	return nil
}

// reprovisionEvery bounds how often a 401 asks the relay again.
const reprovisionEvery = 5 * time.Second

// reprovision asks the relay for the account again after the registrar
// refused the password (401/407): the contact center may have reset it
// (ResetExtensionPassword). A new password is used at once and kept.
func (p *Phone) reprovision(ua *sipua.UA, reg *sipua.Registration) {
	p.mu.Lock()
	if p.cfg.Account.Provision != "relay" || time.Since(p.reprovAt) < reprovisionEvery {
		p.mu.Unlock()
		return
	}
	p.reprovAt = time.Now()
	p.mu.Unlock()
	c, err := relayClient(p.cfg)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := c.Provision(ctx)
	if err != nil {
		p.log.Warn("the registrar refused the password and the relay gave no new one", "error", err)
		return
	}
	if a.Extension != p.cfg.Account.User || a.Domain != p.cfg.Account.Domain {
		p.log.Warn("the relay now provisions another extension; restart the phone to use it", "extension", a.Extension, "domain", a.Domain)
		return
	}
	if a.Password == ua.Password() {
		return // the same password: it is not a reset
	}
	if err := writeCache(p.cfg.Account.Cache, a); err != nil {
		p.log.Warn("cannot keep the new password", "file", p.cfg.Account.Cache, "error", err)
	}
	p.log.Info("the contact center reset the SIP password; registering with the new one")
	ua.SetPassword(a.Password)
	reg.Retry("the SIP password was reset")
}

// applyAccount puts a provisioned account into the config's.
func applyAccount(acc *config.Account, a relay.Account) error {
	tr := strings.ToLower(a.Transport)
	if tr != "udp" && tr != "tcp" {
		return fmt.Errorf("the provisioned transport %q is not one this phone speaks (udp, tcp)", a.Transport)
	}
	proxy := a.OutboundProxy
	if _, _, err := net.SplitHostPort(proxy); err != nil {
		proxy = net.JoinHostPort(strings.Trim(proxy, "[]"), "5060")
	}
	if acc.AuthUser == "" || acc.AuthUser == acc.User {
		acc.AuthUser = a.Extension
	}
	acc.User, acc.Domain, acc.Registrar, acc.Transport, acc.Password = a.Extension, a.Domain, proxy, tr, a.Password
	return nil
}

// writeCache keeps a in path atomically (a temporary file renamed over
// it), readable by the phone's user only: it holds the SIP password.
func writeCache(path string, a relay.Account) error {
	data, err := json.MarshalIndent(a, "", "  ") //nolint:gosec // G117: the cache holds the password on purpose (0600, see above)
	if err != nil {
		return err
	}
	return atomic.WriteFile(path, append(data, '\n'), 0o600)
}

func readCache(path string) (relay.Account, error) {
	var a relay.Account
	data, err := os.ReadFile(path)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("%s is not a provisioned account: %w", path, err)
	}
	if a.Extension == "" || a.Password == "" || a.Domain == "" || a.OutboundProxy == "" || a.Transport == "" {
		return a, fmt.Errorf("%s lacks fields", path)
	}
	return a, nil
}
