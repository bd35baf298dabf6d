// Command lab runs the SIP peers a deskphone talks to during development:
// Kamailio as registrar/proxy (users 1001 = the phone, 1002 = baresip) and
// baresip as extension 1002, which answers every call with a 440 Hz tone.
// It writes DIR/phone.yaml, a deskphone config that registers as 1001.
//
//	go run ./tools/lab -dir run/lab                   # wait for Ctrl-C
//	go run ./tools/lab -dir run/lab -- CMD ARGS...    # run CMD, then stop
//
// It must run inside a private network namespace (`make run` starts one):
// baresip binds RTP on every interface. With -socket it also serves the
// phone's control API on a UNIX socket, which `lab host` (run outside the
// namespace) serves on a host port:
//
//	lab host -port 8080 -socket S -- unshare -n -- lab -socket S -- deskphone ...
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its arguments and streams passed in, for tests. It
// returns the exit code: the command's, or 1 when the lab fails, 2 for
// misuse.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "host" {
		return runHost(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "run/lab", "directory for configs, logs and recordings")
	api := fs.String("api", "127.0.0.1:8080", "control API address written to phone.yaml")
	socket := fs.String("socket", "", "also serve the control API on this UNIX socket (for `lab host`)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lab [-dir DIR] [-api ADDR] [-socket PATH] [-- command args...]\n       lab host [-port 8080] [-socket PATH] -- command args...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l, err := startLab(*dir, *api)
	if err != nil {
		fmt.Fprintln(stderr, "lab:", err)
		return 1
	}
	l.printSummary(stdout)
	if *socket != "" {
		ln, err := listenUnix(*socket)
		if err != nil {
			fmt.Fprintln(stderr, "lab:", err)
			_ = l.stop()
			return 1
		}
		fwd := newForwarder(ln, dialer("tcp", *api), "the phone's control API ("+*api+" in the lab) is not up: the phone is starting or has stopped")
		defer fwd.close()
		fmt.Fprintf(stdout, "  API        %s in the lab; socket %s", *api, *socket)
		if host := os.Getenv("LAB_HOST_API"); host != "" {
			fmt.Fprintf(stdout, "; from the host %s", host)
		}
		fmt.Fprintln(stdout)
	}
	code := 0
	if cmd := fs.Args(); len(cmd) > 0 {
		code = runCommand(cmd, l.env(), stdin, stdout, stderr)
	} else {
		fmt.Fprintln(stdout, "Press Ctrl-C to stop the lab.")
		waitForSignal()
	}
	if err := l.stop(); err != nil {
		fmt.Fprintln(stderr, "lab:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
