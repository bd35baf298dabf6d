// Command hil runs hardware-in-the-loop scripts against a phone's serial
// console (see tools/hil/README.md):
//
//	hil -serial /dev/ttyUSB0 [-baud 115200] [-registrar HOST:PORT -peer USER:PASSWORD ...] SCRIPT...
//
// It prints one line per step with its time, and exits 1 if a step failed,
// 2 on a usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"deskphone/tools/hil"
)

type peerFlags map[string]string

func (p peerFlags) String() string { return "" }

func (p peerFlags) Set(v string) error {
	user, pw, ok := strings.Cut(v, ":")
	if !ok || user == "" || pw == "" {
		return fmt.Errorf("%q: write USER:PASSWORD, e.g. 1003:pw-1003", v)
	}
	p[user] = pw
	return nil
}

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("hil", flag.ContinueOnError)
	dev := fs.String("serial", "", "the phone's console line, e.g. /dev/ttyUSB0 (a USB-serial adapter on the Pi's GPIO 14/15)")
	baud := fs.Int("baud", 115200, "line speed: the phone's console.baud")
	registrar := fs.String("registrar", "", "host:port of the registrar the phone uses; needed by peer steps")
	peers := peerFlags{}
	fs.Var(peers, "peer", "USER:PASSWORD of an extension a peer step may start as baresip (repeat it)")
	dir := fs.String("dir", "", "where peers keep their config and logs (default: a new temporary directory)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: hil -serial DEVICE [-baud N] [-registrar HOST:PORT -peer USER:PASSWORD ...] SCRIPT...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *dev == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var scripts []*hil.Script
	for _, f := range fs.Args() {
		s, err := hil.ParseFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		scripts = append(scripts, s)
	}
	line, err := hil.OpenSerial(*dev, *baud)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer line.Close()
	r := &hil.Runner{Console: hil.NewClient(line), Out: os.Stdout}
	if *registrar != "" {
		if *dir == "" {
			d, err := os.MkdirTemp("", "hil-")
			if err != nil {
				fmt.Fprintln(os.Stderr, "hil:", err)
				return 1
			}
			defer func() { _ = os.RemoveAll(d) }() // only the peers' logs
			*dir = d
		}
		r.Peers = &hil.Lab{Registrar: *registrar, Passwords: peers, Dir: *dir}
		defer func() {
			if err := r.Peers.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code := 0
	for _, s := range scripts {
		if rep := r.Run(ctx, s); !rep.Passed() {
			code = 1
			if r.Peers != nil {
				fmt.Fprint(os.Stderr, r.Peers.Logs())
			}
		}
	}
	return code
}
