// Package ui is what the agent sees and touches: it turns key presses and
// the hook switch into the phone's functions, and the phone's events into
// display lines and LEDs. It drives hal's interfaces, never a driver.
package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/conn"
	"deskphone/phone/event"
)

// Front is the part of a board the UI uses.
type Front interface {
	hal.Keypad
	hal.LEDs
	hal.Display
	hal.Hook
}

// UI runs one phone's front panel. What it shows of a call is read from
// the phone's state on every render; it keeps only what is its own: the
// digits being typed, the digits of this call, and the last notice.
type UI struct {
	// OnKey, when set before Run, is told of every key press (the metrics
	// count them by key); it must not block.
	OnKey func(hal.Key)

	p     *phone.Phone
	front Front
	now   func() time.Time

	mu       sync.Mutex
	dial     string            // digits typed while idle
	digits   map[string]string // DTMF typed or received, per session
	notice   string            // last end reason or error, shown while idle
	restMenu bool              // the Rest key was pressed: a digit picks the reason
}

// New builds the UI; Run starts it.
func New(p *phone.Phone, front Front) *UI {
	return &UI{p: p, front: front, now: time.Now, digits: map[string]string{}}
}

// Run handles keys and events until ctx ends.
func (u *UI) Run(ctx context.Context) {
	events, stop := u.p.Bus().Subscribe(256)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hook := u.front.Changes()
	u.render()
	for {
		select {
		case <-ctx.Done():
			return
		case k, ok := <-u.front.Presses():
			if !ok {
				return
			}
			if u.OnKey != nil {
				u.OnKey(k)
			}
			u.key(k)
		case off, ok := <-hook:
			if !ok {
				hook = nil // the board closed it: no more hook changes
				continue
			}
			u.hook(off)
		case e, ok := <-events:
			if !ok {
				return
			}
			u.apply(e)
		case <-tick.C: // the call timer and the status's age change by themselves
		}
		u.render()
	}
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
		}
		return 2
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

// key acts on one key press, depending on the focused call.
func (u *UI) key(k hal.Key) {
	if u.statusKey(k) {
		return
	}
	f, _ := focus(u.p.State().Sessions)
	var err error
	switch {
	case f == nil && k.IsDigit():
		u.mu.Lock()
		u.dial += string(k)
		u.notice = ""
		u.mu.Unlock()
	case f == nil && k == hal.KeyCall:
		u.mu.Lock()
		dial := u.dial
		u.dial = ""
		u.mu.Unlock()
		if dial != "" {
			_, err = u.p.Call(dial, "", "")
		}
	case f == nil && k == hal.KeyEnd:
		u.mu.Lock()
		u.dial, u.notice = "", ""
		u.mu.Unlock()
	case f == nil:
	case f.State == phone.StateRinging && k == hal.KeyCall:
		err = u.p.Answer(f.SessionID)
	case f.State == phone.StateHeld && k == hal.KeyCall:
		err = u.p.Unhold(f.SessionID)
	case k == hal.KeyEnd:
		err = u.p.Terminate(f.SessionID)
	case k.IsDigit():
		if err = u.p.SendDTMF(f.SessionID, string(k)); err == nil {
			u.mu.Lock()
			u.digits[f.SessionID] += string(k)
			u.mu.Unlock()
		}
	case k == hal.KeyMute:
		if f.Muted {
			err = u.p.Unmute(f.SessionID)
		} else {
			err = u.p.Mute(f.SessionID)
		}
	}
	if err != nil {
		u.mu.Lock()
		u.notice = shortError(err)
		u.mu.Unlock()
	}
}

// hook: lifting the handset answers a ringing call; hanging up ends the
// call being talked on.
func (u *UI) hook(off bool) {
	list := u.p.State().Sessions
	f, _ := focus(list)
	switch {
	case f == nil:
	case off && f.State == phone.StateRinging:
		_ = u.p.Answer(f.SessionID)
	case !off:
		// The call talked on, even while a second call rings (and has
		// the focus): that one goes on ringing.
		talked := slices.DeleteFunc(list, func(s phone.SessionState) bool {
			return s.State == phone.StateRinging || s.State == phone.StateHeld
		})
		if t, _ := focus(talked); t != nil {
			_ = u.p.Terminate(t.SessionID)
		}
	}
}

// statusKey handles the agent-status keys and the rest-reason menu; it
// reports whether k was one of theirs.
func (u *UI) statusKey(k hal.Key) bool {
	u.mu.Lock()
	menu := u.restMenu
	u.restMenu = false
	u.mu.Unlock()
	reasons := u.p.Config().Agent.RestReasons
	var err error
	switch {
	case menu && k.IsDigit():
		i := int(k[0] - '1')
		if i < 0 || i >= len(reasons) {
			u.setNotice("No such reason")
			return true
		}
		_, err = u.p.SetAgentStatus("rest", reasons[i])
	case menu && k == hal.KeyEnd:
		u.setNotice("") // menu left
	case k == hal.KeyFree:
		_, err = u.p.SetAgentStatus("free", "")
	case k == hal.KeyNotReady:
		st := u.p.AgentStatus()
		if st.Status == "notReady" || st.Pending != nil && st.Pending.Status == "notReady" {
			_, err = u.p.SetAgentStatus("stopNotReady", "")
		} else {
			_, err = u.p.SetAgentStatus("notReady", "")
		}
	case k == hal.KeyRest && len(reasons) == 1:
		_, err = u.p.SetAgentStatus("rest", reasons[0])
	case k == hal.KeyRest && len(reasons) == 0:
		_, err = u.p.SetAgentStatus("rest", "")
	case k == hal.KeyRest:
		u.mu.Lock()
		u.restMenu = true
		u.mu.Unlock()
	case k == hal.KeyACW:
		if !u.p.EndWrapUp() {
			_, err = u.p.SetAgentStatus("arrange", "")
		}
	case menu:
		return false // another key leaves the menu and does its own job
	default:
		return false
	}
	if err != nil {
		u.setNotice(shortError(err))
	}
	return true
}

func (u *UI) setNotice(n string) {
	u.mu.Lock()
	u.notice = n
	u.mu.Unlock()
}

func shortError(err error) string {
	if e, ok := err.(*phone.Error); ok {
		return fmt.Sprintf("Error %d", e.Code)
	}
	return "Error"
}

// apply keeps the UI's own notes from one event.
func (u *UI) apply(e event.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch d := e.Data.(type) {
	case phone.SessionInfo:
		u.notice = ""
	case phone.DTMFInfo:
		u.digits[d.SessionID] += d.Digit
	case phone.Ended:
		delete(u.digits, d.SessionID)
		u.notice = endText(d)
	case phone.TransferInfo:
		if d.Status == "failed" {
			u.notice = fmt.Sprintf("Transfer failed %d", d.Code)
		}
	case phone.ErrorInfo:
		if e.Name == event.Error {
			u.notice = errorText(d)
		}
	}
}

func endText(d phone.Ended) string {
	switch d.Reason {
	case phone.EndRemoteBye:
		return "Far end hung up"
	case phone.EndLocalBye:
		if strings.HasPrefix(d.ReasonMessage, "transferred") {
			return "Transferred"
		}
		return "Ended: you hung up"
	case phone.EndRejected:
		return "Ended: rejected"
	case phone.EndRemoteCancel:
		return "Missed call"
	case phone.EndTimeout:
		if d.SIPCode == 486 {
			return "Missed: lines busy"
		}
		return "Ended: no answer"
	}
	switch d.SIPCode {
	case 404, 484, 604:
		return fmt.Sprintf("No such number (%d)", d.SIPCode)
	case 0:
		return "Call failed"
	}
	return fmt.Sprintf("Call failed (%d)", d.SIPCode)
}

func errorText(d phone.ErrorInfo) string {
	if d.ExtraInfo == "relay" || d.ExtraInfo == "sip" { // the status sync's backend
		return "Status refused"
	}
	switch d.ErrCode {
	case phone.ErrSIPUnauthorized:
		return "Wrong password (401)"
	case phone.ErrSIPAuthRequired:
		return "Wrong password (407)"
	case phone.ErrSIPForbidden:
		return "Login refused (403)"
	case phone.ErrSIPRequestTimeout:
		return "No registrar (408)"
	}
	return fmt.Sprintf("Error %d", d.ErrCode)
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

func (u *UI) timer(st phone.SessionState) string {
	if st.AcceptTimestamp == 0 {
		return ""
	}
	d := u.now().Sub(time.UnixMilli(st.AcceptTimestamp)).Truncate(time.Second)
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// Screen is what the display shows for the current view.
func (u *UI) Screen() []string {
	ps := u.p.State()
	ext := u.p.Config().Account.User
	var reg string
	switch {
	case ps.Connection == conn.Lost:
		reg = "No service" // was registered: reconnecting (see onTryToReconnect)
	default:
		reg = regText(ps.Registration)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	lines := []string{fmt.Sprintf("%s %s", ext, reg)}
	if u.restMenu {
		return append(lines, "Rest reason:", menuLine(u.p.Config().Agent.RestReasons, 0), menuLine(u.p.Config().Agent.RestReasons, 2))
	}
	f, others := focus(ps.Sessions)
	if f == nil {
		lines = append(lines, u.statusLine(ps.Agent), syncLine(ps.Agent), u.notice)
		if u.dial != "" {
			lines[1], lines[2] = "Dial:", u.dial
		}
		return lines
	}
	name := label(*f)
	third := u.digits[f.SessionID]
	if f.Note != "" && (f.State == phone.StateTransferring || third == "") {
		third = f.Note
	}
	switch f.State {
	case phone.StateRinging:
		title := "Incoming call"
		if len(others) > 0 {
			title = "Call waiting"
		}
		lines = append(lines, title, "From "+name, strings.TrimSpace(f.PeerName))
	case phone.StateDialing, phone.StateAlerting:
		status := "Calling..."
		if f.State == phone.StateAlerting {
			status = "Ringing..."
		}
		lines = append(lines, "Call "+name, status, f.Remark)
	case phone.StateHeld, phone.StateHolding:
		lines = append(lines, "On hold "+name, u.timer(*f), third)
	case phone.StateRemoteHeld:
		lines = append(lines, "Held by "+f.Peer(), u.timer(*f), third)
	case phone.StateTransferring:
		lines = append(lines, "Transfer "+name, u.timer(*f), third)
	default:
		status := u.timer(*f)
		if f.Muted {
			status += " MUTED"
		}
		lines = append(lines, "Talking "+name, status, third)
	}
	if len(others) > 0 {
		o := others[0]
		lines[len(lines)-1] = fmt.Sprintf("L2 %s %s", o.State, label(o))
	}
	return lines
}

// statusLine is the agent status and how long it has lasted, or the
// wrap-up's countdown.
func (u *UI) statusLine(a phone.AgentState) string {
	if a.Kicked {
		return "Kicked out"
	}
	name := map[string]string{
		"free": "Free", "busy": "Busy", "arrange": "Wrap-up", "notReady": "Not ready",
		"rest": "Rest", "offline": "Offline",
	}[a.Status]
	if name == "" {
		name = a.Status
	}
	if a.Reason != "" {
		name += " " + a.Reason
	}
	if a.WrapUpLeft > 0 {
		return fmt.Sprintf("%s %ds left", name, a.WrapUpLeft)
	}
	if a.Status == "offline" {
		return name
	}
	return name + " " + age(u.now().Sub(time.UnixMilli(a.Since)))
}

// age is m:ss, or h:mm:ss past an hour.
func age(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// syncLine says when the contact center does not have the status.
func syncLine(a phone.AgentState) string {
	if a.Sync == nil || a.Sync.InSync {
		return ""
	}
	return "Status not synced"
}

// menuLine is two rest reasons, numbered from i+1.
func menuLine(reasons []string, i int) string {
	var parts []string
	for j := i; j < min(i+2, len(reasons)); j++ {
		parts = append(parts, fmt.Sprintf("%d %s", j+1, reasons[j]))
	}
	return strings.Join(parts, " ")
}

// statusLED is how the status LED shows each agent status: a colour on an
// RGB LED, a pattern on a single-colour one.
var statusLED = map[string]struct {
	c  hal.Color
	rg hal.LEDState // on an RGB LED
	mn hal.LEDState // on a single-colour LED
}{
	"free":     {hal.Green, hal.LEDOn, hal.LEDOn},
	"busy":     {hal.Red, hal.LEDOn, hal.LEDOff},
	"arrange":  {hal.Amber, hal.LEDBlink, hal.LEDFastBlink},
	"notReady": {hal.Amber, hal.LEDOn, hal.LEDBlink},
	"rest":     {hal.Blue, hal.LEDOn, hal.LEDBlink},
}

func (u *UI) setStatusLED(status string) {
	look := statusLED[status] // offline: none, so off
	if c, ok := u.front.(hal.ColorLEDs); ok {
		_ = c.SetLEDColor(hal.LEDStatus, look.c, look.rg)
		return
	}
	_ = u.front.SetLED(hal.LEDStatus, look.mn)
}

// render sets the LEDs, then the display: a test that sees the display
// change can read the LEDs already set.
func (u *UI) render() {
	ps := u.p.State()
	f, _ := focus(ps.Sessions)
	line := hal.LEDOff
	switch {
	case f == nil:
	case f.State == phone.StateRinging:
		line = hal.LEDFastBlink
	case f.State == phone.StateConnected || f.State == phone.StateRemoteHeld || f.State == phone.StateTransferring:
		line = hal.LEDOn
	default: // dialing, alerting, held
		line = hal.LEDBlink
	}
	mute := hal.LEDOff
	if f != nil && f.Muted {
		mute = hal.LEDOn
	}
	reg := hal.LEDOff
	if ps.Registration.State == "registered" {
		reg = hal.LEDOn
	}
	u.setStatusLED(ps.Agent.Status)
	_ = u.front.SetLED(hal.LEDReg, reg)
	_ = u.front.SetLED(hal.LEDLine, line)
	_ = u.front.SetLED(hal.LEDMute, mute)
	_ = u.front.Show(u.Screen())
}

// regText is the header's registration status.
func regText(r phone.RegistrationInfo) string {
	switch r.State {
	case "registered":
		return "Registered"
	case "registering":
		return "Registering"
	case "failed":
		if r.Code == 0 {
			return "Not registered"
		}
		return fmt.Sprintf("Not reg. (%d)", r.Code)
	default:
		return "Logged out"
	}
}
