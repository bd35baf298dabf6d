package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"deskphone/phone"
)

// Render draws the model for a rows×cols display at the time now: exactly
// rows lines of at most cols characters. It reads nothing else, so the same
// model, size and time always give the same lines. A size of 0 (unknown)
// is taken as 4×20.
//
// The layout is chosen by the rows; the columns only choose abbreviations.
//
//   - compact, 1–2 rows (a 2×16 LCD). Idle: a header — the extension, a
//     short registration mark, and the time of day, or "No sync" when the
//     contact center does not have the agent status — over the one most
//     important line: the notice, else the agent status. Otherwise rows 2
//     and 3 of the standard layout: what is happening and with whom, then
//     the timer and MUTED, with the DTMF digits at the right when they fit.
//     A one-row display shows the second row.
//   - standard, 3–4 rows (a 4×20 LCD): the header (extension and
//     registration), then the agent status, "Status not synced" or the time
//     of day, and the notice; or "Dial:" and the digits; or the rest
//     reasons, two a row; or the call: what and who, the timer (MUTED), and
//     the digits, the phone's note or the other line ("L2 held 2000").
//   - tall, 5 rows and more (the 128×64 OLED's 8×21 text grid): the header
//     with the time of day, the standard rows, and rows of their own for
//     what the standard layout combines or drops: a call's number under its
//     remark, the other line, the status asked for after the call
//     ("Next: Rest Meal") or the agent status on the last row, one rest
//     reason a row.
//
// Only the rest-reason menu moves by itself: when the reasons are more than
// the rows hold, it pages through them by the time (see menu), and the UI's
// 1 s tick redraws it.
//
// Abbreviation rules, the same on every screen:
//   - a text has forms, longest first, and the first that fits is shown:
//     "Registered" → "Reg", "Talking 2000" → "Talk 2000", "From 3000" →
//     "3000", "Transfer failed (486)" → "Transfer failed 486" → "Xfer
//     failed 486", "Ended: you hung up" → "You hung up",
//     "Wrap-up 25s left" → "Wrap-up 25s", "Free 00:05" → "Free";
//   - a part at the right (the time of day, the DTMF digits) stays only if
//     one of the left text's forms fits beside it;
//   - typed digits keep their newest part: "<" and the tail;
//   - rest reasons that do not fit share the row equally: "1Mea 2Mee 3Tra";
//   - what still does not fit is cut at the width, keeping its beginning.
func Render(m Model, rows, cols int, now time.Time) []string {
	if rows <= 0 || cols <= 0 {
		rows, cols = 4, 20
	}
	var out []string
	switch {
	case rows <= 2:
		out = compact(m, cols, now)
		if rows == 1 {
			out = out[1:]
		}
	case rows <= 4:
		out = standard(m, cols, now)
	default:
		out = tall(m, rows, cols, now)
	}
	lines := make([]string, rows)
	for i := range min(len(out), rows) {
		lines[i] = cut(out[i], cols)
	}
	return lines
}

// compact is the 2-row layout.
func compact(m Model, cols int, now time.Time) []string {
	switch {
	case m.MenuOpen:
		return menu(m, 1, cols, now)
	case m.Call == nil && m.Dial != "":
		return []string{"Dial:", tail(m.Dial, cols)}
	case m.Call == nil:
		right := clock(now)
		if !synced(m.Agent) {
			right = "No sync"
		}
		second := fit(cols, statusForms(m.Agent, now)...)
		if m.Notice.Text != "" {
			second = fit(cols, m.Notice.forms()...)
		}
		return []string{header(m, cols, right, now), second}
	}
	what, status, _ := callRows(m.Call, m.Other, cols, now)
	return []string{what, withRight(cols, m.Call.Digits, status)}
}

// standard is the 4-row layout, today's 4×20 screen.
func standard(m Model, cols int, now time.Time) []string {
	head := header(m, cols, "", now)
	switch {
	case m.MenuOpen:
		return append([]string{head}, menu(m, 2, cols, now)...)
	case m.Call == nil && m.Dial != "":
		return []string{head, "Dial:", tail(m.Dial, cols), fit(cols, m.Notice.forms()...)}
	case m.Call == nil:
		third := withRight(cols, clock(now), "")
		if !synced(m.Agent) {
			third = fit(cols, "Status not synced", "Not synced")
		}
		return []string{head, fit(cols, statusForms(m.Agent, now)...), third, fit(cols, m.Notice.forms()...)}
	}
	what, status, third := callRows(m.Call, m.Other, cols, now)
	return []string{head, what, status, third}
}

// tall is the layout of 5 rows and more: the standard rows, and more.
func tall(m Model, rows, cols int, now time.Time) []string {
	lines := make([]string, rows)
	copy(lines, standard(m, cols, now))
	lines[0] = header(m, cols, clock(now), now)
	switch {
	case m.MenuOpen:
		copy(lines[1:], menu(m, rows-2, cols, now))
		return lines
	case m.Call == nil:
		if m.Dial == "" && synced(m.Agent) {
			lines[2] = "" // the time of day is in the header
		}
		return lines
	}
	c := m.Call
	_, _, lines[3] = callRows(c, nil, cols, now) // the other line has its own row
	if c.Label != c.Number && c.State != phone.StateRemoteHeld {
		lines[4] = fit(cols, "Number "+c.Number, c.Number)
	}
	if m.Other != nil && rows > 6 {
		lines[5] = otherLine(m.Other)
	}
	if a := m.Agent; rows > 5 {
		lines[rows-1] = fit(cols, statusForms(a, now)...)
		if a.Pending != nil {
			lines[rows-1] = fit(cols, "Next: "+statusName(a.Pending.Status, a.Pending.Reason), statusName(a.Pending.Status, a.Pending.Reason))
		}
	}
	return lines
}

// callRows are a call's rows 2–4 in the standard layout: what is
// happening and with whom; its timer or progress; and the digits, the
// phone's note, the caller's name or remark, or the other line.
func callRows(c, other *Call, cols int, now time.Time) (what, status, third string) {
	name := c.Label
	status = timer(c, now)
	third = fit(cols, noteForms(c.third())...)
	switch c.State {
	case phone.StateRinging:
		what = "Incoming call"
		if other != nil {
			what = "Call waiting"
		}
		status = fit(cols, "From "+name, name)
		third = c.PeerName
	case phone.StateDialing, phone.StateAlerting:
		what = fit(cols, "Call "+name, name)
		status = "Calling..."
		if c.State == phone.StateAlerting {
			status = "Ringing..."
		}
		third = c.Remark
	case phone.StateHeld, phone.StateHolding:
		what = fit(cols, "On hold "+name, "Hold "+name)
	case phone.StateRemoteHeld:
		what = fit(cols, "Held by "+c.Number, "Held "+c.Number)
	case phone.StateTransferring:
		what = fit(cols, "Transfer "+name, "Xfer "+name)
	default: // answering, connected, resuming
		what = fit(cols, "Talking "+name, "Talk "+name)
		if c.Muted {
			status = strings.TrimSpace(status + " MUTED")
		}
	}
	if other != nil {
		third = otherLine(other)
	}
	return what, status, third
}

// noBrackets is built once: a Replacer builds a 6 KB table on first use,
// and the display is rendered every second of a call.
var noBrackets = strings.NewReplacer("(", "", ")", "")

// noteForms are a phone's note (or the digits) and its shorter forms: the
// code's brackets dropped, then "Transfer" as "Xfer": "Transfer failed
// (486)" → "Transfer failed 486" → "Xfer failed 486".
func noteForms(s string) []string {
	bare := noBrackets.Replace(s)
	return []string{s, bare, strings.Replace(bare, "Transfer", "Xfer", 1)}
}

// otherLine is the second line's summary, e.g. "L2 held 2000".
func otherLine(o *Call) string { return fmt.Sprintf("L2 %s %s", o.State, o.Label) }

// timer is the time since the call was answered, mm:ss; "" before.
func timer(c *Call, now time.Time) string {
	if c.Accepted.IsZero() {
		return ""
	}
	return age(now.Sub(c.Accepted))
}

// header is the extension and the registration, with right (the time of
// day, …) at the right end when it fits beside one of their forms.
func header(m Model, cols int, right string, now time.Time) string {
	var forms []string
	for _, r := range regForms(m, now) {
		forms = append(forms, m.Ext+" "+r)
	}
	return withRight(cols, right, forms...)
}

// regForms are the registration's texts, longest first. While the
// phone waits to register again, the wait counts down.
func regForms(m Model, now time.Time) []string {
	r := m.Reg
	wait := ""
	if r.State == "failed" && r.RetryAt > 0 {
		if left := time.UnixMilli(r.RetryAt).Sub(now); left > 0 {
			wait = strconv.Itoa(int((left + time.Second - 1) / time.Second))
		}
	}
	switch {
	case m.NoService && wait != "":
		return []string{"No service, retry " + wait + "s", "No service " + wait + "s", "NoSvc " + wait}
	case m.NoService:
		return []string{"No service", "NoSvc"} // was registered: reconnecting (see onTryToReconnect)
	case r.State == "registered":
		return []string{"Registered", "Reg"}
	case r.State == "registering":
		return []string{"Registering", "Reg..."}
	case r.State == "failed" && r.Code == 0 && wait != "":
		return []string{"Not registered " + wait + "s", "Not reg. " + wait + "s", "NoReg " + wait}
	case r.State == "failed" && r.Code == 0:
		return []string{"Not registered", "NoReg"}
	case r.State == "failed":
		return []string{fmt.Sprintf("Not reg. (%d)", r.Code), fmt.Sprintf("NoReg %d", r.Code)}
	}
	return []string{"Logged out", "Off"}
}

// statusForms are the agent status line's texts, longest first: the status,
// its reason and how long it has lasted, or the wrap-up's countdown.
func statusForms(a phone.AgentState, now time.Time) []string {
	if a.Kicked {
		return []string{"Kicked out"}
	}
	name := statusName(a.Status, a.Reason)
	switch {
	case a.WrapUpLeft > 0:
		return []string{fmt.Sprintf("%s %ds left", name, a.WrapUpLeft), fmt.Sprintf("%s %ds", name, a.WrapUpLeft)}
	case a.Status == "offline":
		return []string{name}
	}
	return []string{name + " " + age(now.Sub(time.UnixMilli(a.Since))), name}
}

// statusName is how an agent status and its reason are shown.
func statusName(status, reason string) string {
	name := map[string]string{
		"free": "Free", "busy": "Busy", "arrange": "Wrap-up", "notReady": "Not ready",
		"rest": "Rest", "offline": "Offline",
	}[status]
	if name == "" {
		name = status
	}
	if reason != "" {
		name += " " + reason
	}
	return name
}

// synced reports whether the contact center has the agent status (or
// there is no contact center to tell).
func synced(a phone.AgentState) bool { return a.Sync == nil || a.Sync.InSync }

// age is mm:ss, or h:mm:ss past an hour.
func age(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// clock is the time of day, hh:mm in now's location.
func clock(now time.Time) string { return now.Format("15:04") }

// menu is the rest-reason menu's title row and n rows of reasons: one a
// row when there are more than two rows and they all fit, else two a row
// (on one row, as many as keep 3 letters each). When they are more than
// the rows hold, the rows show one page at a time from the first, the next
// every 2 s since the menu opened, and the title says which ("Rest reason:
// 1/3").
func menu(m Model, n, cols int, now time.Time) []string {
	reasons := m.Reasons
	perRow := 2
	switch {
	case n > 2 && len(reasons) <= n:
		perRow = 1
	case n == 1:
		perRow = max(1, (cols+1)/5) // "1Mea " is 5 wide
	}
	perPage := n * perRow
	pages := max(1, (len(reasons)+perPage-1)/perPage)
	page := 0
	if !m.MenuSince.IsZero() {
		page = int(max(now.Sub(m.MenuSince), 0)/(2*time.Second)) % pages
	}
	lines := []string{"Rest reason:"}
	if pages > 1 {
		lines[0] = withRight(cols, fmt.Sprintf("%d/%d", page+1, pages), "Rest reason:", "Reason:")
	}
	for i := range n {
		lines = append(lines, menuRow(reasons, page*perPage+i*perRow, perRow, cols))
	}
	return lines
}

// menuRow lists up to n rest reasons from the from-th, numbered as the
// digit that picks them ("1 Meal 2 Meeting"); when that is too wide, each
// gets an equal share of the row ("1Mea 2Mee 3Tra").
func menuRow(reasons []string, from, n, cols int) string {
	if from >= len(reasons) {
		return ""
	}
	reasons = reasons[from:min(from+n, len(reasons))]
	items := make([]string, len(reasons))
	for i, r := range reasons {
		items[i] = fmt.Sprintf("%d %s", from+i+1, r)
	}
	if row := strings.Join(items, " "); width(row) <= cols {
		return row
	}
	share := (cols - (len(items) - 1)) / len(items) // each item's width, spaces between
	for i, r := range reasons {
		items[i] = cut(fmt.Sprintf("%d%s", from+i+1, r), max(share, 1))
	}
	return strings.Join(items, " ")
}

// fit is the first form that fits in cols, else the last one cut.
func fit(cols int, forms ...string) string {
	for _, f := range forms {
		if width(f) <= cols {
			return f
		}
	}
	if len(forms) == 0 {
		return ""
	}
	return cut(forms[len(forms)-1], cols)
}

// withRight puts right at the row's right end after the first left form
// that fits beside it (one space between at least); when none does, right
// is dropped and the left is fitted alone.
func withRight(cols int, right string, left ...string) string {
	if right != "" {
		if len(left) == 0 {
			left = []string{""}
		}
		for _, l := range left {
			if gap := cols - width(l) - width(right); gap >= 1 || l == "" && gap >= 0 {
				return l + strings.Repeat(" ", gap) + right
			}
		}
	}
	return fit(cols, left...)
}

// tail keeps the newest digits: "<" and the last cols-1 when they do not
// all fit.
func tail(s string, cols int) string {
	n := width(s)
	if n <= cols {
		return s
	}
	if cols < 2 {
		return string([]rune(s)[n-cols:])
	}
	return "<" + string([]rune(s)[n-cols+1:])
}

// cut keeps the first cols characters.
func cut(s string, cols int) string {
	n := 0
	for i := range s {
		if n == cols {
			return s[:i]
		}
		n++
	}
	return s
}

func width(s string) int { return utf8.RuneCountInString(s) }
