package netwatch

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
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
