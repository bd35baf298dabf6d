package ui

import (
	"errors"
	"fmt"
	"slices"

	"deskphone/hal"
	"deskphone/phone"
)

// key acts on one key press, depending on the focused call.
func (u *UI) key(k hal.Key) {
	if u.statusKey(k) {
		return
	}
	f, _ := focus(u.p.State().Sessions)
	var err error
	switch {
	case f == nil:
		err = u.idleKey(k)
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
		u.setNotice(note(shortError(err)))
	}
}

// idleKey: digits are collected, the call key dials them, the end key
// clears them and the notice.
func (u *UI) idleKey(k hal.Key) error {
	u.mu.Lock()
	switch {
	case k.IsDigit():
		u.dial += string(k)
		u.notice = Notice{}
	case k == hal.KeyCall:
		dial := u.dial
		u.dial = ""
		u.mu.Unlock()
		if dial == "" {
			return nil
		}
		_, err := u.p.Call(dial, "", "")
		return err
	case k == hal.KeyEnd:
		u.dial, u.notice = "", Notice{}
	}
	u.mu.Unlock()
	return nil
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
			u.setNotice(note("No such reason"))
			return true
		}
		_, err = u.p.SetAgentStatus("rest", reasons[i])
	case menu && k == hal.KeyEnd:
		u.setNotice(Notice{}) // menu left
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
		u.restMenu, u.menuSince = true, u.now()
		u.mu.Unlock()
	case k == hal.KeyACW:
		if !u.p.EndWrapUp() {
			_, err = u.p.SetAgentStatus("arrange", "")
		}
	default:
		return false // another key leaves the menu and does its own job
	}
	if err != nil {
		u.setNotice(note(shortError(err)))
	}
	return true
}

func (u *UI) setNotice(n Notice) {
	u.mu.Lock()
	u.notice = n
	u.mu.Unlock()
}

func shortError(err error) string {
	if e, ok := errors.AsType[*phone.Error](err); ok {
		return fmt.Sprintf("Error %d", e.Code)
	}
	return "Error"
}
