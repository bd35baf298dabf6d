package console

// FuzzServe: any bytes on the serial line. Serve answers each command
// line with exactly one final line (ok or err …), every line ends in CRLF,
// and it returns nil at the end of input.

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"deskphone/phone/event"
)

// lockedBuffer is the line's output side; the event pump writes from its
// own goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// commands is how many responses Serve owes for in: one per non-empty
// line, a too-long line included (readLine's rules).
func commands(in string) int {
	n := 0
	for len(in) > 0 {
		i := strings.IndexAny(in, "\r\n")
		if i < 0 { // the last line, cut at EOF: read up to MaxLine bytes
			if strings.TrimSpace(in[:min(len(in), MaxLine)]) != "" {
				n++
			}
			break
		}
		if i > MaxLine || strings.TrimSpace(in[:i]) != "" {
			n++
		}
		in = in[i+1:]
	}
	return n
}

func FuzzServe(f *testing.F) {
	f.Add([]byte("help\r\npress 1 0 0 2 call\r\nhook off\nhook on\rdisplay\r\nleds\r\nstate\r\nagent\r\nevents on\r\nevents off\r\n"))
	f.Add([]byte("PRESS\r\npress bogus\r\nhook sideways\r\nevents\r\nstate json\r\n\x00\xff\r\n\r\n\n\n"))
	f.Add([]byte(strings.Repeat("x", MaxLine+1) + "\nstate"))
	f.Add([]byte("events on\r\n" + strings.Repeat("y", 2*MaxLine)))
	f.Fuzz(func(t *testing.T, in []byte) {
		bus := event.NewBus()
		s := New(fakePhone{bus}, &fakePanel{screen: []string{"Idle", "1001"}}, nil)
		out := &lockedBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- s.Serve(context.Background(), struct {
				*bytes.Reader
				*lockedBuffer
			}{bytes.NewReader(in), out})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve = %v at the end of input", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Serve did not return within 5s of the end of input %q", in)
		}
		text := out.String()
		if text != "" && !strings.HasSuffix(text, "\r\n") {
			t.Fatalf("output does not end in CRLF: %q", text)
		}
		finals := 0
		for _, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
			if strings.ContainsAny(l, "\r\n") {
				t.Fatalf("a bare CR or LF inside the line %q", l)
			}
			if l == "ok" || strings.HasPrefix(l, "err ") {
				finals++
			}
		}
		if want := commands(string(in)); finals != want {
			t.Fatalf("%d responses for %d command lines\nin:  %q\nout: %q", finals, want, in, text)
		}
	})
}
