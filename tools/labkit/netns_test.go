package labkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newTestNetNS is NewNetNS closed when t ends (after the peers started in
// it, which t.Cleanup stops first: cleanups run last-registered first).
func newTestNetNS(t *testing.T) *NetNS {
	t.Helper()
	ns, err := NewNetNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Error(err)
		}
	})
	return ns
}

func startNetNSKamailio(t *testing.T, ns *NetNS, users map[string]string) *Kamailio {
	t.Helper()
	k, err := StartKamailio(KamailioOptions{Dir: filepath.Join(t.TempDir(), "kamailio"), Users: users, NetNS: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Error(err)
		}
	})
	return k
}

func startNetNSBaresip(t *testing.T, ns *NetNS, k *Kamailio, user, answer string) *Baresip {
	t.Helper()
	b, err := StartBaresip(BaresipOptions{Dir: filepath.Join(t.TempDir(), "baresip-"+user), User: user,
		Password: "pw" + user, Registrar: k.Addr(), AnswerMode: answer, Codecs: "PCMU", NetNS: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// optionsFrom sends OPTIONS to dst from a UDP socket bound to local (an
// address of the test's namespace) until one is answered or timeout ends.
func optionsFrom(local, dst string, timeout time.Duration) error {
	conn, err := net.ListenPacket("udp4", net.JoinHostPort(local, "0"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	to, err := net.ResolveUDPAddr("udp4", dst)
	if err != nil {
		return err
	}
	buf := make([]byte, 4096)
	deadline := time.Now().Add(timeout)
	for i := 0; time.Now().Before(deadline); i++ {
		probe := "OPTIONS sip:" + dst + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + conn.LocalAddr().String() + ";branch=z9hG4bK-nstest-" + strconv.Itoa(i) + ";rport\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:probe@" + Domain + ">;tag=nstest\r\nTo: <sip:" + dst + ">\r\n" +
			"Call-ID: nstest-" + conn.LocalAddr().String() + "\r\nCSeq: " + strconv.Itoa(i+1) + " OPTIONS\r\n" +
			"Content-Length: 0\r\n\r\n"
		if _, err := conn.WriteTo([]byte(probe), to); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := conn.ReadFrom(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return nil
		}
	}
	return fmt.Errorf("OPTIONS from %s to %s: no 200 within %v", local, dst, timeout)
}

// linkAddrs returns the IPv4 addresses on the test's side of the link.
func linkAddrs(ns *NetNS) ([]string, error) {
	ifc, err := net.InterfaceByName(ns.Link())
	if err != nil {
		return nil, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			out = append(out, ipn.IP.String())
		}
	}
	return out, nil
}

// waitFor polls cond until it returns nil or timeout ends, and returns
// its last error.
func waitFor(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The peers run in the namespace; a baresip calls another through
// Kamailio there; the test's side of the link reaches Kamailio, and a UAS
// on it gets an INVITE whose SDP names the namespace's address.
func TestNetNSPeersCallInside(t *testing.T) {
	Require(t)
	ns := newTestNetNS(t)
	if !InIsolatedNetwork() {
		t.Fatalf("InIsolatedNetwork() = false with %s up: the kit's own links must not count", ns.Link())
	}
	if !strings.HasPrefix(ns.Link(), "dplab") || ns.LocalIP() == "" || ns.PeerIP() == "" {
		t.Fatalf("link %q, local %q, peer %q", ns.Link(), ns.LocalIP(), ns.PeerIP())
	}
	k := startNetNSKamailio(t, ns, map[string]string{"1001": "pw1001", "1002": "pw1002", "1003": "pw1003"})
	if host, _, _ := net.SplitHostPort(k.Addr()); host != ns.PeerIP() {
		t.Fatalf("Kamailio.Addr() = %s, want it on %s", k.Addr(), ns.PeerIP())
	}
	if err := optionsFrom(ns.LocalIP(), k.Addr(), 5*time.Second); err != nil {
		t.Fatalf("from the test's side: %v", err)
	}
	caller := startNetNSBaresip(t, ns, k, "1001", "manual")
	callee := startNetNSBaresip(t, ns, k, "1002", "auto")
	if host, _, _ := net.SplitHostPort(callee.SIPAddr()); host != ns.PeerIP() {
		t.Fatalf("baresip SIPAddr() = %s, want it on %s", callee.SIPAddr(), ns.PeerIP())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := caller.Dial(caller.URI("1002")); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Baresip{caller, callee} {
		if _, err := b.WaitEvent(ctx, EventCallEstablished); err != nil {
			t.Fatalf("%s: %v\n%s", b.opts.User, err, k.Log())
		}
		if _, err := b.WaitEvent(ctx, EventCallRTPEstab); err != nil {
			t.Fatalf("%s: %v", b.opts.User, err)
		}
	}
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := callee.WaitEvent(ctx, EventCallClosed); err != nil {
		t.Fatal(err)
	}

	// A UAS on the test's side (as the phone will be) registered as 1003:
	// the INVITE baresip sends it through Kamailio offers media on PeerIP.
	uas, err := net.ListenPacket("udp4", net.JoinHostPort(ns.LocalIP(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = uas.Close() }()
	if err := k.RegisterContact("1003", "pw1003", uas.LocalAddr().(*net.UDPAddr).Port, 60); err != nil {
		t.Fatal(err)
	}
	if err := caller.Dial(caller.URI("1003")); err != nil {
		t.Fatal(err)
	}
	invite, from, err := readRequest(uas, "INVITE", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(from.String()); host != ns.PeerIP() {
		t.Errorf("INVITE came from %s, want Kamailio on %s", from, ns.PeerIP())
	}
	if want := "c=IN IP4 " + ns.PeerIP(); !strings.Contains(invite, want) {
		t.Errorf("INVITE's SDP has no %q:\n%s", want, invite)
	}
	if _, err := uas.WriteTo([]byte(busyFor(invite)), from); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEventMatch(ctx, func(e Event) bool {
		return e.Type == EventCallClosed && strings.Contains(e.Param, "486")
	}); err != nil {
		t.Fatalf("caller's call to 1003 did not close with our 486: %v", err)
	}
}

// readRequest reads from c until a request of method arrives.
func readRequest(c net.PacketConn, method string, timeout time.Duration) (string, net.Addr, error) {
	buf := make([]byte, 65535)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return "", nil, fmt.Errorf("waiting for %s: %w", method, err)
		}
		if msg := string(buf[:n]); strings.HasPrefix(msg, method+" ") {
			return msg, from, nil
		}
	}
}

// busyFor is a 486 answer to req.
func busyFor(req string) string {
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	var sb strings.Builder
	sb.WriteString("SIP/2.0 486 Busy Here\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "from", "call-id", "cseq":
			sb.WriteString(line + "\r\n")
		case "to":
			sb.WriteString(line + ";tag=nstest\r\n")
		}
	}
	sb.WriteString("Content-Length: 0\r\n\r\n")
	return sb.String()
}

// The test's side of the link changes address, then loses it, while the
// peers run: Kamailio answers the new address, nothing reaches it without
// one, and the kit keeps control of its peers throughout.
func TestNetNSLocalAddressChange(t *testing.T) {
	Require(t)
	ns := newTestNetNS(t)
	k := startNetNSKamailio(t, ns, map[string]string{"1001": "pw1001"})
	b := startNetNSBaresip(t, ns, k, "1001", "auto")
	old := ns.LocalIP()
	prefix := strings.TrimSuffix(ns.PeerIP(), ".1")
	moved := prefix + ".3"

	for _, bad := range []string{"", "10.77.300.3", "10.78.0.3", ns.PeerIP(), prefix + ".255", "::1"} {
		if err := ns.SetLocalIP(bad); err == nil {
			t.Errorf("SetLocalIP(%q) accepted", bad)
		}
	}
	if err := ns.SetLocalIP(moved); err != nil {
		t.Fatal(err)
	}
	if ns.LocalIP() != moved {
		t.Fatalf("LocalIP() = %q after SetLocalIP(%q)", ns.LocalIP(), moved)
	}
	if err := waitFor(2*time.Second, func() error {
		addrs, err := linkAddrs(ns)
		if err != nil {
			return err
		}
		if strings.Join(addrs, " ") != moved {
			return fmt.Errorf("%s has %v, want only %s", ns.Link(), addrs, moved)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := optionsFrom(moved, k.Addr(), 5*time.Second); err != nil {
		t.Fatalf("from the new address: %v", err)
	}
	if c, err := net.ListenPacket("udp4", net.JoinHostPort(old, "0")); err == nil {
		_ = c.Close()
		t.Errorf("the old address %s can still be bound", old)
	}

	if err := ns.RemoveLocalIP(); err != nil {
		t.Fatal(err)
	}
	if ns.LocalIP() != "" {
		t.Fatalf("LocalIP() = %q after RemoveLocalIP", ns.LocalIP())
	}
	if err := waitFor(2*time.Second, func() error {
		ifc, err := net.InterfaceByName(ns.Link())
		if err != nil {
			return err
		}
		if ifc.Flags&net.FlagUp == 0 {
			return fmt.Errorf("%s is down", ns.Link())
		}
		addrs, err := linkAddrs(ns)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if strings.HasPrefix(a, "10.77.") {
				return fmt.Errorf("%s still has %s", ns.Link(), a)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := unreachable(k.Addr()); err != nil {
		t.Fatal(err)
	}
	// The kit still drives its peers: baresip's control connection and a
	// Kamailio restart (its readiness probe) do not use the link's address.
	if out, err := b.Command("reginfo", ""); err != nil || !registeredOK(out) {
		t.Fatalf("baresip reginfo with no local address: %q, %v", out, err)
	}
	if err := k.Restart(); err != nil {
		t.Fatalf("Kamailio restart with no local address: %v", err)
	}

	// An address again (from none): the phone side works again.
	if err := ns.SetLocalIP(old); err != nil {
		t.Fatal(err)
	}
	if err := optionsFrom(old, k.Addr(), 5*time.Second); err != nil {
		t.Fatalf("after the address came back: %v", err)
	}
}

// unreachable checks that nothing in the test's namespace reaches addr:
// dialling fails, or a probe goes unanswered for a second.
func unreachable(addr string) error {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return nil // no route: what RemoveLocalIP means
	}
	defer func() { _ = c.Close() }()
	local := c.LocalAddr().String()
	probe := "OPTIONS sip:" + addr + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-nsgone;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@" + Domain + ">;tag=x\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: nsgone\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(probe)); err != nil {
		return nil
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	if n, err := c.Read(buf); err == nil {
		return fmt.Errorf("with no local address, %s answered from %s: %.40q", addr, local, buf[:n])
	}
	return nil
}

// Close removes the link and ends the holder; two namespaces get their
// own links and subnets.
func TestNetNSClose(t *testing.T) {
	Require(t)
	a, err := NewNetNS()
	if err != nil {
		t.Fatal(err)
	}
	b := newTestNetNS(t)
	if a.Link() == b.Link() || a.PeerIP() == b.PeerIP() || a.LocalIP() == b.LocalIP() {
		t.Fatalf("two namespaces share a link or subnet: %s %s, %s %s", a.Link(), a.PeerIP(), b.Link(), b.PeerIP())
	}
	out, err := a.Command("cat", "/proc/self/net/dev").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "eth0") || strings.Contains(string(out), "dplab") {
		t.Fatalf("inside the namespace: %v\n%s", err, out)
	}
	holder := a.holder.Process.Pid
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(2*time.Second, func() error {
		if _, err := net.InterfaceByName(a.Link()); err == nil {
			return fmt.Errorf("%s still exists after Close", a.Link())
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(holder)); err == nil {
			return fmt.Errorf("holder %d still there after Close", holder)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := a.SetLocalIP(strings.TrimSuffix(a.PeerIP(), ".1") + ".3"); err == nil {
		t.Error("SetLocalIP on a closed NetNS accepted")
	}
	if _, err := net.InterfaceByName(b.Link()); err != nil {
		t.Errorf("closing %s took %s: %v", a.Link(), b.Link(), err)
	}
}
