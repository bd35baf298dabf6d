package sipua

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The registration event package (RFC 3680): a subscriber to Event: reg
// of an AOR hears which contacts are bound to it and why they came and
// went.

// ReginfoContentType is the body type of reg event NOTIFYs.
const ReginfoContentType = "application/reginfo+xml"

// ReginfoNS is the XML namespace of a reginfo document.
const ReginfoNS = "urn:ietf:params:xml:ns:reginfo"

// Limits on what ParseReginfo accepts: a desk phone's AOR has a handful of
// contacts; anything beyond these is an attack or a broken server.
const (
	MaxReginfoSize    = 64 << 10 // bytes
	maxRegistrations  = 64
	maxContactsPerAOR = 256
	maxReginfoURILen  = 2048
)

// Reginfo is one reginfo document (RFC 3680 §5.3).
type Reginfo struct {
	Version       int    // increases with every document of the subscription
	State         string // full (everything) or partial (only the changes)
	Registrations []RegRecord
}

// RegRecord is one <registration>: the bindings of one AOR.
type RegRecord struct {
	AOR      string // the address of record
	ID       string
	State    string // init, active or terminated
	Contacts []RegContact
}

// RegContact is one <contact> of a registration.
type RegContact struct {
	ID    string
	URI   string // the contact URI as bound
	State string // active or terminated
	// Event is why the contact is in that state: registered, created,
	// refreshed, shortened (active); expired, deactivated, probation,
	// unregistered, rejected (terminated).
	Event   string
	Expires int    // seconds left, when the server says (-1 if not)
	CallID  string // the REGISTER's Call-ID, when the server says (Kamailio does)
}

// Active reports whether the AOR's registration lists c as bound now.
func (c RegContact) Active() bool { return c.State == "active" }

type xmlReginfo struct {
	XMLName       xml.Name          `xml:"reginfo"`
	Version       *string           `xml:"version,attr"`
	State         string            `xml:"state,attr"`
	Registrations []xmlRegistration `xml:"registration"`
}

type xmlRegistration struct {
	AOR      *string      `xml:"aor,attr"`
	ID       string       `xml:"id,attr"`
	State    string       `xml:"state,attr"`
	Contacts []xmlContact `xml:"contact"`
}

type xmlContact struct {
	ID      string   `xml:"id,attr"`
	State   string   `xml:"state,attr"`
	Event   string   `xml:"event,attr"`
	Expires *string  `xml:"expires,attr"`
	CallID  string   `xml:"callid,attr"`
	URIs    []string `xml:"uri"`
}

// ParseReginfo decodes a reginfo document. It rejects what is not one
// (another root element or namespace, a registration without an aor, a
// contact without a URI, a state it does not know) and anything larger
// than MaxReginfoSize, with an error that says which.
func ParseReginfo(body []byte) (*Reginfo, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("reginfo: empty body")
	}
	if len(body) > MaxReginfoSize {
		return nil, fmt.Errorf("reginfo: body of %d bytes is larger than the %d accepted", len(body), MaxReginfoSize)
	}
	var x xmlReginfo
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	dec.CharsetReader = func(charset string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("charset %q: only UTF-8 is accepted", charset)
	}
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("reginfo: not a reginfo document: %w", err)
	}
	if x.XMLName.Space != "" && x.XMLName.Space != ReginfoNS {
		return nil, fmt.Errorf("reginfo: root element in namespace %q, want %s", x.XMLName.Space, ReginfoNS)
	}
	out := &Reginfo{State: strings.ToLower(strings.TrimSpace(x.State)), Version: -1}
	switch out.State {
	case "full", "partial":
	case "":
		return nil, errors.New("reginfo: <reginfo> has no state attribute (full or partial)")
	default:
		return nil, fmt.Errorf("reginfo: <reginfo> state %q, want full or partial", x.State)
	}
	if x.Version != nil {
		v, err := strconv.Atoi(strings.TrimSpace(*x.Version))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("reginfo: <reginfo> version %q is not a non-negative number", *x.Version)
		}
		out.Version = v
	}
	if len(x.Registrations) > maxRegistrations {
		return nil, fmt.Errorf("reginfo: %d registrations, more than the %d accepted", len(x.Registrations), maxRegistrations)
	}
	for i, r := range x.Registrations {
		if r.AOR == nil || strings.TrimSpace(*r.AOR) == "" {
			return nil, fmt.Errorf("reginfo: registration %d has no aor", i+1)
		}
		rec := RegRecord{AOR: strings.TrimSpace(*r.AOR), ID: r.ID, State: strings.ToLower(strings.TrimSpace(r.State))}
		switch rec.State {
		case "init", "active", "terminated":
		default:
			return nil, fmt.Errorf("reginfo: registration of %s: state %q, want init, active or terminated", rec.AOR, r.State)
		}
		if len(r.Contacts) > maxContactsPerAOR {
			return nil, fmt.Errorf("reginfo: registration of %s: %d contacts, more than the %d accepted", rec.AOR, len(r.Contacts), maxContactsPerAOR)
		}
		for j, c := range r.Contacts {
			rc, err := contactOf(c)
			if err != nil {
				return nil, fmt.Errorf("reginfo: registration of %s, contact %d: %w", rec.AOR, j+1, err)
			}
			rec.Contacts = append(rec.Contacts, rc)
		}
		out.Registrations = append(out.Registrations, rec)
	}
	return out, nil
}

func contactOf(c xmlContact) (RegContact, error) {
	rc := RegContact{ID: c.ID, CallID: c.CallID, Expires: -1,
		State: strings.ToLower(strings.TrimSpace(c.State)), Event: strings.ToLower(strings.TrimSpace(c.Event))}
	switch len(c.URIs) {
	case 0:
		return rc, errors.New("no <uri>")
	case 1:
	default:
		return rc, fmt.Errorf("%d <uri> elements, want one", len(c.URIs))
	}
	rc.URI = strings.TrimSpace(c.URIs[0])
	if rc.URI == "" {
		return rc, errors.New("empty <uri>")
	}
	if len(rc.URI) > maxReginfoURILen {
		return rc, fmt.Errorf("<uri> of %d bytes is longer than the %d accepted", len(rc.URI), maxReginfoURILen)
	}
	switch rc.State {
	case "active", "terminated":
	case "":
		return rc, fmt.Errorf("%s: no state attribute", rc.URI)
	default:
		return rc, fmt.Errorf("%s: state %q, want active or terminated", rc.URI, c.State)
	}
	if rc.Event == "" {
		return rc, fmt.Errorf("%s: no event attribute", rc.URI)
	}
	if c.Expires != nil {
		n, err := strconv.Atoi(strings.TrimSpace(*c.Expires))
		if err != nil {
			return rc, fmt.Errorf("%s: expires %q is not a number", rc.URI, *c.Expires)
		}
		rc.Expires = max(n, 0) // a negative one counts as none left
	}
	return rc, nil
}
