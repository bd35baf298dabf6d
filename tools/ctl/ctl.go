// Package ctl is `deskphone ctl`: a command-line client of the phone's
// control API (README.md, "Control API") for people at a shell and for
// scripts. Human output by default; -json passes the API's JSON through.
//
//	deskphone ctl status
//	deskphone ctl call 1002 -remark "order 17"
//	deskphone ctl agent-status rest Meal
//	deskphone ctl events -json
package ctl

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// DefaultAPI is the API's address when neither -api nor $DESKPHONE_API says.
const DefaultAPI = "http://127.0.0.1:8080"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the API refused, or could not be reached
	exitUsage = 2
	// exitInterrupted is a shell's code for SIGINT, for a command cut short
	// by Ctrl-C; the commands that follow (events, logs -f) end with 0.
	exitInterrupted = 130
)

const usage = `usage: deskphone ctl [options] COMMAND [args]

commands:
  status                          registration, agent status, calls
  call NUMBER [-remark X] [-uui U] place a call; prints its session id
  answer [-session ID]            answer (default: the ringing call)
  hangup [-session ID]            end or reject (default: the current call)
  mute [-session ID] / unmute     mute or unmute the microphone
  dtmf DIGITS [-session ID]       send DTMF (0-9 * # A-D)
  agent-status [STATUS [REASON]]  show, or set: free, notReady, stopNotReady,
                                  rest REASON, arrange
  events [-from ID]               follow the event stream until Ctrl-C
  logs [-n 100] [-f]              the phone's recent log lines; -f follows

options (before or after the command):
`

// Main runs ctl with the process's arguments (after "ctl"), environment and
// streams, stopping on Ctrl-C, and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// Run is Main with its context, environment and streams passed in.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout, errw: stderr, now: time.Now, retry: time.Second, poll: time.Second}
	return c.run(ctx, args, getenv)
}

// cli is one invocation.
type cli struct {
	opts  options // from the flags
	env   options // from $DESKPHONE_API, $DESKPHONE_TOKEN
	out   io.Writer
	errw  io.Writer
	now   func() time.Time
	retry time.Duration // first wait before re-connecting the event stream
	poll  time.Duration // how often logs -f asks for new lines
	api   *client
}

// options are the flags every command takes.
type options struct {
	api       string
	token     string
	tokenFile string
	json      bool
}

// addCommon registers the common flags on fs, defaulting to o's values,
// so that they may come before or after the command.
func addCommon(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.api, "api", o.api, "the phone's control API, http://HOST:PORT (default $DESKPHONE_API, else "+DefaultAPI+")")
	fs.StringVar(&o.token, "token", o.token, "bearer token, the phone's api.token (default $DESKPHONE_TOKEN)")
	fs.StringVar(&o.tokenFile, "token-file", o.tokenFile, "read the bearer token from this file")
	fs.BoolVar(&o.json, "json", o.json, "print the API's JSON (events: one object per line)")
}

func (c *cli) run(ctx context.Context, args []string, getenv func(string) string) int {
	// The environment's values are applied after parsing, so that usage
	// never prints a token.
	c.env = options{api: getenv("DESKPHONE_API"), token: getenv("DESKPHONE_TOKEN")}
	fs := c.flagSet("ctl")
	fs.Usage = func() {
		fmt.Fprint(c.errw, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	h, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(c.errw, "deskphone ctl: unknown command %q: use one of status, call, answer, hangup, mute, unmute, dtmf, agent-status, events, logs\n", cmd)
		return exitUsage
	}
	return h(c, ctx, rest)
}

// commands maps a command's name to its handler.
var commands = map[string]func(*cli, context.Context, []string) int{
	"status":       (*cli).status,
	"call":         (*cli).call,
	"answer":       sessionCmd("answer", "/v1/answer"),
	"hangup":       sessionCmd("hangup", "/v1/terminate"),
	"mute":         sessionCmd("mute", "/v1/mute"),
	"unmute":       sessionCmd("unmute", "/v1/unmute"),
	"dtmf":         (*cli).dtmf,
	"agent-status": (*cli).agentStatus,
	"events":       (*cli).events,
	"logs":         (*cli).logs,
}

func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.errw)
	addCommon(fs, &c.opts)
	return fs
}

// parse parses a command's flags, which may come before, between or after
// its positional arguments, and checks their count. It then builds the
// API client. ok is false after a usage message.
func (c *cli) parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int, synopsis string) (pos []string, ok bool) {
	fs.Usage = func() {
		fmt.Fprintf(c.errw, "usage: deskphone ctl %s\n", synopsis)
		fs.PrintDefaults()
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < minArgs || len(pos) > maxArgs {
		fmt.Fprintf(c.errw, "deskphone ctl: %s: expected %s\n", fs.Name(), argCount(minArgs, maxArgs))
		fs.Usage()
		return nil, false
	}
	api, err := c.client()
	if err != nil {
		fmt.Fprintf(c.errw, "deskphone ctl: %v\n", err)
		return nil, false
	}
	c.api = api
	return pos, true
}

func argCount(lo, hi int) string {
	switch {
	case lo == 0 && hi == 0:
		return "no arguments"
	case lo == hi:
		return fmt.Sprintf("%d argument(s)", lo)
	default:
		return fmt.Sprintf("%d to %d arguments", lo, hi)
	}
}

// client builds the API client from the options.
func (c *cli) client() (*client, error) {
	api := cmp.Or(c.opts.api, c.env.api, DefaultAPI)
	token := cmp.Or(c.opts.token, c.env.token)
	if c.opts.tokenFile != "" {
		if c.opts.token != "" {
			return nil, errors.New("give -token or -token-file, not both")
		}
		b, err := os.ReadFile(c.opts.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return nil, fmt.Errorf("-token-file %s is empty: put the phone's api.token in it", c.opts.tokenFile)
		}
	}
	return newClient(api, token)
}

// fail prints err for a person and returns the exit code.
func (c *cli) fail(err error) int {
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	fmt.Fprintf(c.errw, "deskphone ctl: %v\n", err)
	return exitError
}
