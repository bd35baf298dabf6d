package labkit

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
)

// FreePort returns a port on 127.0.0.1 that is free for network: "udp",
// "tcp", "sip" (free for both UDP and TCP, as a SIP listener needs), or
// "sip+tls" (a SIP port whose next port is free for TCP too: baresip binds
// SIP/TLS on sip_listen's port + 1). It panics if none is found, which only
// happens on an exhausted host.
func FreePort(network string) int {
	for range 100 {
		var p int
		switch network {
		case "udp":
			p = freeUDP(0)
		case "tcp", "sip", "sip+tls":
			p = freeTCP(0)
		default:
			panic(fmt.Sprintf("labkit.FreePort: network %q: want udp, tcp, sip or sip+tls", network))
		}
		n := 1
		if network == "sip+tls" {
			n = 2
		}
		if p == 0 || p+n > 65535 || !reserve(p, n) {
			continue
		}
		if network != "udp" && network != "tcp" && freeUDP(p) == 0 {
			continue
		}
		if network == "sip+tls" && freeTCP(p+1) == 0 {
			continue
		}
		return p
	}
	panic("labkit.FreePort: no free " + network + " port on 127.0.0.1")
}

// freePortRange returns the first port of n consecutive free UDP ports
// starting at an even port (RTP ranges), away from the phone's default
// 16384-16583.
func freePortRange(n int) (int, error) {
	for range 200 {
		base := 20000 + 2*rand.IntN(20000)
		if !reserve(base, n) {
			continue
		}
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = freeUDP(p) != 0
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free UDP ports on 127.0.0.1", n)
}

// handed out remembers ports this process already gave away, so two peers
// started back to back never get the same one before either has bound it.
var (
	handedMu  sync.Mutex
	handedOut = map[int]bool{}
)

func reserve(base, n int) bool {
	handedMu.Lock()
	defer handedMu.Unlock()
	for p := base; p < base+n; p++ {
		if handedOut[p] {
			return false
		}
	}
	for p := base; p < base+n; p++ {
		handedOut[p] = true
	}
	return true
}

func freeUDP(port int) int {
	c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0
	}
	defer func() { _ = c.Close() }() // a probe
	return c.LocalAddr().(*net.UDPAddr).Port
}

func freeTCP(port int) int {
	l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0
	}
	defer func() { _ = l.Close() }() // a probe
	return l.Addr().(*net.TCPAddr).Port
}

// retryPortClash runs start (which picks its ports anew each time) up to 3
// times while it fails with "Address already in use": a port is free when
// picked, but another process may bind it before the peer does.
func retryPortClash[T any](start func() (T, error)) (T, error) {
	for try := 1; ; try++ {
		v, err := start()
		if err == nil || try == 3 || !strings.Contains(err.Error(), "Address already in use") {
			return v, err
		}
	}
}
