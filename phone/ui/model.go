package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"deskphone/phone"
	"deskphone/phone/conn"
)

// Model is what the screen shows, as plain data: built from phone.State
// and the UI's own notes by (*UI).model, drawn by Render. Tests build it
// by hand.
type Model struct {
	Ext       string                 // the account's extension
	Reg       phone.RegistrationInfo // registration
	NoService bool                   // was registered, the registrar stopped answering
	Agent     phone.AgentState       // status, its age, wrap-up, sync, kicked

	Dial      string    // digits typed while idle
	Notice    Notice    // the last end reason or error; zero: none
	MenuOpen  bool      // the Rest key was pressed: a digit picks a reason
	MenuSince time.Time // when it was pressed: long menus page from then on
	Reasons   []string  // the rest reasons the menu offers

	Call  *Call // the call the keys act on; nil when idle
	Other *Call // the other line, when there are two
}

// Call is what the screen shows of one call.
type Call struct {
	State    phone.CallState
	Number   string    // the far end's number
	Label    string    // how the far end is shown: the remark, the user data, else the number
	PeerName string    // the caller's display name
	Remark   string    // the remark given to Call
	Accepted time.Time // zero until answered
	Muted    bool
	Digits   string // DTMF typed or received in this call
	Note     string // the phone's note, e.g. a transfer's progress
}

// Notice is a one-line message with a short form for narrow displays.
type Notice struct {
	Text  string
	Short string // at most 16 characters; "" means Text is short enough
}

// note is a notice whose text is its own short form.
func note(text string) Notice { return Notice{Text: text} }

// forms are the notice's texts, longest first.
func (n Notice) forms() []string {
	if n.Short == "" {
		return []string{n.Text}
	}
	return []string{n.Text, n.Short}
}

// third is what the call's fourth standard row shows: the digits, or the
// phone's note while transferring or when no digit was typed.
func (c *Call) third() string {
	if c.Note != "" && (c.State == phone.StateTransferring || c.Digits == "") {
		return c.Note
	}
	return c.Digits
}

// model reads the phone's state ps and the UI's notes into a Model.
func (u *UI) model(ps phone.State) Model {
	cfg := u.p.Config()
	m := Model{
		Ext: cfg.Account.User, Reg: ps.Registration, NoService: ps.Connection == conn.Lost,
		Agent: ps.Agent, Reasons: slices.Clone(cfg.Agent.RestReasons),
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	m.Dial, m.Notice, m.MenuOpen, m.MenuSince = u.dial, u.notice, u.restMenu, u.menuSince
	f, others := focus(ps.Sessions)
	if f != nil {
		c := callOf(*f, u.digits[f.SessionID])
		m.Call = &c
	}
	if len(others) > 0 {
		o := callOf(others[0], "")
		m.Other = &o
	}
	return m
}

func callOf(st phone.SessionState, digits string) Call {
	c := Call{
		State: st.State, Number: st.Peer(), Label: label(st), PeerName: strings.TrimSpace(st.PeerName),
		Remark: st.Remark, Muted: st.Muted, Digits: digits, Note: st.Note,
	}
	if st.AcceptTimestamp != 0 {
		c.Accepted = time.UnixMilli(st.AcceptTimestamp)
	}
	return c
}

// focus is the call the keys act on and the display shows: a ringing call
// first (so it can be answered), then the one being talked on.
func focus(list []phone.SessionState) (f *phone.SessionState, others []phone.SessionState) {
	rank := func(st phone.CallState) int {
		switch st {
		case phone.StateRinging:
			return 0
		case phone.StateConnected, phone.StateRemoteHeld, phone.StateDialing, phone.StateAlerting,
			phone.StateAnswering, phone.StateResuming, phone.StateTransferring:
			return 1
		default:
			return 2
		}
	}
	best := -1
	for i := range list {
		if best < 0 || rank(list[i].State) < rank(list[best].State) {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	for i := range list {
		if i != best {
			others = append(others, list[i])
		}
	}
	return &list[best], others
}

// label is how a call's far end is shown: the remark or the user data when
// the call carries them, else the number.
func label(st phone.SessionState) string {
	switch {
	case st.Remark != "":
		return st.Remark
	case st.UUI != "":
		return st.UUI
	}
	return st.Peer()
}

// endText is the notice for how a call ended.
func endText(d phone.Ended) Notice {
	switch d.Reason {
	case phone.EndRemoteBye:
		return note("Far end hung up")
	case phone.EndLocalBye:
		if strings.HasPrefix(d.ReasonMessage, "transferred") {
			return note("Transferred")
		}
		return Notice{"Ended: you hung up", "You hung up"}
	case phone.EndRejected:
		return note("Ended: rejected")
	case phone.EndRemoteCancel:
		return note("Missed call")
	case phone.EndTimeout:
		if d.SIPCode == 486 {
			return Notice{"Missed: lines busy", "Missed: busy"}
		}
		return note("Ended: no answer")
	}
	switch d.SIPCode {
	case 404, 484, 604:
		return Notice{fmt.Sprintf("No such number (%d)", d.SIPCode), fmt.Sprintf("No number (%d)", d.SIPCode)}
	case 0:
		return note("Call failed")
	}
	return Notice{fmt.Sprintf("Call failed (%d)", d.SIPCode), fmt.Sprintf("Failed (%d)", d.SIPCode)}
}

// errorText is the notice for an onError.
func errorText(d phone.ErrorInfo) Notice {
	if d.ExtraInfo == "relay" || d.ExtraInfo == "sip" { // the status sync's backend
		return note("Status refused")
	}
	switch d.ErrCode {
	case phone.ErrSIPUnauthorized:
		return Notice{"Wrong password (401)", "Bad passwd (401)"}
	case phone.ErrSIPAuthRequired:
		return Notice{"Wrong password (407)", "Bad passwd (407)"}
	case phone.ErrSIPForbidden:
		return Notice{"Login refused (403)", "Refused (403)"}
	case phone.ErrSIPRequestTimeout:
		return Notice{"No registrar (408)", "No registrar 408"}
	}
	return note(fmt.Sprintf("Error %d", d.ErrCode))
}

// transferFailed is the notice for a failed transfer.
func transferFailed(code int) Notice {
	return Notice{fmt.Sprintf("Transfer failed %d", code), fmt.Sprintf("Xfer failed %d", code)}
}
