// Command deskphone is the desk phone's firmware: it loads the
// configuration, brings up the board, wires the phone to it and serves the
// control API. All behaviour lives in phone/ and hal/; this only connects.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"deskphone/config"
	"deskphone/config/provision"
	"deskphone/hal"
	"deskphone/hal/sim"
	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/phone/control"
	"deskphone/phone/event"
	"deskphone/phone/history"
	"deskphone/phone/logtail"
	_ "deskphone/phone/media/opus" // registers OPUS (cgo builds; see its package comment)
	"deskphone/phone/metrics"
	"deskphone/phone/sipua"
	"deskphone/phone/ui"
	"deskphone/tools/ctl"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ctl" { // the control API's command-line client
		os.Exit(ctl.Main(os.Args[2:]))
	}
	cfgPath := flag.String("config", "/etc/deskphone/phone.yaml", "configuration file (see config/examples/phone.yaml)")
	console := flag.Bool("console", false, "sim board: print the panel when it changes and read keys from stdin")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	debugAddr := flag.String("debug", "", "serve pprof and /debug/media on this loopback address, e.g. 127.0.0.1:6060 (debug.go)")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "deskphone: -log-level %q: use debug, info, warn or error\n", *logLevel)
		os.Exit(2)
	}
	log := newLogger(os.Stderr, lvl) // with priorities under journald
	// Keep the last lines for GET /v1/logs and the web page.
	log = slog.New(logtail.Wrap(log.Handler(), logtail.NewRing(logtail.DefaultLines)))
	sipua.RouteLibraryLogs(log)
	if *debugAddr != "" {
		if _, err := startDebug(*debugAddr, log); err != nil {
			fmt.Fprintf(os.Stderr, "deskphone: %v\n", err)
			os.Exit(2)
		}
	}
	if err := run(*cfgPath, *console, log); err != nil {
		fmt.Fprintf(os.Stderr, "deskphone: %v\n", err)
		os.Exit(1)
	}
}

func run(cfgPath string, console bool, log *slog.Logger) error {
	cfg, err := provision.Load(context.Background(), cfgPath, log) // from provisioning.url or DHCP option 66, if set
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := newService(cfgPath, console, log, nil) // SIGHUP reloads cfgPath (service.go)
	if console {
		go func() { // end of stdin (Ctrl-D, a closed pipe) stops the phone
			readKeys(ctx, s.consoleBoard, os.Stdin, log)
			if ctx.Err() == nil {
				log.Info("stdin closed: stopping")
				stop()
			}
		}()
	}
	return s.run(ctx, cfg)
}

// device is one running phone: board, phone, front panel and control API.
type device struct {
	board   hal.Board
	panel   *simPanel
	phone   *phone.Phone
	srv     *http.Server
	apiAddr string
	stop    context.CancelFunc
	history func() // stops the call history recorder
	console func() // closes the serial console (console.go)
}

// start brings the phone up and logs in in the background.
// bus may be nil; tests pass theirs to see events from the first one.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger, bus *event.Bus) (*device, error) {
	ring := logtail.RingOf(log) // main installs it; a caller without one gets one here
	if ring == nil {
		ring = logtail.NewRing(logtail.DefaultLines)
		log = slog.New(logtail.Wrap(log.Handler(), ring))
	}
	prov := provision.New(cfg, log) // POST /v1/provision; before account.provision changes cfg
	pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
	err := phone.Provision(pctx, cfg, log) // account.provision: relay
	pcancel()
	if err != nil {
		return nil, err
	}
	board, readback, panel, err := openBoard(cfg, log) // drivers.go
	if err != nil {
		return nil, err
	}
	p, err := phone.New(cfg, echoCancel(cfg, board.Sound(), log), bus, log) // the sound part: its routes (alsa) reach the phone; echo.go
	if err != nil {
		_ = board.Close() // the start-up error is the one to report
		return nil, err
	}
	if cfg.Calls.HoldMusic != "" {
		a, err := wav.ReadFile(cfg.Calls.HoldMusic)
		if err != nil {
			_ = board.Close() // the start-up error is the one to report
			return nil, fmt.Errorf("calls.hold_music: %w", err)
		}
		p.SetHoldMusic(a.Mono(), a.Rate)
	}
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		_ = board.Close() // the start-up error is the one to report
		return nil, fmt.Errorf("control API: cannot listen on %s: %w (change api.listen)", cfg.API.Listen, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &device{board: board, panel: panel, phone: p, apiAddr: ln.Addr().String(), stop: cancel}
	m := metrics.New(p.Bus(), metrics.Options{Agent: p.AgentStatus().StatusInfo})
	go m.Run(ctx)
	front := ui.New(p, board)
	front.OnKey = m.Key
	go front.Run(ctx)
	d.console = startConsole(ctx, cfg, p, board, log)
	hist := history.New(history.DefaultSize) // GET /v1/history
	d.history = hist.Follow(p.Bus())
	d.srv = &http.Server{
		Handler: control.NewServer(p, control.Options{Panel: readback, Token: cfg.API.Token, Listen: d.apiAddr, Metrics: m.Handler(), Provision: prov,
			History: hist, Logs: ring, ConfigFile: cfg.File}),
		ReadHeaderTimeout: control.ReadHeaderTimeout,
		ReadTimeout:       control.ReadTimeout,
		WriteTimeout:      control.WriteTimeout, // GET /v1/events clears it for its stream
		IdleTimeout:       control.IdleTimeout,
	}
	go func() {
		if err := d.srv.Serve(control.LimitListener(ln, control.MaxConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control API stopped", "error", err)
		}
	}()
	go func() {
		lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := p.Login(lctx); err != nil {
			log.Warn("login did not succeed yet; retrying in the background", "error", err)
		}
	}()
	return d, nil
}

// close un-registers, stops the API and releases the board.
func (d *device) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.phone.Close(ctx)
	d.stop()
	d.console()
	_ = d.srv.Close() // also ends open event streams
	d.history()
	return errors.Join(err, d.board.Close())
}

// printPanel reprints the display and LEDs whenever they change.
func printPanel(ctx context.Context, b *sim.Board, w io.Writer) {
	changes, stop := b.Watch()
	defer stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
		}
		pn := b.Panel()
		var sb strings.Builder
		width := 20
		sb.WriteString("+" + strings.Repeat("-", width) + "+\n")
		for _, l := range pn.Display {
			fmt.Fprintf(&sb, "|%-*s|\n", width, l)
		}
		sb.WriteString("+" + strings.Repeat("-", width) + "+\n")
		fmt.Fprintf(&sb, " LEDs: registered=%s line=%s mute=%s status=%s %s\n", pn.LEDs[hal.LEDReg], pn.LEDs[hal.LEDLine], pn.LEDs[hal.LEDMute], pn.LEDs[hal.LEDStatus], pn.Colors[hal.LEDStatus])
		if s := sb.String(); s != last {
			fmt.Fprint(w, s)
			last = s
		}
	}
}

// readKeys turns stdin into key presses: digits * # as typed, c = call,
// e = end, m = mute, h = lift/replace the handset; the status keys f = free,
// n = not ready, r = rest, a = after-call work.
// board is the current one (a reload replaces it).
func readKeys(ctx context.Context, board func() *sim.Board, r io.Reader, log *slog.Logger) {
	sc := bufio.NewScanner(r)
	for sc.Scan() && ctx.Err() == nil {
		b := board()
		if b == nil {
			continue
		}
		for _, ch := range strings.TrimSpace(sc.Text()) {
			var err error
			switch ch {
			case 'c':
				err = b.Press(hal.KeyCall)
			case 'e':
				err = b.Press(hal.KeyEnd)
			case 'm':
				err = b.Press(hal.KeyMute)
			case 'f':
				err = b.Press(hal.KeyFree)
			case 'n':
				err = b.Press(hal.KeyNotReady)
			case 'r':
				err = b.Press(hal.KeyRest)
			case 'a':
				err = b.Press(hal.KeyACW)
			case 'h':
				b.SetHook(!b.OffHook())
			case ' ':
			default:
				err = b.Press(hal.Key(string(ch)))
			}
			if err != nil {
				log.Warn("key", "error", err, "hint", "type digits, * or #, c=call e=end m=mute h=hook, f=free n=not ready r=rest a=after-call work")
			}
		}
	}
}
