package labkit

import (
	"context"
	"embed"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Test-only scenarios, embedded: the test binary may run from any dir.
//
//go:embed testdata/*.xml
var testdata embed.FS

func testScenario(t *testing.T, name string) string {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startSIPp starts SIPp in the test's temporary dir and stops it (and
// logs its traces if the test failed) at cleanup.
func startSIPp(t *testing.T, opts SIPpOptions) *SIPp {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := StartSIPp(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sipp %s messages:\n%s\nerrors:\n%s", filepath.Base(s.stem), s.Log(), s.Errors())
		}
	})
	return s
}

// runUAC runs a UAC scenario against uas and waits for both to finish.
func runUAC(t *testing.T, ctx context.Context, uac SIPpOptions, uas *SIPp) (*SIPp, error) {
	t.Helper()
	uac.Remote = uas.Addr()
	c := startSIPp(t, uac)
	err := c.Wait(ctx)
	return c, err
}

func TestSIPpNoAck(t *testing.T) {
	Require(t)
	for _, tc := range []struct {
		name, uas string
		wantBYE   bool
	}{
		{"callee gives up with BYE", "phone_noack_uas.xml", true},
		{"callee only retransmits 200", "answer_uas.xml", false},
		{"callee rejects", "reject_uas.xml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			uas := startSIPp(t, SIPpOptions{Scenario: testScenario(t, tc.uas)})
			const wait = 2 * time.Second
			start := time.Now()
			uac, err := runUAC(t, ctx, SIPpOptions{Scenario: ScenarioNoAck, Vars: map[string]string{"wait_ms": "2000"}}, uas)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if err := uas.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(uas.Received("ACK")); got != 0 {
				t.Errorf("the callee received %d ACKs, want none", got)
			}
			if got := len(uac.Received("BYE")) > 0; got != tc.wantBYE {
				t.Errorf("caller received a BYE: %v, want %v", got, tc.wantBYE)
			}
			// With a BYE it ends at once; without, after wait_ms.
			if tc.wantBYE && took > wait || !tc.wantBYE && took < wait {
				t.Errorf("caller took %v (wait_ms %v, BYE %v)", took, wait, tc.wantBYE)
			}
			finals := 0
			for _, m := range uac.Messages() {
				if m.Received && (strings.HasPrefix(m.Text, "SIP/2.0 200") || strings.HasPrefix(m.Text, "SIP/2.0 486")) {
					finals++
				}
			}
			if tc.uas != "reject_uas.xml" && finals < 2 {
				t.Errorf("caller saw %d final responses: the callee's retransmissions were not exercised", finals)
			}
		})
	}
}

func TestSIPpRefresh(t *testing.T) {
	Require(t)
	for _, refreshes := range []int{3, 0} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		uas := startSIPp(t, SIPpOptions{Scenario: ScenarioSessionTimerUAS, Vars: map[string]string{"expires": "90"}})
		if _, err := runUAC(t, ctx, SIPpOptions{Scenario: ScenarioRefresh,
			Vars: map[string]string{"refreshes": strconv.Itoa(refreshes), "interval_ms": "100"}}, uas); err != nil {
			t.Fatal(err)
		}
		if err := uas.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		invites, acks, byes := uas.Received("INVITE"), uas.Received("ACK"), uas.Received("BYE")
		if len(invites) != 1+refreshes || len(acks) != 1+refreshes || len(byes) != 1 {
			t.Fatalf("refreshes=%d: callee received %d INVITEs, %d ACKs, %d BYEs", refreshes, len(invites), len(acks), len(byes))
		}
		// Each re-INVITE carries a newer SDP version, all in one dialog.
		oLine := regexp.MustCompile(`(?m)^o=\S+ \S+ (\d+) `)
		for i, m := range invites {
			if v := oLine.FindStringSubmatch(m.Body()); len(v) < 2 || v[1] != strconv.Itoa(i+1) {
				t.Errorf("INVITE %d: o= version %v, want %d", i, v, i+1)
			}
			if m.Header("Call-ID") != invites[0].Header("Call-ID") {
				t.Errorf("re-INVITE in another dialog: %s", m.Header("Call-ID"))
			}
		}
	}
}

func TestSIPpRefreshFailsOnRejectedReinvite(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uas := startSIPp(t, SIPpOptions{Scenario: testScenario(t, "reinvite_491_uas.xml")})
	_, err := runUAC(t, ctx, SIPpOptions{Scenario: ScenarioRefresh,
		Vars: map[string]string{"refreshes": "3", "interval_ms": "100"}}, uas)
	if err == nil || !strings.Contains(err.Error(), "491") {
		t.Fatalf("refresh answered with 491: %v; want a failure naming the 491", err)
	}
}

func TestSIPpInfoDTMF(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uas := startSIPp(t, SIPpOptions{Scenario: ScenarioUASInfoDTMF})
	if _, err := runUAC(t, ctx, SIPpOptions{Scenario: ScenarioInfoDTMF, Vars: map[string]string{"pause_ms": "50"}}, uas); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	infos := uas.Received("INFO")
	want := [][2]string{{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"}, {"application/dtmf", "7"}}
	if len(infos) != len(want) {
		t.Fatalf("callee received %d INFOs, want %d", len(infos), len(want))
	}
	for i, m := range infos {
		if ct, body := m.Header("Content-Type"), m.Body(); ct != want[i][0] || body != want[i][1] {
			t.Errorf("INFO %d: %s %q, want %s %q", i, ct, body, want[i][0], want[i][1])
		}
	}
}

func TestParseSIPpTrace(t *testing.T) {
	const trace = "----------------------------------------------- 2026-11-30 03:08:04.232919\n" +
		"UDP message sent (46 bytes):\n\n" +
		"INFO sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\n7\r\n\n\n" +
		"----------------------------------------------- 2026-11-30 03:08:04.233310\n" +
		"UDP message received [20] bytes :\n\n" +
		"SIP/2.0 200 OK\r\n\r\n\r\n\n\n" +
		"----------------------------------------------- 2026-11-30 03:08:04.233311\n" +
		"UDP message received [999] bytes :\n\nBYE sip:a@b SIP/2.0\r\n" // still being written
	ms := parseSIPpTrace(trace)
	if len(ms) != 2 {
		t.Fatalf("parsed %d messages, want 2: %+v", len(ms), ms)
	}
	if ms[0].Received || ms[0].Method() != "INFO" || ms[0].Header("content-length") != "3" || ms[0].Body() != "7\r\n" {
		t.Errorf("first: %+v (method %q, body %q)", ms[0], ms[0].Method(), ms[0].Body())
	}
	if !ms[1].Received || ms[1].Method() != "" || ms[1].Body() != "\r\n" {
		t.Errorf("second: %+v", ms[1])
	}
}

func TestSIPpSessionTimerUAS(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uas := startSIPp(t, SIPpOptions{Scenario: ScenarioSessionTimerUAS, Vars: map[string]string{"expires": "90"}})
	uac, err := runUAC(t, ctx, SIPpOptions{Scenario: testScenario(t, "update_uac.xml")}, uas)
	if err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The 200s to INVITE, re-INVITE, UPDATE (offer) and UPDATE (none):
	// each with the timer, an SDP exactly when the request had one.
	var got []string
	for _, m := range uac.Messages() {
		if m.Received && strings.HasPrefix(m.Text, "SIP/2.0 200") && !strings.HasSuffix(m.Header("CSeq"), "BYE") {
			if m.Header("Session-Expires") != "90;refresher=uac" || m.Header("Require") != "timer" {
				t.Errorf("200 to %s without the session timer: %q", m.Header("CSeq"), m.Text)
			}
			got = append(got, m.Header("CSeq")+" sdp="+strconv.FormatBool(m.Body() != ""))
		}
	}
	if want := "1 INVITE sdp=true|2 INVITE sdp=true|3 UPDATE sdp=true|4 UPDATE sdp=false"; strings.Join(got, "|") != want {
		t.Errorf("200s: %q, want %q", strings.Join(got, "|"), want)
	}
}
