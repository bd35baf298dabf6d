package labkit

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// RegisterContact registers sip:user@127.0.0.1:port as user's contact at
// k (digest auth as needed), so calls to user reach whatever listens there,
// e.g. a SIPp UAS. The binding lasts expires seconds. With a NetNS the
// contact is on the test's side of the link, at its current LocalIP.
func (k *Kamailio) RegisterContact(user, password string, port, expires int) error {
	here := Domain
	if ns := k.opts.NetNS; ns != nil {
		if here = ns.LocalIP(); here == "" {
			return fmt.Errorf("REGISTER %s: the NetNS link has no local address (RemoveLocalIP): nothing to register", user)
		}
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("labkit"))
	if err != nil {
		return err
	}
	defer func() { _ = ua.Close() }()
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname(here))
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", User: user, Host: k.host, Port: k.Port()})
	params := sip.NewParams()
	params.Add("tag", sip.GenerateTagN(8))
	aor := sip.Uri{Scheme: "sip", User: user, Host: Domain}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: params})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: here, Port: port}})
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	res, err := c.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
	}
	if err != nil {
		return fmt.Errorf("REGISTER %s at port %d: %w", user, port, err)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("REGISTER %s at port %d: %d %s", user, port, res.StatusCode, res.Reason)
	}
	return nil
}
