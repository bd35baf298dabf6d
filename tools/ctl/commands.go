package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

func (c *cli) status(ctx context.Context, args []string) int {
	if _, ok := c.parse(c.flagSet("status"), args, 0, 0, "status [-json]"); !ok {
		return exitUsage
	}
	raw, err := c.api.do(ctx, http.MethodGet, "/v1/state", nil)
	if err != nil {
		return c.fail(err)
	}
	if c.opts.json {
		return c.printJSON(raw)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return c.fail(fmt.Errorf("GET /v1/state: unexpected answer: %w", err))
	}
	c.printState(st)
	return exitOK
}

func (c *cli) call(ctx context.Context, args []string) int {
	fs := c.flagSet("call")
	remark := fs.String("remark", "", "note carried with the call (the SDK's remark)")
	uui := fs.String("uui", "", "user-to-user information sent with the INVITE")
	pos, ok := c.parse(fs, args, 1, 1, "call NUMBER [-remark X] [-uui U]")
	if !ok {
		return exitUsage
	}
	raw, err := c.api.do(ctx, http.MethodPost, "/v1/call", map[string]string{"to": pos[0], "remark": *remark, "uui": *uui})
	if err != nil {
		return c.fail(err)
	}
	if c.opts.json {
		return c.printJSON(raw)
	}
	var res struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.SessionID == "" {
		return c.fail(fmt.Errorf("POST /v1/call: no sessionId in the answer %s", raw))
	}
	fmt.Fprintln(c.out, res.SessionID)
	return exitOK
}

// sessionCmd is a command on one session (default: the current call).
func sessionCmd(name, path string) func(*cli, context.Context, []string) int {
	return func(c *cli, ctx context.Context, args []string) int {
		fs := c.flagSet(name)
		id := fs.String("session", "", "session id (default: the current call)")
		if _, ok := c.parse(fs, args, 0, 0, name+" [-session ID]"); !ok {
			return exitUsage
		}
		raw, err := c.api.do(ctx, http.MethodPost, path, map[string]string{"sessionId": *id})
		if err != nil {
			return c.fail(err)
		}
		return c.done(raw)
	}
}

func (c *cli) dtmf(ctx context.Context, args []string) int {
	fs := c.flagSet("dtmf")
	id := fs.String("session", "", "session id (default: the current call)")
	pos, ok := c.parse(fs, args, 1, 1, "dtmf DIGITS [-session ID]")
	if !ok {
		return exitUsage
	}
	raw, err := c.api.do(ctx, http.MethodPost, "/v1/dtmf", map[string]string{"sessionId": *id, "digits": pos[0]})
	if err != nil {
		return c.fail(err)
	}
	return c.done(raw)
}

// agentStatuses are the statuses the API sets, as the SDK spells them.
var agentStatuses = []string{"free", "notReady", "stopNotReady", "rest", "arrange"}

func (c *cli) agentStatus(ctx context.Context, args []string) int {
	pos, ok := c.parse(c.flagSet("agent-status"), args, 0, 2, "agent-status [free|notReady|stopNotReady|rest REASON|arrange]")
	if !ok {
		return exitUsage
	}
	var raw json.RawMessage
	var err error
	if len(pos) == 0 {
		raw, err = c.api.do(ctx, http.MethodGet, "/v1/agent/status", nil)
	} else {
		status := canonicalStatus(pos[0])
		if status == "" {
			fmt.Fprintf(c.errw, "deskphone ctl: agent-status: %q is not a status: use one of %s\n", pos[0], strings.Join(agentStatuses, ", "))
			return exitUsage
		}
		body := map[string]string{"status": status}
		if len(pos) == 2 {
			body["reason"] = pos[1]
		}
		// The phone checks the reason against agent.rest_reasons and says which.
		raw, err = c.api.do(ctx, http.MethodPost, "/v1/agent/status", body)
	}
	if err != nil {
		return c.fail(err)
	}
	if c.opts.json {
		return c.printJSON(raw)
	}
	var st agentState
	if err := json.Unmarshal(raw, &st); err != nil {
		return c.fail(fmt.Errorf("agent status: unexpected answer: %w", err))
	}
	c.printAgent(st)
	return exitOK
}

// canonicalStatus accepts a status in any case ("notready" → "notReady").
func canonicalStatus(s string) string {
	for _, v := range agentStatuses {
		if strings.EqualFold(s, v) {
			return v
		}
	}
	return ""
}

// done prints a function's plain success.
func (c *cli) done(raw json.RawMessage) int {
	if c.opts.json {
		return c.printJSON(raw)
	}
	fmt.Fprintln(c.out, "ok")
	return exitOK
}

func (c *cli) printJSON(raw json.RawMessage) int {
	fmt.Fprintf(c.out, "%s\n", raw)
	return exitOK
}
