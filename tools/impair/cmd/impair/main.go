// Command impair runs the impairment relay (deskphone/tools/impair) until
// stdin ends or it is interrupted. Settings change live: type lines such
// as "loss 0.1", "jitter 50ms", "dist normal", "delay 0", "reorder 0.02",
// "dup 0.01" or "stats".
//
//	impair -addr 127.0.0.77 -ports 16384-16584,20000-20040 -side-a 16384-16584 \
//	       -loss 0.05 -jitter 30ms -reorder 0.02 -dup 0.01 -seed 1
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"deskphone/tools/impair"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "impair:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("impair", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.77", "the relay's address: the peers' SDP names it")
	target := fs.String("target", "127.0.0.1", "the peers' address")
	ports := fs.String("ports", "16384-16584", "port ranges to bind on -addr, comma-separated: both peers' RTP and RTCP")
	sideA := fs.String("side-a", "16384-16584", "one peer's ports: names the direction for the seeds")
	seed := fs.Uint64("seed", 1, "random seed: the same seed, the same fate for the same stream")
	var s impair.Settings
	fs.Float64Var(&s.Loss, "loss", 0, "probability a datagram is dropped (0-1)")
	fs.DurationVar(&s.Delay, "delay", 0, "fixed extra delay")
	fs.DurationVar(&s.Jitter, "jitter", 0, "random extra delay, up to this")
	fs.StringVar(&s.Dist, "dist", "uniform", "jitter distribution: uniform or normal")
	fs.Float64Var(&s.Reorder, "reorder", 0, "probability a datagram goes after the next one (0-1)")
	fs.Float64Var(&s.Duplicate, "dup", 0, "probability a datagram is sent twice (0-1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := impair.Config{Seed: *seed, Settings: s}
	var err error
	if cfg.Addr, err = netip.ParseAddr(*addr); err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if cfg.Target, err = netip.ParseAddr(*target); err != nil {
		return fmt.Errorf("-target: %w", err)
	}
	if cfg.Ports, err = parseRanges(*ports); err != nil {
		return fmt.Errorf("-ports: %w", err)
	}
	a, err := parseRanges(*sideA)
	if err != nil || len(a) != 1 {
		return fmt.Errorf("-side-a %q: give one range LO-HI", *sideA)
	}
	cfg.SideA = a[0]
	r, err := impair.Start(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }() // nothing is left to flush
	fmt.Printf("impair: relaying on %s for %s; %+v\n", cfg.Addr, cfg.Target, r.Settings())
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	for {
		select {
		case <-sig:
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := command(r, line); err != nil {
				fmt.Fprintln(os.Stderr, "impair:", err)
			}
		}
	}
}

// command applies one stdin line.
func command(r *impair.Relay, line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	if f[0] == "stats" {
		fmt.Printf("%+v errors=%d\n", r.Stats(), r.Errors())
		return nil
	}
	if len(f) != 2 {
		return fmt.Errorf("%q: give a setting and a value, e.g. loss 0.05, or stats", line)
	}
	s := r.Settings()
	var err error
	switch f[0] {
	case "loss":
		s.Loss, err = strconv.ParseFloat(f[1], 64)
	case "reorder":
		s.Reorder, err = strconv.ParseFloat(f[1], 64)
	case "dup":
		s.Duplicate, err = strconv.ParseFloat(f[1], 64)
	case "jitter":
		s.Jitter, err = time.ParseDuration(f[1])
	case "delay":
		s.Delay, err = time.ParseDuration(f[1])
	case "dist":
		s.Dist = f[1]
	default:
		return fmt.Errorf("%q: unknown setting; use loss, jitter, dist, delay, reorder, dup or stats", f[0])
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f[0], err)
	}
	if err := r.Set(s); err != nil {
		return err
	}
	fmt.Printf("%+v\n", s)
	return nil
}

// parseRanges reads "LO-HI,LO-HI" (or single ports).
func parseRanges(s string) ([]impair.PortRange, error) {
	var out []impair.PortRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, found := strings.Cut(strings.TrimSpace(part), "-")
		if !found {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err := errors.Join(err1, err2); err != nil || l < 1 || h > 65535 || l > h {
			return nil, fmt.Errorf("%q is not a port range LO-HI within 1-65535", part)
		}
		out = append(out, impair.PortRange{Lo: l, Hi: h})
	}
	return out, nil
}
