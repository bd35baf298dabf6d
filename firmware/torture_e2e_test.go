package main

// RFC 4475's torture messages (phone/sipua/testdata/rfc4475) sent one by
// one to a registered phone, from 127.0.0.1, the registrar's address, so
// the trusted-peer filter lets them reach the SIP handlers. After each the
// phone must still answer an OPTIONS; a message that rang the phone is
// rejected through the API. At the end it is still registered and calls
// baresip. The answers are logged as a table (go test -v).

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
)

// tortureInvalid are RFC 4475 §3.1.2's syntactically invalid messages:
// the answer is 400 (505 for badvers) or silence, never a 2xx.
var tortureInvalid = map[string]bool{
	"badaspec": true, "baddate": true, "baddn": true, "badinv01": true, "badvers": true, "bigcode": true,
	"clerr": true, "escruri": true, "ltgtruri": true, "lwsruri": true, "lwsstart": true, "mismatch01": true,
	"mismatch02": true, "ncl": true, "quotbal": true, "regbadct": true, "scalar02": true, "scalarlg": true, "trws": true,
}

// tortureLiberal are the §3.1.2 messages the RFC lets an element accept:
// baddate (a non-GMT Date, "acceptable to reject", but it need not matter)
// and escruri (escaped headers in the Request-URI, which an element may
// ignore). The phone rings for both; that is allowed.
var tortureLiberal = map[string]bool{"baddate": true, "escruri": true}

// tortureCrashers crash the phone and are not sent, so that the rest of
// this package's tests still run; the test fails while any is listed.
// (insuf, an INVITE without To, From and Call-ID, was one until sipua
// answered such requests 400 before any handler.)
var tortureCrashers = map[string]string{}

var callIDHeader = regexp.MustCompile(`(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)`)

var viaPort = regexp.MustCompile(`(?im)^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*UDP[ \t]+[^;:\s]+(?::(\d+))?`)

func TestRFC4475Torture(t *testing.T) {
	files, err := filepath.Glob("../phone/sipua/testdata/rfc4475/*.dat")
	if err != nil || len(files) != 49 {
		t.Fatalf("want RFC 4475's 49 messages in phone/sipua/testdata/rfc4475, found %d (%v)", len(files), err)
	}
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	sip := u.d.phone.SIPAddr()
	phoneAddr, err := net.ResolveUDPAddr("udp4", sip)
	if err != nil {
		t.Fatal(err)
	}

	var table []string
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".dat")
		if why, ok := tortureCrashers[name]; ok {
			t.Errorf("%s: not sent, it crashes the phone: %s", name, why)
			table = append(table, fmt.Sprintf("%-10s not sent (crashes the phone)", name))
			continue
		}
		msg, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		answers := u.sendTorture(t, name, msg, phoneAddr)
		table = append(table, fmt.Sprintf("%-10s %s", name, strings.Join(answers, ", ")))
		if tortureInvalid[name] && !tortureLiberal[name] {
			for _, a := range answers {
				code, _ := strconv.Atoi(a)
				if code >= 200 && code < 300 || code == 180 || code == 183 {
					t.Errorf("%s (RFC 4475 §3.1.2, invalid) was accepted: %s", name, a)
				}
			}
		}
		u.probe(t, name, phoneAddr)
	}
	t.Logf("RFC 4475 message → the phone's answers (none = silence):\n%s", strings.Join(table, "\n"))

	// Still registered, and still calls.
	if st := u.must("GET", "/v1/state", nil); field(st["registration"], "state") != "registered" {
		t.Fatalf("after the torture messages the registration is %v", st["registration"])
	}
	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip did not see the BYE: %v", err)
	}
}

// sendTorture sends msg from the port its top Via names (responses go to
// the source address and the Via port), rejects a call it started, and
// returns the status codes answered, in order.
func (u *dut) sendTorture(t *testing.T, name string, msg []byte, to *net.UDPAddr) []string {
	t.Helper()
	port := 5060
	if m := viaPort.FindSubmatch(msg); len(m) == 2 && len(m[1]) > 0 {
		port, _ = strconv.Atoi(string(m[1]))
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Logf("%s: cannot listen on the Via port %d (%v); answers are not collected", name, port, err)
		if c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	defer c.Close()
	if _, err := c.WriteToUDP(msg, to); err != nil {
		t.Fatalf("%s: sending: %v", name, err)
	}
	var codes []string
	buf := make([]byte, 1<<16)
	// Answers come within a second, or not at all; a ringing call is
	// rejected and its final answer awaited for another 3 s.
	deadline := time.Now().Add(time.Second)
	rejected := false
	for {
		_ = c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err == nil {
			// Only answers to this message: an earlier INVITE's final
			// answer is retransmitted (nobody ACKs) to the same port.
			if want := callIDHeader.FindSubmatch(msg); len(want) == 2 {
				if got := callIDHeader.FindSubmatch(buf[:n]); len(got) != 2 || string(got[1]) != string(want[1]) {
					continue
				}
			}
			if code := statusOf(buf[:n]); code != "" {
				codes = append(codes, code)
				if code[0] >= '2' && code != "100" && code != "180" && code != "183" {
					deadline = time.Now().Add(300 * time.Millisecond) // retransmissions, if any
				}
			}
			continue
		}
		if id := u.takeNewSession(); id != "" && !rejected {
			rejected = true
			// It may have ended already (the message's own CANCEL or BYE,
			// or a transaction that died): then there is nothing to reject.
			if st, _ := u.do("POST", "/v1/reject", map[string]string{"sessionId": id}); st == 200 {
				codes = append(codes, "(rang: rejected)")
			} else {
				codes = append(codes, "(rang: ended by itself)")
			}
			u.waitEvent(event.Ended, 5*time.Second, sessionIs(id))
			deadline = time.Now().Add(3 * time.Second)
			continue
		}
		break
	}
	if len(codes) == 0 {
		return []string{"none"}
	}
	return codes
}

// statusOf is the status code of a response datagram, "" for anything else.
func statusOf(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return ""
	}
	return f[1]
}

// takeNewSession consumes an onNewSession not yet seen, if any, and
// returns its session id.
func (u *dut) takeNewSession() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, e := range u.events {
		if !u.used[i] && e.Name == event.NewSession {
			u.used[i] = true
			id, _ := field(e.Data, "sessionId").(string)
			return id
		}
	}
	return ""
}

// probe checks the phone still answers an OPTIONS after a message.
func (u *dut) probe(t *testing.T, after string, to *net.UDPAddr) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	branch := "z9hG4bKprobe-" + after
	req := "OPTIONS sip:1001@" + to.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\nTo: <sip:1001@127.0.0.1>\r\nFrom: <sip:probe@127.0.0.1>;tag=probe\r\nCall-ID: probe-" + after + "\r\n" +
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.WriteToUDP([]byte(req), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %s the phone no longer answers OPTIONS: %v", after, err)
		}
		if statusOf(buf[:n]) == "200" && strings.Contains(string(buf[:n]), branch) {
			return
		}
	}
}
