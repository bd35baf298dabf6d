package presence

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"deskphone/phone/agent"
)

// XML namespaces of the document.
const (
	NSPIDF  = "urn:ietf:params:xml:ns:pidf"
	NSDM    = "urn:ietf:params:xml:ns:pidf:data-model"
	NSRPID  = "urn:ietf:params:xml:ns:pidf:rpid"
	NSAgent = "urn:deskphone:params:xml:ns:agent"
)

// ContentType is the body type published and accepted.
const ContentType = "application/pidf+xml"

// Limits on what a NOTIFY may make us parse.
const (
	MaxBody   = 64 << 10
	MaxTuples = 64
	maxText   = 256 // status, reason, since
)

// Tuple is one publication of the agent status found in a document.
type Tuple struct {
	ID     string // the tuple id: which device published it
	Basic  string // open or closed
	Change agent.Change
}

// Encode writes c as the PIDF document of tuple id for entity (the AOR).
func Encode(entity, id string, c agent.Change) ([]byte, error) {
	st, err := agent.ParseStatus(string(c.Status))
	if err != nil {
		return nil, fmt.Errorf("pidf: %w", err)
	}
	c.Status = st
	if c.Status != agent.Rest {
		c.Reason = ""
	}
	if len(c.Reason) > maxText {
		return nil, fmt.Errorf("pidf: the rest reason is longer than %d bytes", maxText)
	}
	if c.Since.IsZero() {
		return nil, errors.New("pidf: the change has no since time")
	}
	basic := "closed"
	if c.Status == agent.Free {
		basic = "open"
	}
	since := c.Since.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) // ms: the SDK's resolution, and a smaller PUBLISH
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<presence xmlns="%s" xmlns:dm="%s" xmlns:rpid="%s" entity="%s">`+"\n", NSPIDF, NSDM, NSRPID, esc(entity))
	fmt.Fprintf(&b, ` <tuple id="%s">`+"\n", esc(id))
	fmt.Fprintf(&b, `  <status><basic>%s</basic></status>`+"\n", basic)
	// The extension declares its namespace itself: the presence server
	// copies tuples into one document and must not lose the prefix.
	fmt.Fprintf(&b, `  <agent:agent xmlns:agent="%s">`, NSAgent)
	fmt.Fprintf(&b, `<agent:status>%s</agent:status>`, esc(string(c.Status)))
	if c.Reason != "" {
		fmt.Fprintf(&b, `<agent:reason>%s</agent:reason>`, esc(c.Reason))
	}
	fmt.Fprintf(&b, `<agent:since>%s</agent:since></agent:agent>`+"\n", since)
	note := string(c.Status)
	if c.Reason != "" {
		note += ": " + c.Reason
	}
	fmt.Fprintf(&b, `  <note>%s</note>`+"\n", esc(note))
	fmt.Fprintf(&b, `  <timestamp>%s</timestamp>`+"\n", since)
	b.WriteString(" </tuple>\n")
	if act := activity(c); act != "" {
		fmt.Fprintf(&b, ` <dm:person id="p-%s"><rpid:activities><rpid:%s/></rpid:activities></dm:person>`+"\n", esc(id), act)
	}
	b.WriteString("</presence>\n")
	return b.Bytes(), nil
}

// activity is the RPID activity (RFC 4480) closest to the status, for
// watchers that know only standard presence.
func activity(c agent.Change) string {
	switch c.Status {
	case agent.Busy:
		return "on-the-phone"
	case agent.Arrange, agent.NotReady:
		return "busy"
	case agent.Rest:
		r := strings.ToLower(c.Reason)
		switch {
		case strings.Contains(r, "meal"), strings.Contains(r, "lunch"), strings.Contains(r, "breakfast"), strings.Contains(r, "dinner"):
			return "meal"
		case strings.Contains(r, "meeting"), strings.Contains(r, "training"):
			return "meeting"
		}
		return "away"
	case agent.Offline:
		return "permanent-absence"
	default: // free: no activity, just open
		return ""
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

type pidfDoc struct {
	XMLName xml.Name    `xml:"urn:ietf:params:xml:ns:pidf presence"`
	Tuples  []pidfTuple `xml:"urn:ietf:params:xml:ns:pidf tuple"`
}

type pidfTuple struct {
	ID     string `xml:"id,attr"`
	Status struct {
		Basic string `xml:"urn:ietf:params:xml:ns:pidf basic"`
	} `xml:"urn:ietf:params:xml:ns:pidf status"`
	Agent     *agentElem `xml:"urn:deskphone:params:xml:ns:agent agent"`
	Timestamp string     `xml:"urn:ietf:params:xml:ns:pidf timestamp"`
}

type agentElem struct {
	Status string `xml:"urn:deskphone:params:xml:ns:agent status"`
	Reason string `xml:"urn:deskphone:params:xml:ns:agent reason"`
	Since  string `xml:"urn:deskphone:params:xml:ns:agent since"`
}

// Decode reads a PIDF document (possibly the presence server's aggregate of
// several publications) and returns the tuples that carry an agent status.
// Tuples without the extension are not ours and are skipped; a malformed
// one is skipped too and named in the error, next to the good ones. An
// empty body is no tuples and no error.
func Decode(body []byte) ([]Tuple, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("pidf: the body is %d bytes, more than %d", len(body), MaxBody)
	}
	var doc pidfDoc
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("pidf: not a PIDF document: %w", err)
	}
	if len(doc.Tuples) > MaxTuples {
		return nil, fmt.Errorf("pidf: %d tuples, more than %d", len(doc.Tuples), MaxTuples)
	}
	var out []Tuple
	var errs []error
	for i, t := range doc.Tuples {
		if t.Agent == nil {
			continue
		}
		c, err := t.change()
		if err != nil {
			errs = append(errs, fmt.Errorf("pidf: tuple %d (id %q): %w", i+1, clip(t.ID), err))
			continue
		}
		out = append(out, Tuple{ID: t.ID, Basic: strings.TrimSpace(t.Status.Basic), Change: c})
	}
	return out, errors.Join(errs...)
}

func (t pidfTuple) change() (agent.Change, error) {
	a := t.Agent
	if len(a.Status) > maxText || len(a.Reason) > maxText || len(a.Since) > maxText || len(t.Timestamp) > maxText {
		return agent.Change{}, fmt.Errorf("an element is longer than %d bytes", maxText)
	}
	if strings.TrimSpace(a.Status) == "" {
		return agent.Change{}, errors.New("no <agent:status>")
	}
	st, err := agent.ParseStatus(a.Status)
	if err != nil {
		return agent.Change{}, err
	}
	since := strings.TrimSpace(a.Since)
	if since == "" {
		since = strings.TrimSpace(t.Timestamp) // PIDF's own, if the extension has none
	}
	if since == "" {
		return agent.Change{}, errors.New("no <agent:since> and no <timestamp>")
	}
	at, err := time.Parse(time.RFC3339Nano, since)
	if err != nil {
		return agent.Change{}, fmt.Errorf("since %q is not an RFC 3339 time", clip(since))
	}
	c := agent.Change{Status: st, Since: at}
	if st == agent.Rest {
		c.Reason = strings.TrimSpace(a.Reason)
	}
	return c, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Newest is the tuple with the latest since (the first of equals), or nil.
func Newest(ts []Tuple) *Tuple {
	var best *Tuple
	for i := range ts {
		if best == nil || ts[i].Change.Since.After(best.Change.Since) {
			best = &ts[i]
		}
	}
	return best
}
