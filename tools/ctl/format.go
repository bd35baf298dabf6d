package ctl

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// The parts of GET /v1/state and GET /v1/agent/status that the human
// output shows (phone.State, phone.AgentState); -json shows all of it.
type state struct {
	Registration struct {
		State   string `json:"state"`
		Code    int    `json:"code"`
		Reason  string `json:"reason"`
		Expires int    `json:"expires"`
		RetryIn string `json:"retryIn"`
	} `json:"registration"`
	Connection string         `json:"connection"`
	Extension  string         `json:"extension"`
	UserID     string         `json:"userId"`
	Sessions   []sessionState `json:"sessions"`
	Agent      agentState     `json:"agent"`
}

type sessionState struct {
	SessionID        string `json:"sessionId"`
	SessionDirection string `json:"sessionDirection"`
	State            string `json:"state"`
	Caller           string `json:"callerPhoneNumber"`
	Callee           string `json:"calleePhoneNumber"`
	PeerName         string `json:"peerName"`
	Muted            bool   `json:"muted"`
	RemoteHold       bool   `json:"remoteHold"`
	StartTimestamp   int64  `json:"startTimestamp"`
	AcceptTimestamp  int64  `json:"acceptTimestamp"`
	Codec            string `json:"codec"`
}

type agentState struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Since   int64  `json:"since"`
	Pending *struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"pending"`
	WrapUpLeft int `json:"wrapUpLeft"`
	Sync       *struct {
		Backend string `json:"backend"`
		InSync  bool   `json:"inSync"`
		Error   string `json:"error"`
	} `json:"sync"`
	RestReasons []string `json:"restReasons"`
	Kicked      bool     `json:"kicked"`
}

func (c *cli) printState(st state) {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	reg := st.Registration.State
	switch {
	case st.Registration.Code != 0:
		reg += fmt.Sprintf(" (%d %s)", st.Registration.Code, st.Registration.Reason)
	case st.Registration.Reason != "":
		reg += " (" + st.Registration.Reason + ")"
	}
	if st.Registration.RetryIn != "" {
		reg += ", retry in " + st.Registration.RetryIn
	}
	fmt.Fprintf(tw, "registration\t%s\n", reg)
	if st.Connection != "" {
		fmt.Fprintf(tw, "connection\t%s\n", st.Connection)
	}
	fmt.Fprintf(tw, "extension\t%s (agent %s)\n", st.Extension, st.UserID)
	fmt.Fprintf(tw, "agent\t%s\n", c.agentLine(st.Agent))
	if len(st.Sessions) == 0 {
		fmt.Fprintf(tw, "calls\tnone\n")
		tw.Flush()
		return
	}
	tw.Flush()
	fmt.Fprintln(c.out)
	tw = tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tDIR\tSTATE\tPEER\tDURATION\tNOTES")
	for _, s := range st.Sessions {
		peer := s.Callee
		if s.SessionDirection == "CallIn" {
			peer = s.Caller
		}
		if s.PeerName != "" {
			peer += " (" + s.PeerName + ")"
		}
		// Talk time once answered; before, how long it has been ringing.
		from := s.StartTimestamp
		if s.AcceptTimestamp != 0 {
			from = s.AcceptTimestamp
		}
		var notes []string
		if s.Muted {
			notes = append(notes, "muted")
		}
		if s.RemoteHold {
			notes = append(notes, "held by the far end")
		}
		if s.Codec != "" {
			notes = append(notes, s.Codec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.SessionID, s.SessionDirection, s.State, peer,
			clock(c.now().Sub(time.UnixMilli(from))), strings.Join(notes, ", "))
	}
	tw.Flush()
}

func (c *cli) printAgent(a agentState) {
	fmt.Fprintf(c.out, "%s\n", c.agentLine(a))
	if len(a.RestReasons) > 0 {
		fmt.Fprintf(c.out, "rest reasons: %s\n", strings.Join(a.RestReasons, ", "))
	}
}

// agentLine is e.g. "rest (Meal) since 10:02:03, 2:05; sync relay: in sync".
func (c *cli) agentLine(a agentState) string {
	s := a.Status
	if a.Reason != "" {
		s += " (" + a.Reason + ")"
	}
	if a.Since != 0 {
		since := time.UnixMilli(a.Since)
		s += fmt.Sprintf(" since %s, %s", since.Format("15:04:05"), clock(c.now().Sub(since)))
	}
	if a.WrapUpLeft > 0 {
		s += fmt.Sprintf("; wrap-up ends in %d s", a.WrapUpLeft)
	}
	if a.Pending != nil {
		p := a.Pending.Status
		if a.Pending.Reason != "" {
			p += " (" + a.Pending.Reason + ")"
		}
		s += "; " + p + " when the call ends"
	}
	if a.Sync != nil {
		if a.Sync.InSync {
			s += "; sync " + a.Sync.Backend + ": in sync"
		} else {
			s += "; sync " + a.Sync.Backend + ": NOT in sync"
			if a.Sync.Error != "" {
				s += " (" + a.Sync.Error + ")"
			}
		}
	}
	if a.Kicked {
		s += "; kicked out (another device took the extension: log in again)"
	}
	return s
}

// clock is a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	sec := int(d / time.Second)
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}
