// Package wirefuzz fuzzes a whole SIP user agent (phone/sipua on sipgo) at
// its UDP socket: any datagram, then an OPTIONS that must still be
// answered. It is its own package so that a crash (a panic in one of
// sipgo's handler goroutines ends the process) fails only this package's
// tests, with the datagram that caused it, not all of sipua's.
package wirefuzz

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskphone/phone/sipua"
)

// wait is how long the UA has to answer the probe after a datagram.
const wait = 3 * time.Second

// FuzzUAReceive sends one datagram to a live UA, from the registrar's
// address (trusted, so it reaches the handlers), then checks the UA still
// answers an OPTIONS: no crash, no blocked socket.
func FuzzUAReceive(f *testing.F) {
	files, err := filepath.Glob("../testdata/rfc4475/*.dat")
	if err != nil || len(files) == 0 {
		f.Fatalf("no RFC 4475 messages in ../testdata/rfc4475 (%v)", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\r\n\r\n"))
	// Without To (like RFC 4475's insuf): sipgo parses them and hands them
	// to the handlers, which read the To tag first.
	f.Add([]byte("INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("BYE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKz\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"))

	// The UA's registrar is a socket nobody answers on: the UA trusts its
	// address (127.0.0.1) and nothing here needs a registration.
	reg, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = reg.Close() })
	ua, err := sipua.New(sipua.Config{Registrar: reg.LocalAddr().String(), Domain: "127.0.0.1", User: "1001", Password: "pw",
		Transport: "udp", Listen: "127.0.0.1:0", Expires: 300, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ua.Close() })
	// Nobody takes calls: INVITEs that get through are refused by the UA.
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = peer.Close() })
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ua.Port()}
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 65000 {
			return // not one UDP datagram
		}
		if _, err := peer.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
		branch := fmt.Sprintf("z9hG4bKprobe%d", n.Add(1))
		probe := "OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + peer.LocalAddr().String() + ";branch=" + branch + "\r\n" +
			"Max-Forwards: 70\r\nTo: <sip:1001@127.0.0.1>\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\n" +
			"Call-ID: " + branch + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		if _, err := peer.WriteToUDP([]byte(probe), to); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<16)
		deadline := time.Now().Add(wait)
		for {
			_ = peer.SetReadDeadline(deadline)
			k, _, err := peer.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("the UA did not answer an OPTIONS within %v after the datagram: %v", wait, err)
			}
			if strings.HasPrefix(string(buf[:k]), "SIP/2.0 200") && strings.Contains(string(buf[:k]), branch) {
				return
			}
			// anything else answers the fuzzed datagram (or an earlier one)
		}
	})
}
