package netwatch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"deskphone/tools/labkit"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The tick signals without any news, and signals that nobody takes merge
// into one.
func TestTick(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Watch(ctx, 5*time.Millisecond, quiet())
	for range 3 {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no tick within 5 s")
		}
	}
	if cap(ch) != 1 {
		t.Fatalf("the channel holds %d signals; pending ones must merge into one", cap(ch))
	}
}

// Without a tick, a new interface is news at once (Linux, netlink). It runs
// as root in the suite's private network namespace; the link is named like
// the lab's own (labkit ignores dplab* links), so the packages tested
// alongside still see an isolated network.
func TestNetlinkNews(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 || !labkit.InIsolatedNetwork() {
		t.Skip("needs root in a private network namespace (make test)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Watch(ctx, 0, quiet())
	link := "dplabw" + strconv.Itoa(os.Getpid()%100000)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	ip("link", "add", link, "type", "veth", "peer", "name", link+"p") // dummy links need a module CI may lack
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", link).Run() })
	wait := func(what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("no news within 5 s of %s", what)
		}
	}
	wait("a new link")
	ip("addr", "add", "10.78.0.1/24", "dev", link)
	wait("a new address")
	// Drain what the address brought (the link's own news may trail it).
	for drained := false; !drained; {
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
			drained = true
		}
	}
	ip("addr", "del", "10.78.0.1/24", "dev", link)
	wait("an address removed")
	cancel()
}

// errReader fails with each error in turn, then with io.EOF.
type errReader struct{ errs []error }

func (r *errReader) Read([]byte) (int, error) {
	if len(r.errs) == 0 {
		return 0, io.EOF
	}
	err := r.errs[0]
	r.errs = r.errs[1:]
	return 0, err
}

// News lost to a full socket buffer is still news, and reading goes on;
// any other error (the socket closed) ends it.
func TestReadOverflowIsNews(t *testing.T) {
	pokes := 0
	read(&errReader{errs: []error{nil, &os.PathError{Op: "read", Path: "netlink", Err: syscall.ENOBUFS}, nil}}, func() { pokes++ })
	want := 3
	if runtime.GOOS != "linux" {
		want = 1 // no netlink: only the first read counts
	}
	if pokes != want {
		t.Fatalf("%d pokes, want %d (a message, an overflow, a message; then EOF ends it)", pokes, want)
	}
}
