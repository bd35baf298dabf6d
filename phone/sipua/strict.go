package sipua

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// singleValued are the headers RFC 3261 allows once: a request that
// carries one twice is ambiguous (which Call-ID? which CSeq?) and is
// refused, not guessed at (RFC 4475 §3.3.9 multi01, §3.1.2.3 mcl01).
var singleValued = []string{"Call-ID", "To", "From", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// supportedExtensions are the option tags the phone implements
// (Supported: replaces, timer).
var supportedExtensions = map[string]bool{"replaces": true, "timer": true}

// strictCheck is the RFC 3261 §8.2 checks sipgo leaves to the UA, done
// once for every request before any handler: a response that refuses
// req, or nil when it may go on. RFC 4475's torture messages exercise
// each: unkscm (416), bext01 (420), multi01 and mcl01 (400), sdp01 (406).
func strictCheck(req *sip.Request) *sip.Response {
	for _, h := range singleValued {
		if len(req.GetHeaders(h)) > 1 {
			return sip.NewResponseFromRequest(req, 400, "Multiple "+h+" Headers", nil)
		}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default: // §8.2.2.1
		return sip.NewResponseFromRequest(req, 416, "Unsupported URI Scheme", nil)
	}
	if req.Method != sip.CANCEL && req.Method != sip.ACK { // §8.2.2.3: never for CANCEL or ACK
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !supportedExtensions[strings.ToLower(tag)] {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			res := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
			res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
			return res
		}
	}
	if req.Method == sip.INVITE && !acceptsSDP(req) { // §8.2.3: our answer is SDP
		res := sip.NewResponseFromRequest(req, 406, "Not Acceptable", nil)
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		return res
	}
	return nil
}

// acceptsSDP reports whether req's Accept headers (if any) allow an SDP
// answer.
func acceptsSDP(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true // no Accept: application/sdp is assumed (§20.1)
	}
	for _, h := range hs {
		for _, t := range strings.Split(h.Value(), ",") {
			t, _, _ = strings.Cut(strings.TrimSpace(t), ";")
			switch strings.ToLower(strings.TrimSpace(t)) {
			case "application/sdp", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}
