package sipua

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/emiago/sipgo/sip"
)

// ErrConnectionClosed is a TCP or TLS connection to the registrar that is
// gone (closed by the far end, reset, or never re-opened).
var ErrConnectionClosed = errors.New("the connection to the registrar is closed")

// crlfPing is RFC 5626 §4.4.1's keepalive ping; the pong is one CRLF.
var crlfPing = []byte("\r\n\r\n")

// Keepalive checks that the registrar (the current target) still
// answers. Over UDP it sends an OPTIONS (Ping). Over TCP and TLS it sends
// RFC 5626's CRLF ping on the connection the phone registered over and
// waits for the CRLF pong until ctx ends (RFC 5626 allows 10 s): cheaper
// than a SIP transaction, and it proves that very connection alive — the
// one the registrar reaches the phone over. A connection that is gone
// fails at once.
func (u *UA) Keepalive(ctx context.Context) error {
	if u.cfg.Transport == "udp" {
		return u.Ping(ctx)
	}
	dest := u.proxy()
	c, err := u.srv.TransportLayer().GetConnection(u.cfg.Transport, dest)
	if err != nil || c == nil {
		return fmt.Errorf("%w (%s %s)", ErrConnectionClosed, u.transport(), dest)
	}
	w, ok := c.(io.Writer)
	if !ok { // not sipgo's TCP connection: fall back to a SIP ping
		return u.Ping(ctx)
	}
	select { // a pong from an earlier ping is stale
	case <-u.pong:
	default:
	}
	if _, err := w.Write(crlfPing); err != nil {
		return fmt.Errorf("%w: %w", ErrConnectionClosed, err)
	}
	select {
	case <-u.pong:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: no CRLF pong from %s (RFC 5626 keepalive)", ErrTimeout, dest)
	}
}

// readFilter sees every read of the SIP transports before sipgo parses
// it: a bare CRLF on a stream is a keepalive pong (sipgo drops it), the
// rest goes to the guard.
func (u *UA) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	if len(data) == 2 && data[0] == '\r' && data[1] == '\n' && p.Transport != "udp" && p.Transport != "UDP" {
		select {
		case u.pong <- struct{}{}:
		default:
		}
	}
	return u.guard.readFilter(p, data)
}
