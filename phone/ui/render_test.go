package ui_test

// Golden-file tests of Render: every screen on 2×16, 4×20 and 8×21, drawn
// in a frame in testdata/screens/<screen>_<rows>x<cols>.txt. After a change
// to the layout, regenerate with
//
//	go test ./phone/ui/ -run TestScreens -update
//
// and read the diff: the files are meant to be reviewed by eye.

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"deskphone/phone"
	"deskphone/phone/agent"
	"deskphone/phone/ui"
)

var update = flag.Bool("update", false, "rewrite testdata/screens from Render")

// now is the fixed time every screen is drawn at.
var now = time.Date(2026, 3, 14, 14, 5, 30, 0, time.UTC)

// sizes are the displays of the boards: the 2×16 and 4×20 LCDs, the
// SSD1306 OLED's text grid.
var sizes = [][2]int{{2, 16}, {4, 20}, {8, 21}}

type screen struct {
	name, about string
	m           ui.Model
	must        []string // visible on every size
}

func ago(d time.Duration) int64 { return now.Add(-d).UnixMilli() }

func registered() ui.Model {
	return ui.Model{
		Ext: "1001", Reg: phone.RegistrationInfo{State: "registered"},
		Agent:   phone.AgentState{StatusInfo: phone.StatusInfo{Status: "free", Since: ago(5 * time.Second)}},
		Reasons: []string{"Meal", "Meeting", "Training"},
	}
}

func with(f func(m *ui.Model)) ui.Model {
	m := registered()
	f(&m)
	return m
}

func busy(m *ui.Model, talk time.Duration) {
	m.Agent.Status, m.Agent.Since = "busy", ago(talk)
}

func talking(number, remark string, talk time.Duration) *ui.Call {
	c := &ui.Call{State: phone.StateConnected, Number: number, Label: number, Remark: remark, Accepted: now.Add(-talk)}
	if remark != "" {
		c.Label = remark
	}
	return c
}

func screens() []screen {
	return []screen{
		{"idle", "registered, free for 5 s", registered(), []string{"1001", "Reg", "Free"}},
		{"idle_registering", "registering", with(func(m *ui.Model) { m.Reg.State = "registering" }), []string{"1001", "Reg"}},
		{"idle_logged_out", "not logged in", with(func(m *ui.Model) { m.Reg.State = "unregistered" }), []string{"1001"}},
		{"idle_no_service", "was registered, the registrar stopped answering", with(func(m *ui.Model) { m.NoService = true }), []string{"1001", "No"}},
		{"idle_no_service_retry", "no service, the next attempt in 12 s", with(func(m *ui.Model) {
			m.NoService = true
			m.Reg = phone.RegistrationInfo{State: "failed", RetryAt: now.Add(11200 * time.Millisecond).UnixMilli()}
		}), []string{"1001", "No", "12"}},
		{"idle_not_registered_retry", "never registered (no answer), the next attempt in 4 s", with(func(m *ui.Model) {
			m.Reg = phone.RegistrationInfo{State: "failed", RetryAt: now.Add(4 * time.Second).UnixMilli()}
		}), []string{"1001", "4"}},
		{"idle_wrong_password", "registration refused 401, the onError notice", with(func(m *ui.Model) {
			m.Reg = phone.RegistrationInfo{State: "failed", Code: 401}
			m.Notice = ui.Notice{Text: "Wrong password (401)", Short: "Bad passwd (401)"}
		}), []string{"1001", "401", "passw"}},
		{"idle_not_synced", "the contact center does not have the status", with(func(m *ui.Model) {
			m.Agent.Sync = &agent.SyncState{Backend: "relay", InSync: false}
		}), []string{"Free", "ync"}},
		{"idle_kicked_out", "another device took over", with(func(m *ui.Model) { m.Agent.Kicked = true }), []string{"Kicked out"}},
		{"idle_rest_long", "rest with a reason, for over an hour", with(func(m *ui.Model) {
			m.Agent.Status, m.Agent.Reason, m.Agent.Since = "rest", "Training", ago(time.Hour+2*time.Minute+3*time.Second)
		}), []string{"Rest Training"}},
		{"idle_offline", "agent offline", with(func(m *ui.Model) { m.Agent.Status = "offline" }), []string{"Offline"}},
		{"wrap_up", "after-call work, 25 s left", with(func(m *ui.Model) {
			m.Agent.Status, m.Agent.WrapUpLeft = "arrange", 25
		}), []string{"Wrap-up 25s"}},
		{"ended_far_end_hung_up", "the far end hung up", with(func(m *ui.Model) { m.Notice = ui.Notice{Text: "Far end hung up"} }), []string{"Far end hung up"}},
		{"ended_you_hung_up", "the agent hung up", with(func(m *ui.Model) {
			m.Notice = ui.Notice{Text: "Ended: you hung up", Short: "You hung up"}
		}), []string{"ou hung up"}},
		{"ended_no_such_number", "404 to the INVITE", with(func(m *ui.Model) {
			m.Notice = ui.Notice{Text: "No such number (404)", Short: "No number (404)"}
		}), []string{"number (404)"}},
		{"ended_missed_lines_busy", "a call beyond max_lines", with(func(m *ui.Model) {
			m.Notice = ui.Notice{Text: "Missed: lines busy", Short: "Missed: busy"}
		}), []string{"Missed", "busy"}},
		{"ended_call_failed", "503 to the INVITE", with(func(m *ui.Model) {
			m.Notice = ui.Notice{Text: "Call failed (503)", Short: "Failed (503)"}
		}), []string{"ailed (503)"}},
		{"error_status_refused", "the status sync's backend refused a change", with(func(m *ui.Model) {
			m.Notice = ui.Notice{Text: "Status refused"}
		}), []string{"Status refused"}},
		{"dial", "digits typed", with(func(m *ui.Model) { m.Dial = "2000" }), []string{"Dial:", "2000"}},
		{"dial_long", "more digits than the width", with(func(m *ui.Model) { m.Dial = "00441234567890123456789" }), []string{"Dial:", "6789"}},
		{"rest_menu", "the Rest key with three reasons", with(func(m *ui.Model) { m.MenuOpen = true }), []string{"Rest reason:", "1", "2", "3"}},
		{"rest_menu_many", "seven reasons, just opened: the first page", with(func(m *ui.Model) {
			m.MenuOpen, m.MenuSince = true, now
			m.Reasons = []string{"Meal", "Meeting", "Training", "Coaching", "Toilet", "Smoke", "System issue"}
		}), []string{"Rest reason:", "1"}},
		{"calling", "INVITE sent", with(func(m *ui.Model) {
			busy(m, 0)
			m.Call = &ui.Call{State: phone.StateDialing, Number: "2000", Label: "2000"}
		}), []string{"2000", "Calling..."}},
		{"far_end_ringing", "180 received, a call placed with a remark", with(func(m *ui.Model) {
			busy(m, 2*time.Second)
			m.Call = &ui.Call{State: phone.StateAlerting, Number: "2000", Label: "ACME order 42", Remark: "ACME order 42"}
		}), []string{"ACME order", "Ringing..."}},
		{"ringing", "an inbound call", with(func(m *ui.Model) {
			m.Call = &ui.Call{State: phone.StateRinging, Number: "3000", Label: "3000"}
		}), []string{"Incoming call", "3000"}},
		{"ringing_name_remark", "an inbound call with user data and a display name", with(func(m *ui.Model) {
			m.Call = &ui.Call{State: phone.StateRinging, Number: "+4930123456", Label: "order=42", PeerName: "Alice Customer"}
		}), []string{"Incoming call", "order=42"}},
		{"call_waiting", "a second call rings while one is talked on", with(func(m *ui.Model) {
			busy(m, 12*time.Second)
			m.Call = &ui.Call{State: phone.StateRinging, Number: "3000", Label: "3000"}
			m.Other = talking("2000", "", 12*time.Second)
		}), []string{"Call waiting", "3000"}},
		{"talking", "a call answered 12 s ago", with(func(m *ui.Model) {
			busy(m, 12*time.Second)
			m.Call = talking("2000", "", 12*time.Second)
		}), []string{"Talking 2000", "00:12"}},
		{"talking_muted_digits", "muted, with DTMF digits typed and received", with(func(m *ui.Model) {
			busy(m, 75*time.Second)
			m.Call = talking("2000", "", 75*time.Second)
			m.Call.Muted, m.Call.Digits = true, "12#9"
		}), []string{"2000", "01:15 MUTED"}},
		{"talking_long_remark", "a remark longer than the width", with(func(m *ui.Model) {
			busy(m, 3*time.Second)
			m.Call = talking("2000", "Customer Li, order 4711 (refund)", 3*time.Second)
		}), []string{"Customer Li", "00:03"}},
		{"on_hold", "we hold the far end", with(func(m *ui.Model) {
			busy(m, 40*time.Second)
			m.Call = talking("2000", "", 40*time.Second)
			m.Call.State = phone.StateHeld
		}), []string{"old 2000", "00:40"}},
		{"held_by_far_end", "the far end holds us", with(func(m *ui.Model) {
			busy(m, 40*time.Second)
			m.Call = talking("2000", "", 40*time.Second)
			m.Call.State = phone.StateRemoteHeld
		}), []string{"Held", "2000"}},
		{"transfer", "a blind transfer in progress", with(func(m *ui.Model) {
			busy(m, 90*time.Second)
			m.Call = talking("2000", "", 90*time.Second)
			m.Call.State, m.Call.Note = phone.StateTransferring, "Transfer: 100 Trying"
		}), []string{"2000", "01:30"}},
		{"transfer_failed", "the transfer target was busy: the call stays up", with(func(m *ui.Model) {
			busy(m, 95*time.Second)
			m.Call = talking("2000", "", 95*time.Second)
			m.Call.Note = "Transfer failed (486)"
		}), []string{"Talking 2000", "01:35"}},
		{"two_lines", "talking on the second call, the first on hold", with(func(m *ui.Model) {
			busy(m, 5*time.Minute)
			m.Call = talking("3000", "", 20*time.Second)
			m.Other = talking("2000", "", 5*time.Minute)
			m.Other.State = phone.StateHeld
		}), []string{"Talking 3000", "00:20"}},
		{"rest_asked_in_call", "Rest pressed during a call: it waits for the call's end", with(func(m *ui.Model) {
			busy(m, 30*time.Second)
			m.Agent.Pending = &phone.StatusWant{Status: "rest", Reason: "Meal"}
			m.Call = talking("2000", "", 30*time.Second)
		}), []string{"Talking 2000", "00:30"}},
	}
}

// frame draws lines in a +---+ frame, cols wide.
func frame(lines []string, cols int) string {
	var b strings.Builder
	rule := "+" + strings.Repeat("-", cols) + "+\n"
	b.WriteString(rule)
	for _, l := range lines {
		b.WriteString("|" + l + strings.Repeat(" ", cols-utf8.RuneCountInString(l)) + "|\n")
	}
	b.WriteString(rule)
	return b.String()
}

func TestScreens(t *testing.T) {
	dir := filepath.Join("testdata", "screens")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	written := map[string]bool{}
	for _, s := range screens() {
		for _, size := range sizes {
			rows, cols := size[0], size[1]
			name := fmt.Sprintf("%s_%dx%d.txt", s.name, rows, cols)
			written[name] = true
			t.Run(name, func(t *testing.T) {
				lines := ui.Render(s.m, rows, cols, now)
				checkShape(t, lines, rows, cols)
				for _, w := range s.must {
					if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
						t.Errorf("%q is not visible:\n%s", w, frame(lines, cols))
					}
				}
				got := fmt.Sprintf("%s, %dx%d: %s\n%s", s.name, rows, cols, s.about, frame(lines, cols))
				path := filepath.Join(dir, name)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs (run with -update to accept):\ngot:\n%swant:\n%s", path, got, want)
				}
			})
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !written[e.Name()] {
			t.Errorf("%s: no screen draws it any more; delete it", filepath.Join(dir, e.Name()))
		}
	}
}

// Any size, even odd ones, gets exactly rows lines none wider than cols.
func TestRenderAnySize(t *testing.T) {
	for _, s := range screens() {
		for _, size := range [][2]int{{1, 8}, {1, 16}, {2, 8}, {3, 16}, {4, 16}, {4, 40}, {5, 10}, {6, 21}, {7, 21}, {12, 30}} {
			rows, cols := size[0], size[1]
			lines := ui.Render(s.m, rows, cols, now)
			checkShape(t, lines, rows, cols)
			if t.Failed() {
				t.Fatalf("%s at %dx%d:\n%s", s.name, rows, cols, frame(lines, cols))
			}
		}
	}
	// An unknown size (0×0) is taken as 4×20.
	if got, want := ui.Render(registered(), 0, 0, now), ui.Render(registered(), 4, 20, now); !slices.Equal(got, want) {
		t.Errorf("0x0 gave %q, want the 4x20 screen %q", got, want)
	}
}

func checkShape(t *testing.T, lines []string, rows, cols int) {
	t.Helper()
	if len(lines) != rows {
		t.Errorf("%d lines, want %d: %q", len(lines), rows, lines)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > cols {
			t.Errorf("line %d is %d wide, more than %d: %q", i+1, n, cols, l)
		}
	}
}

// A menu with more reasons than the rows hold pages through them, the
// next page every 2 s: over one cycle every reason is on the screen, each
// with the digit that picks it.
func TestRestMenuPages(t *testing.T) {
	reasons := []string{"Meal", "Meeting", "Training", "Coaching", "Toilet", "Smoke", "System issue"}
	m := with(func(m *ui.Model) { m.MenuOpen, m.MenuSince, m.Reasons = true, now, reasons })
	for _, size := range sizes {
		rows, cols := size[0], size[1]
		seen := map[string]bool{}
		var pages []string
		for s := range 12 {
			lines := ui.Render(m, rows, cols, now.Add(time.Duration(s)*time.Second))
			pages = append(pages, frame(lines, cols))
			for i, r := range reasons {
				digit := fmt.Sprint(i + 1)
				for _, l := range lines[1:] {
					// "3 Training", or abbreviated "3Tra": the digit and a start of the name.
					if strings.Contains(l, digit+" "+r) || strings.Contains(l, digit+r[:min(3, len(r))]) {
						seen[r] = true
					}
				}
			}
		}
		for _, r := range reasons {
			if !seen[r] {
				t.Errorf("%dx%d: reason %q never shown in 12 s; pages:\n%s", rows, cols, r, strings.Join(slices.Compact(pages), ""))
			}
		}
	}
}
