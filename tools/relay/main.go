// Command relay is the reference relay for the desk phones' agent status:
// it holds the contact center's cloud API key and serves the small HTTP/JSON
// contract in README.md. Configuration: flags, RELAY_* variables, and the
// key in TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"deskphone/tools/relay/relayd"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := relayd.LoadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
	srv, err := relayd.New(cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = srv.ListenAndServe(ctx)
	stop()
	if err != nil {
		log.Error("relay stopped", "err", err)
		os.Exit(1)
	}
}
