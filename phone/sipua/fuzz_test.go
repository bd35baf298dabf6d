package sipua

// Fuzz targets for the SIP bytes the phone parses: sipgo's message parser
// and, on what it accepts, the header and body readers the handlers use.
// The live socket (a whole UA receiving datagrams) is fuzzed in
// phone/sipua/wirefuzz. FuzzParseReginfo is in reginfo_test.go.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// addTorture seeds f with RFC 4475's messages (testdata/rfc4475).
func addTorture(f *testing.F) {
	files, err := filepath.Glob("testdata/rfc4475/*.dat")
	if err != nil || len(files) == 0 {
		f.Fatalf("no RFC 4475 messages in testdata/rfc4475 (%v)", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzSIPMessage parses one datagram as sipgo's UDP transport does, then
// reads it as the phone's handlers would: dialog key, INFO digit, sipfrag,
// Refer-To, Session-Expires, Replaces, and the response built from it.
func FuzzSIPMessage(f *testing.F) {
	addTorture(f)
	f.Add([]byte("INFO sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nTo: <sip:1001@x>;tag=a\r\nFrom: <sip:1002@x>;tag=b\r\nCall-ID: c\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n"))
	f.Add([]byte("REFER sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2\r\nTo: <sip:1001@x>;tag=a\r\nFrom: <sip:1002@x>;tag=b\r\nCall-ID: c\r\nCSeq: 3 REFER\r\nRefer-To: <sip:1003@x?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\nSession-Expires: 90;refresher=uac\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("NOTIFY sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3\r\nTo: <sip:1001@x>;tag=a\r\nFrom: <sip:1002@x>;tag=b\r\nCall-ID: c\r\nCSeq: 4 NOTIFY\r\nEvent: refer\r\nContent-Type: message/sipfrag\r\nContent-Length: 14\r\n\r\nSIP/2.0 200 OK"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sip.ParseMessage(b)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		_ = keyOfRequest(req)
		if d, ok := parseInfoDTMF(req); ok && !strings.ContainsRune("0123456789*#ABCD", d) {
			t.Fatalf("INFO digit %q", d)
		}
		if code, _, ok := parseSipfrag(req.Body()); ok && code < 0 {
			t.Logf("sipfrag status %d", code) // odd but harmless: the phone only shows it
		}
		if h := req.GetHeader("Refer-To"); h != nil {
			if target, _ := parseReferTo(h.Value()); target != "" && !strings.HasPrefix(target, "sip") {
				t.Fatalf("Refer-To target %q is not a SIP URI", target)
			}
		}
		if h := req.GetHeader("Session-Expires"); h != nil {
			_, _ = parseSessionExpires(h.Value())
		}
		// The handlers answer every request they accept; building the
		// response must not fail on what the parser let through (the
		// transaction layer first requires Via and CSeq).
		if req.Via() != nil && req.CSeq() != nil {
			res := sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
			_ = res.String()
		}
	})
}

// FuzzReferTo reads a Refer-To value: a target is a sip: or sips: URI, and
// a Replaces comes only with one.
func FuzzReferTo(f *testing.F) {
	f.Add("<sip:1003@pbx?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>")
	f.Add("sips:x@y?a=b&Replaces=%zz")
	f.Add(`"Name" <tel:+15551234>`)
	f.Add("<sip:a@b")
	f.Fuzz(func(t *testing.T, v string) {
		target, replaces := parseReferTo(v)
		if target == "" && replaces != "" {
			t.Fatalf("Replaces %q without a target", replaces)
		}
		if target != "" && !strings.HasPrefix(target, "sip:") && !strings.HasPrefix(target, "sips:") {
			t.Fatalf("target %q", target)
		}
	})
}

// FuzzInfoDTMF reads INFO bodies of any content type: a digit, when there
// is one, is one of the sixteen DTMF keys.
func FuzzInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")
	f.Add("application/dtmf-relay", "Signal= 10\nDuration=100")
	f.Add("application/dtmf", "#")
	f.Add("Application/DTMF-Relay;x=y", "signal=d")
	f.Add("text/plain", "Signal=1")
	f.Fuzz(func(t *testing.T, ct, body string) {
		req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1"})
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
		req.SetBody([]byte(body))
		d, ok := parseInfoDTMF(req)
		if ok && !strings.ContainsRune("0123456789*#ABCD", d) {
			t.Fatalf("digit %q from %q %q", d, ct, body)
		}
	})
}
