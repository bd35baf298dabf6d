package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// The phone's control API listens on 127.0.0.1 inside the lab's network
// namespace, out of the host's reach. Two forwarders bridge it through a
// UNIX socket, whose path both namespaces share: inside, the lab serves the
// socket and dials the API; outside, `lab host` serves a host port and
// dials the socket.

// forwarder joins each connection accepted on ln to one from dial, copying
// both ways, until close.
type forwarder struct {
	ln   net.Listener
	dial func() (net.Conn, error)
	down string // what is unreachable when dial fails, for the client

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newForwarder(ln net.Listener, dial func() (net.Conn, error), down string) *forwarder {
	f := &forwarder{ln: ln, dial: dial, down: down, conns: map[net.Conn]struct{}{}}
	f.wg.Go(f.serve)
	return f
}

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		if !f.track(c) {
			_ = c.Close() // closing: nothing to report to
			return
		}
		f.wg.Go(func() {
			defer f.untrack(c)
			f.join(c)
		})
	}
}

// track registers c for close; false once the forwarder is closed.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	_ = c.Close() // the copy is over either way
}

// join copies between the client c and a new connection to the target.
func (f *forwarder) join(c net.Conn) {
	t, err := f.dial()
	if err != nil {
		unavailable(c, fmt.Sprintf("%s: %v", f.down, err))
		return
	}
	if !f.track(t) {
		_ = t.Close() // closing: nothing to report to
		return
	}
	defer f.untrack(t)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if hc, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = hc.CloseWrite() // pass the end on; the other way may go on
		}
		done <- struct{}{}
	}
	go pipe(t, c)
	go pipe(c, t)
	<-done
	<-done
}

// close stops accepting, ends every open connection and waits for them.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close() // ends the copy; an error means it had ended
	}
	f.mu.Unlock()
	_ = f.ln.Close() // stops Accept; an error means it had stopped
	f.wg.Wait()
}

// unavailable answers the client's HTTP request with 503 and the API's
// error shape, so that curl and `deskphone ctl` show why rather than an
// empty reply. The request is read first: closing with it unread would
// reset the connection before the answer arrives.
func unavailable(c net.Conn, msg string) {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	}
	body, _ := json.Marshal(map[string]any{"code": http.StatusServiceUnavailable, "message": msg})
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n", len(body)+1, body)
}

// listenUnix listens on a UNIX socket at path, replacing a stale one left
// by a lab that was killed.
func listenUnix(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w (a UNIX socket path must be under 108 bytes: give a shorter -socket)", path, err)
	}
	return ln, nil
}

// dialer dials network/addr with a short timeout.
func dialer(network, addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.DialTimeout(network, addr, 3*time.Second) }
}
