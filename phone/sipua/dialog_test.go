package sipua

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// In-dialog requests leave from the phone's SIP socket, so a far end that
// answers to the source address (as SIPp does) reaches the transaction.
func TestInDialogRequestsLeaveFromTheSIPSocket(t *testing.T) {
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	u, err := New(Config{Registrar: peer.LocalAddr().String(), Domain: "127.0.0.1", User: "1001",
		Transport: "udp", Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	pport := peer.LocalAddr().(*net.UDPAddr).Port
	d := &dialog{u: u, callID: "c1", localTag: "l1", remoteTag: "r1", transport: "UDP",
		local: sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1"}, remote: sip.Uri{Scheme: "sip", User: "2", Host: "127.0.0.1"},
		target: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: pport}, done: make(chan struct{})}
	d.key = dialogKey(d.callID, d.localTag, d.remoteTag)
	u.addDialog(d)

	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		errc <- d.Ping(ctx)
	}()
	buf := make([]byte, 4096)
	_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := from.(*net.UDPAddr).Port; got != u.Port() {
		t.Errorf("OPTIONS came from port %d, want the SIP socket's %d", got, u.Port())
	}
	// Answer to the source address, as SIPp does.
	req := string(buf[:n])
	var via, cseq string
	for _, l := range strings.Split(req, "\r\n") {
		switch {
		case strings.HasPrefix(l, "Via:"):
			via = l
		case strings.HasPrefix(l, "CSeq:"):
			cseq = l
		}
	}
	res := "SIP/2.0 200 OK\r\n" + via + "\r\nFrom: <sip:1001@127.0.0.1>;tag=l1\r\nTo: <sip:2@127.0.0.1>;tag=r1\r\nCall-ID: c1\r\n" + cseq + "\r\nContent-Length: 0\r\n\r\n"
	if _, err := peer.WriteTo([]byte(res), from); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Ping: %v (the 200 sent to the request's source was not seen)", err)
	}
}
