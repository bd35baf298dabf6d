// Package ui is what the agent sees and touches: it turns key presses and
// the hook switch into the phone's functions, and the phone's events into
// display lines and LEDs. It drives hal's interfaces, never a driver.
package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/event"
)

// Front is the part of a board the UI uses.
type Front interface {
	hal.Keypad
	hal.LEDs
	hal.Display
	hal.Hook
}

// UI runs one phone's front panel.
type UI struct {
	p     *phone.Phone
	front Front
	now   func() time.Time

	mu       sync.Mutex
	reg      phone.RegistrationInfo
	dial     string // digits typed while idle
	sess     *phone.SessionInfo
	state    string // phone.State* of sess
	alerting bool
	accepted time.Time
	muted    bool
	digits   string // DTMF typed or received in this call
	notice   string // last end reason or error, shown while idle
}

// New builds the UI; Run starts it.
func New(p *phone.Phone, front Front) *UI {
	return &UI{p: p, front: front, now: time.Now, reg: phone.RegistrationInfo{State: "unregistered"}}
}

// Run handles keys and events until ctx ends.
func (u *UI) Run(ctx context.Context) {
	events, stop := u.p.Bus().Subscribe(64)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	u.render()
	for {
		select {
		case <-ctx.Done():
			return
		case k, ok := <-u.front.Presses():
			if !ok {
				return
			}
			u.key(k)
		case off := <-u.front.Changes():
			u.hook(off)
		case e, ok := <-events:
			if !ok {
				return
			}
			u.apply(e)
		case <-tick.C:
			u.mu.Lock()
			live := u.state == phone.StateConnected
			u.mu.Unlock()
			if !live {
				continue // only the call timer changes by itself
			}
		}
		u.render()
	}
}

// key acts on one key press, depending on the call state.
func (u *UI) key(k hal.Key) {
	u.mu.Lock()
	sess, state, dial := u.sess, u.state, u.dial
	u.mu.Unlock()
	var err error
	switch {
	case sess == nil && k.IsDigit():
		u.mu.Lock()
		u.dial += string(k)
		u.notice = ""
		u.mu.Unlock()
	case sess == nil && k == hal.KeyCall && dial != "":
		u.mu.Lock()
		u.dial = ""
		u.mu.Unlock()
		_, err = u.p.Call(dial, "", "")
	case sess == nil && k == hal.KeyEnd:
		u.mu.Lock()
		u.dial, u.notice = "", ""
		u.mu.Unlock()
	case sess != nil && state == phone.StateRinging && k == hal.KeyCall:
		err = u.p.Answer(sess.SessionID)
	case sess != nil && k == hal.KeyEnd:
		err = u.p.Terminate(sess.SessionID)
	case sess != nil && state == phone.StateConnected && k.IsDigit():
		err = u.p.SendDTMF(sess.SessionID, string(k))
		if err == nil {
			u.mu.Lock()
			u.digits += string(k)
			u.mu.Unlock()
		}
	case sess != nil && state == phone.StateConnected && k == hal.KeyMute:
		u.mu.Lock()
		muted := u.muted
		u.mu.Unlock()
		if muted {
			err = u.p.Unmute(sess.SessionID)
		} else {
			err = u.p.Mute(sess.SessionID)
		}
	}
	if err != nil {
		u.mu.Lock()
		u.notice = shortError(err)
		u.mu.Unlock()
	}
}

// hook: lifting the handset answers a ringing call; hanging up ends a call.
func (u *UI) hook(off bool) {
	u.mu.Lock()
	sess, state := u.sess, u.state
	u.mu.Unlock()
	switch {
	case sess != nil && off && state == phone.StateRinging:
		_ = u.p.Answer(sess.SessionID)
	case sess != nil && !off && state != phone.StateRinging:
		_ = u.p.Terminate(sess.SessionID)
	}
}

func shortError(err error) string {
	if e, ok := err.(*phone.Error); ok {
		return fmt.Sprintf("Error %d", e.Code)
	}
	return "Error"
}

// apply updates the UI's view of the phone from one event.
func (u *UI) apply(e event.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch d := e.Data.(type) {
	case phone.RegistrationInfo:
		u.reg = d
	case phone.SessionInfo:
		u.sess, u.digits, u.muted, u.alerting, u.notice = &d, "", false, false, ""
		u.state = phone.StateDialing
		if d.SessionDirection == phone.CallIn {
			u.state = phone.StateRinging
		}
	case phone.RingingInfo:
		u.alerting = true
	case phone.SessionRef:
		if e.Name == event.Accepted {
			u.state, u.accepted = phone.StateConnected, u.now()
		}
	case phone.MutedInfo:
		u.muted = d.Muted
	case phone.DTMFInfo:
		u.digits += d.Digit
	case phone.Ended:
		u.sess, u.state = nil, ""
		u.notice = endText(d)
	case phone.ErrorInfo:
		if u.sess == nil && e.Name == event.Error {
			u.notice = errorText(d)
		}
	}
}

func endText(d phone.Ended) string {
	switch d.Reason {
	case phone.EndRemoteBye:
		return "Far end hung up"
	case phone.EndLocalBye:
		return "Ended: you hung up"
	case phone.EndRejected:
		return "Ended: rejected"
	case phone.EndRemoteCancel:
		return "Missed call"
	case phone.EndTimeout:
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
	switch d.ErrCode {
	case phone.ErrSIPUnauthorized:
		return "Wrong password (401)"
	case phone.ErrSIPForbidden:
		return "Login refused (403)"
	case phone.ErrSIPRequestTimeout:
		return "No registrar (408)"
	}
	return fmt.Sprintf("Error %d", d.ErrCode)
}

// Screen is what the display shows for the current view (rows lines).
func (u *UI) Screen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	ext := u.p.Config().Account.User
	var reg string
	switch u.reg.State {
	case "registered":
		reg = "Registered"
	case "registering":
		reg = "Registering"
	case "failed":
		reg = fmt.Sprintf("Not reg. (%d)", u.reg.Code)
		if u.reg.Code == 0 {
			reg = "Not registered"
		}
	default:
		reg = "Logged out"
	}
	lines := []string{fmt.Sprintf("%s %s", ext, reg)}
	if u.sess == nil {
		lines = append(lines, "Ready", "", u.notice)
		if u.dial != "" {
			lines[1], lines[2] = "Dial:", u.dial
		}
		return lines
	}
	peer := u.sess.CalleePhoneNumber
	if u.sess.SessionDirection == phone.CallIn {
		peer = u.sess.CallerPhoneNumber
	}
	switch u.state {
	case phone.StateRinging:
		lines = append(lines, "Incoming call", "From "+peer, strings.TrimSpace(u.sess.PeerName))
	case phone.StateDialing:
		status := "Calling..."
		if u.alerting {
			status = "Ringing..."
		}
		lines = append(lines, "Call "+peer, status, u.sess.Remark)
	case phone.StateConnected:
		d := u.now().Sub(u.accepted).Truncate(time.Second)
		status := fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
		if u.muted {
			status += " MUTED"
		}
		lines = append(lines, "Talking "+peer, status, u.digits)
	}
	return lines
}

func (u *UI) render() {
	_ = u.front.Show(u.Screen())
	u.mu.Lock()
	regd := u.reg.State == "registered"
	line := hal.LEDOff
	switch {
	case u.sess == nil:
	case u.state == phone.StateRinging:
		line = hal.LEDFastBlink
	case u.state == phone.StateConnected:
		line = hal.LEDOn
	default:
		line = hal.LEDBlink
	}
	mute := hal.LEDOff
	if u.sess != nil && u.muted {
		mute = hal.LEDOn
	}
	u.mu.Unlock()
	reg := hal.LEDOff
	if regd {
		reg = hal.LEDOn
	}
	_ = u.front.SetLED(hal.LEDReg, reg)
	_ = u.front.SetLED(hal.LEDLine, line)
	_ = u.front.SetLED(hal.LEDMute, mute)
}
