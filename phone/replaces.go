package phone

import (
	"strings"

	"deskphone/phone/media"
	"deskphone/phone/signal"
)

// replaceCall takes an INVITE with Replaces (RFC 3891): the far end of an
// attended transfer swaps one of our calls for itself. The new call is
// answered at once and the replaced one ends. It reports false when the
// INVITE replaces nothing of ours.
func (p *Phone) replaceCall(in signal.Incoming, _ *media.Description) bool {
	want := parseReplaces(in.Replaces())
	if want.callID == "" {
		return false
	}
	var old *Session
	for _, s := range p.sessionList() {
		s.mu.Lock()
		d := s.dlg
		s.mu.Unlock()
		if d != nil && parseReplaces(d.ReplacesParam()).same(want) {
			old = s
			break
		}
	}
	if old == nil {
		in.Reject(481, "Call/Transaction Does Not Exist")
		return true
	}
	old.mu.Lock()
	d := old.dlg
	old.mu.Unlock()
	if old.finish(EndLocalBye, "replaced by a transferred call", 0) {
		old.bye(d)
	}
	p.onIncoming(stripReplaces{in})
	if s, err := p.session("", StateRinging); err == nil && s.Direction == CallIn && s.State() == StateRinging {
		_ = p.Answer(s.ID)
	}
	return true
}

// stripReplaces hides the Replaces header once it has been acted on.
type stripReplaces struct{ signal.Incoming }

func (stripReplaces) Replaces() string { return "" }

type replacesID struct{ callID, a, b string }

// parseReplaces reads "call-id;to-tag=A;from-tag=B". The tags are compared
// as a pair, whichever side names them.
func parseReplaces(v string) replacesID {
	parts := strings.Split(v, ";")
	r := replacesID{callID: strings.TrimSpace(parts[0])}
	for _, kv := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.a = val
		case "from-tag":
			r.b = val
		}
	}
	return r
}

func (r replacesID) same(o replacesID) bool {
	return r.callID == o.callID && ((r.a == o.a && r.b == o.b) || (r.a == o.b && r.b == o.a))
}
