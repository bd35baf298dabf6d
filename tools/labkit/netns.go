package labkit

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NetNS is a private network namespace beside the test's, joined to it by a
// veth pair: the test's side is link Link() with LocalIP(), the namespace's
// side is eth0 with PeerIP(), both in 10.77.N.0/24. Peers started in it
// (KamailioOptions.NetNS, BaresipOptions.NetNS) listen on PeerIP, so a
// phone in the test process reaches them from LocalIP — the address a
// test changes (SetLocalIP) or takes away (RemoveLocalIP) under the phone,
// as a DHCP renewal or a Wi-Fi roam does to a desk phone.
//
// The kit's own traffic to its peers (Kamailio's readiness probe,
// baresip's control connection) uses sockets made inside the namespace, so
// it does not depend on the test's side of the link: a baresip stays under
// control and a Kamailio can be restarted while the phone has no address.
type NetNS struct {
	n      int
	link   string
	peer   string
	holder *exec.Cmd
	done   chan struct{} // closed when the holder has exited
	nsFD   int           // the namespace, for setns; -1 once closed

	mu     sync.Mutex
	local  string // "" after RemoveLocalIP
	closed bool
}

// netnsSeq numbers the links this process creates; a number another
// process (a test binary in the same namespace) holds is skipped.
var netnsSeq atomic.Int32

// NewNetNS creates the namespace (owned by a holder process,
// `unshare -n -- sleep infinity`, killed by Close) and the veth pair
// dplab<N> ↔ eth0, with 10.77.<N>.2 on dplab<N> and 10.77.<N>.1 on eth0,
// both up, and lo up inside. promote_secondaries is set on dplab<N> so
// SetLocalIP can add the new address before removing the old one.
func NewNetNS() (*NetNS, error) {
	for _, b := range []string{"unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return nil, fmt.Errorf("netns: %s not found: it comes with util-linux and iproute2", b)
		}
	}
	holder := exec.Command("unshare", "-n", "--", "sleep", "infinity")
	// Its own group, away from a terminal's signals; killed if we die.
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		return nil, fmt.Errorf("netns: start holder: %w (creating a namespace needs root)", err)
	}
	n := &NetNS{holder: holder, done: make(chan struct{}), nsFD: -1}
	go func() {
		_ = holder.Wait() // killed by Close; its status says nothing
		close(n.done)
	}()
	fail := func(err error) (*NetNS, error) {
		_ = n.Close() // the set-up error is the one to report
		return nil, fmt.Errorf("netns: %w", err)
	}
	if err := n.waitUnshared(5 * time.Second); err != nil {
		return fail(err)
	}
	fd, err := syscall.Open(n.nsPath(), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	n.nsFD = fd
	if err := n.addLink(); err != nil {
		return fail(err)
	}
	n.peer = fmt.Sprintf("10.77.%d.1", n.n)
	local := fmt.Sprintf("10.77.%d.2", n.n)
	steps := [][]string{
		{"addr", "add", n.peer + "/24", "dev", "eth0"},
		{"link", "set", "eth0", "up"},
		{"link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := runIP(n.Command("ip", s...)); err != nil {
			return fail(err)
		}
	}
	// Deleting a primary address would otherwise take its secondaries
	// (and the subnet's route) with it.
	if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+n.link+"/promote_secondaries", []byte("1\n"), 0o644); err != nil {
		return fail(err)
	}
	for _, s := range [][]string{
		{"addr", "add", local + "/24", "dev", n.link},
		{"link", "set", n.link, "up"},
	} {
		if err := runIP(exec.Command("ip", s...)); err != nil {
			return fail(err)
		}
	}
	n.local = local
	return n, nil
}

func (n *NetNS) nsPath() string {
	return "/proc/" + strconv.Itoa(n.holder.Process.Pid) + "/ns/net"
}

// waitUnshared waits until the holder is in a namespace of its own:
// unshare may not have run yet when Start returns.
func (n *NetNS) waitUnshared(timeout time.Duration) error {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-n.done:
			return errors.New("holder (unshare -n) exited: creating a namespace needs root")
		default:
		}
		if ns, err := os.Readlink(n.nsPath()); err == nil && ns != self {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("holder not in a namespace of its own within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// addLink creates the veth pair under the first free number: the link's
// name is the claim, so test binaries sharing a namespace never share a
// link or a subnet.
func (n *NetNS) addLink() error {
	pid := strconv.Itoa(n.holder.Process.Pid)
	for {
		num := int(netnsSeq.Add(1)) - 1
		if num > 255 {
			return errors.New("no free dplab<N> link (N 0-255): close the NetNS values no longer needed")
		}
		link := "dplab" + strconv.Itoa(num)
		out, err := exec.Command("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", pid).CombinedOutput()
		if err == nil {
			n.n, n.link = num, link
			return nil
		}
		if !strings.Contains(string(out), "File exists") {
			return fmt.Errorf("ip link add %s: %w: %s", link, err, strings.TrimSpace(string(out)))
		}
	}
}

func runIP(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// PeerIP is the namespace's address (eth0), where its peers listen.
func (n *NetNS) PeerIP() string { return n.peer }

// LocalIP is the test side's current address on Link, "" after
// RemoveLocalIP.
func (n *NetNS) LocalIP() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.local
}

// Link is the test side's interface, "dplab<N>".
func (n *NetNS) Link() string { return n.link }

// SetLocalIP moves the test side of the link to ip, another address of
// 10.77.<N>.0/24: it adds ip, then removes the old address (if any), so
// the subnet's route stays while the phone's address changes under it.
func (n *NetNS) SetLocalIP(ip string) error {
	a, err := netip.ParseAddr(ip)
	subnet := netip.MustParsePrefix(fmt.Sprintf("10.77.%d.0/24", n.n))
	switch {
	case err != nil:
		return fmt.Errorf("netns: SetLocalIP(%q): not an IPv4 address: %w", ip, err)
	case !subnet.Contains(a):
		return fmt.Errorf("netns: SetLocalIP(%q): want an address in %v, the link's subnet", ip, subnet)
	case ip == n.peer || a.As4()[3] == 0 || a.As4()[3] == 255:
		return fmt.Errorf("netns: SetLocalIP(%q): %s is the peer's and .0 and .255 are not hosts; pick 10.77.%d.2-254", ip, n.peer, n.n)
	}
	ip = a.String()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netns: SetLocalIP on a closed NetNS")
	}
	if n.local == ip {
		return nil
	}
	if err := runIP(exec.Command("ip", "addr", "add", ip+"/24", "dev", n.link)); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	old := n.local
	n.local = ip
	if old != "" {
		if err := runIP(exec.Command("ip", "addr", "del", old+"/24", "dev", n.link)); err != nil {
			return fmt.Errorf("netns: %w", err)
		}
	}
	return nil
}

// RemoveLocalIP takes the test side's address away; the link stays up.
// The test's namespace then has no route to PeerIP.
func (n *NetNS) RemoveLocalIP() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netns: RemoveLocalIP on a closed NetNS")
	}
	if n.local == "" {
		return nil
	}
	if err := runIP(exec.Command("ip", "addr", "del", n.local+"/24", "dev", n.link)); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	n.local = ""
	return nil
}

// SetLink sets the test side of the link up or down: pulling the cable
// and plugging it in again (the address stays; its route goes with the
// link).
func (n *NetNS) SetLink(up bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netns: SetLink on a closed NetNS")
	}
	state := map[bool]string{true: "up", false: "down"}[up]
	if err := runIP(exec.Command("ip", "link", "set", n.link, state)); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// Command is exec.Command run inside the namespace. nsenter without --fork
// execs the program, so the process's pid (and group) is the program's.
func (n *NetNS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.nsPath(), "--", name}, args...)...)
}

// Close kills the holder and deletes the link (which deletes its eth0
// end too). Stop the peers in the namespace first: they keep it alive.
func (n *NetNS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	if n.nsFD >= 0 {
		_ = syscall.Close(n.nsFD) // our own handle on the namespace
		n.nsFD = -1
	}
	_ = syscall.Kill(n.holder.Process.Pid, syscall.SIGKILL) // it may be gone already: done tells
	<-n.done
	if n.link == "" {
		return nil
	}
	// The kernel removes the pair with the namespace, in its own time:
	// the link may be gone already, or go while ip deletes it.
	out, err := exec.Command("ip", "link", "del", n.link).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Cannot find device") && !strings.Contains(string(out), "No such device") {
		return fmt.Errorf("netns: ip link del %s: %w: %s", n.link, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inside runs f on an OS thread that has entered the namespace, so the
// sockets f creates belong to it (a socket keeps its namespace for life).
// The thread goes back to the test's namespace afterwards, or is retired
// if it cannot.
func (n *NetNS) inside(f func() error) error {
	n.mu.Lock()
	fd, closed := n.nsFD, n.closed
	n.mu.Unlock()
	if closed {
		return errors.New("netns: closed")
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer func() { _ = syscall.Close(self) }()
		if err := setns(fd); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: setns: %w", err)
			return
		}
		ferr := f()
		if err := setns(self); err != nil {
			// Still locked: the thread ends with this goroutine.
			errc <- fmt.Errorf("netns: setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func setns(fd int) error { return unix.Setns(fd, unix.CLONE_NEWNET) }

// dialTimeout is net.DialTimeout from inside n; a nil n dials from here.
func (n *NetNS) dialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	if n == nil {
		return net.DialTimeout(network, addr, timeout)
	}
	var c net.Conn
	err := n.inside(func() (err error) {
		c, err = net.DialTimeout(network, addr, timeout)
		return err
	})
	return c, err
}

// listenPacket is net.ListenPacket inside n; a nil n listens here.
func (n *NetNS) listenPacket(network, addr string) (net.PacketConn, error) {
	if n == nil {
		return net.ListenPacket(network, addr)
	}
	var c net.PacketConn
	err := n.inside(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// peerHost is where peers in ns listen: PeerIP, or Domain without one.
func (n *NetNS) peerHost() string {
	if n == nil {
		return Domain
	}
	return n.peer
}
