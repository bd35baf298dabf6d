package sipua

import "github.com/emiago/sipgo/sip"

// Contact is the URI this UA puts in Contact (and registers): user, host,
// port and, over TCP, transport=tcp. A copy: changing it changes nothing.
func (u *UA) Contact() sip.Uri { return *u.local.Load().contact.Address.Clone() }
