package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
)

// hostPortTries is how many ports from -port `lab host` tries.
const hostPortTries = 20

// runHost is `lab host`: it runs on the host, outside the namespace. It
// serves 127.0.0.1:PORT (or the next free port) by forwarding each
// connection to the lab's socket, runs the command (which enters the
// namespace and starts the lab) with LAB_HOST_API set to the URL, and ends
// with it.
func runHost(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8080, "host port for the control API (the next free one if taken)")
	socket := fs.String("socket", "run/lab/api.sock", "the lab's socket (lab -socket)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lab host [-port 8080] [-socket PATH] -- command args...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *port < 1 || *port > 65535 {
		fs.Usage()
		return 2
	}
	ln, err := listenFrom(*port)
	if err != nil {
		fmt.Fprintln(stderr, "lab host:", err)
		return 1
	}
	url := "http://" + ln.Addr().String()
	fwd := newForwarder(ln, dialer("unix", *socket),
		"the lab is not running yet or has stopped (no socket "+*socket+")")
	defer fwd.close()
	fmt.Fprintf(stdout, "Control API from this host: %s   (e.g. bin/deskphone ctl -api %s status)\n", url, url)
	return runCommand(fs.Args(), append(os.Environ(), "LAB_HOST_API="+url), stdin, stdout, stderr)
}

// listenFrom listens on 127.0.0.1:port, or the first free port after it.
func listenFrom(port int) (net.Listener, error) {
	for p := port; p < port+hostPortTries && p <= 65535; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listening on 127.0.0.1:%d: %w", p, err)
		}
	}
	return nil, fmt.Errorf("ports %d-%d on 127.0.0.1 are all taken: give a free one with -port (make run API_PORT=...)", port, port+hostPortTries-1)
}
