package main

// The phone's web page in a real headless Chromium (chromedp), against the
// real phone, Kamailio and a baresip far end: log in, read the state, use
// the front panel by clicking to call and hang up, and change a setting.
// Each step leaves a PNG in run/screenshots/ (see README.md, "Web page").

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// chromiumPath is where Debian's chromium package (APT_PKGS) puts the browser.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir keeps the page's screenshots, relative to this package
// (the repository's run/, which git ignores).
var screenshotDir = filepath.Join("..", "run", "screenshots")

// requireChromium skips without DESKPHONE_E2E=1 and fails with it when the
// browser is missing, as labkit.Require does for the SIP peers.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("web page test: no Chromium at %s (%v); install the Debian package chromium with `make deps`", chromiumPath, err)
		if os.Getenv("DESKPHONE_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// page is one browser tab on the phone's page.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	mu   sync.Mutex
	errs []string // uncaught exceptions in the page
}

// openBrowser starts headless Chromium (as root here: no sandbox) with a
// phone-sized window and a throwaway profile; extra adds flags.
func openBrowser(t *testing.T, base string, extra ...chromedp.ExecAllocatorOption) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 915),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelAll := context.WithTimeout(ctx, 3*time.Minute)
	p := &page{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx) // starts the browser
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("browser console: %s", m)
			if m.IsException() {
				p.mu.Lock()
				p.errs = append(p.errs, m.Text)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelAll()
		cancelTab()
		cancelAlloc()
		<-done
	})
	return p
}

// do runs actions and fails the test on an error, with a screenshot.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second) // the browser lives on p.ctx
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failed")
		p.t.Fatalf("%s: %v", what, err)
	}
}

// click clicks the element the CSS selector finds.
func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// waitText waits until the element's text contains want.
func (p *page) waitText(sel, want string, timeout time.Duration) {
	p.t.Helper()
	expr := fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "").includes(%s)`, strconv.Quote(sel), strconv.Quote(want))
	p.waitJS(fmt.Sprintf("%s showing %q", sel, want), expr, timeout)
}

// waitJS waits until a JavaScript expression is true in the page.
func (p *page) waitJS(what, expr string, timeout time.Duration) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		p.shot("failed")
		p.t.Fatalf("the page never had %s within %s (%v); the display shows %q", what, timeout, err, p.text("#display"))
	}
}

// text is the element's text ("" if there is none).
func (p *page) text(sel string) string {
	s, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s)?.textContent ?? ""`, strconv.Quote(sel))))
	return s
}

// shot saves a full-page PNG as run/screenshots/NAME.png.
func (p *page) shot(name string) {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		p.t.Fatalf("screenshots: %v", err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	p.t.Logf("screenshot %s (%d bytes)", path, len(buf))
}

// noExceptions fails the test if the page's script threw.
func (p *page) noExceptions() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) > 0 {
		p.t.Fatalf("the page's script threw: %q", p.errs)
	}
}

// webPhone starts phone 1001 from a config file with an API token, so that
// the page's login and GET/PUT /v1/config have a file to work on.
func webPhone(t *testing.T, kam *labkit.Kamailio, token string) (*dut, string) {
	t.Helper()
	y := labkit.PhoneConfig{
		User: "1001", Password: labUsers["1001"], Registrar: kam.Addr(),
		HeardWAV: filepath.Join(t.TempDir(), "heard.wav"), API: fmt.Sprintf("127.0.0.1:%d", labkit.FreePort("tcp")),
		RingTimeout: "20s", AnswerTimeout: "20s",
	}.YAML() + "  token: " + strconv.Quote(token) + "\n" // under api:, the last section
	path := filepath.Join(t.TempDir(), "phone.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("test config does not validate: %v\n%s", err, y)
	}
	return startPhone(t, cfg), path
}

// TestWebPage drives the phone through its page only, by clicking.
func TestWebPage(t *testing.T) {
	labkit.Require(t)
	requireChromium(t)
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	const token = "web-e2e-t0ken-0123456789"
	u, cfgPath := webPhone(t, kam, token)
	u.registered()
	old, _ := filepath.Glob(filepath.Join(screenshotDir, "*.png"))
	for _, f := range old { // this run's screenshots only
		_ = os.Remove(f)
	}
	p := openBrowser(t, u.api)

	// 1. Log in with the token: the page sends to the form first.
	p.do("open the page", chromedp.Navigate(u.api+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	p.shot("01-login")
	p.do("a wrong token", chromedp.SendKeys(chromedp.ID("token"), "not-the-token-0123456789"), chromedp.Click(chromedp.ID("login-button")), chromedp.WaitVisible(chromedp.ID("login-error")))
	if got := p.text("#login-error"); !strings.Contains(got, "not this phone's API token") {
		t.Fatalf("wrong token: the form says %q", got)
	}
	p.do("log in", chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.ID("login-button")), chromedp.WaitVisible(chromedp.ID("display")))

	// 2. The state: registered, the extension, the idle display, live events.
	p.waitText("#registration", "registered", 10*time.Second)
	p.waitText("#extension", "1001", 5*time.Second)
	p.waitText("#live", "live", 5*time.Second) // EventSource authenticated by the cookie
	p.waitJS("the display filled in", `document.querySelector("#display").textContent.trim() !== ""`, 5*time.Second)
	p.waitJS("the LEDs with the registered one on", `document.querySelector('#leds li[data-led="registered"]')?.dataset.state === "on"`, 5*time.Second)
	p.shot("02-status")

	// 3. Dial 1002 on the front panel by clicking, then the green key.
	for _, k := range []string{"1", "0", "0", "2"} {
		p.click(`button[data-key="` + k + `"]`)
	}
	p.waitText("#display", "1002", 5*time.Second)
	p.shot("03-dialling")
	p.click(`button[data-key="call"]`)
	ns := u.waitEvent(event.NewSession, 5*time.Second, nil)
	id := field(ns.Data, "sessionId").(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	p.waitText("#display", "Talking 1002", 10*time.Second)
	p.waitJS("the call in the calls list", fmt.Sprintf(`!!document.querySelector('#calls li[data-session=%s]')`, strconv.Quote(id)), 5*time.Second)
	p.shot("04-talking")

	// 4. Hang up with the red key: the call ends on both sides and goes to
	// the history (pushed by the event stream).
	p.click(`button[data-key="end"]`)
	u.wantEnded(id, phone.EndLocalBye)
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatalf("baresip did not see the BYE: %v", err)
	}
	p.waitJS("the calls list empty", `document.querySelectorAll("#calls li").length === 0 && !document.querySelector("#no-calls").hidden`, 5*time.Second)
	p.waitJS("no Talking on the display", `!document.querySelector("#display").textContent.includes("Talking")`, 5*time.Second)
	row := fmt.Sprintf(`#history tr[data-session=%s]`, strconv.Quote(id))
	p.waitText(row, "LocalBye", 5*time.Second)
	p.waitText(row, "1002", time.Second)
	p.shot("05-ended")

	// 5. Settings: the file's text with its secrets masked; change a value
	// and save; the file on disk changes and keeps its secrets.
	p.click("#settings summary")
	p.waitJS("the config text", `document.querySelector("#config-text").value.includes("ring_timeout: 20s")`, 5*time.Second)
	text, err := chromedp.Run(p.ctx, chromedp.Value(chromedp.ID("config-text")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, token) || strings.Contains(text, labUsers["1001"]) || !strings.Contains(text, `"********"`) {
		t.Fatalf("the settings show a secret or no mask:\n%s", text)
	}
	p.do("edit ring_timeout", chromedp.SetValue(chromedp.ID("config-text"), strings.Replace(text, "ring_timeout: 20s", "ring_timeout: 25s", 1)))
	p.click("#config-save")
	p.waitText("#config-result", "applies after a restart", 5*time.Second)
	p.shot("06-settings-saved")
	saved, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("the saved file does not load: %v", err)
	}
	if saved.Calls.RingTimeout != 25*time.Second || saved.API.Token != token || saved.Account.Password != labUsers["1001"] {
		t.Fatalf("saved file: ring_timeout %v, token kept %v, password kept %v", saved.Calls.RingTimeout, saved.API.Token == token, saved.Account.Password == labUsers["1001"])
	}
	before, _ := os.ReadFile(cfgPath)

	// A bad value shows the config's own message; the file stays.
	text, _ = chromedp.Run(p.ctx, chromedp.Value(chromedp.ID("config-text")))
	bad := strings.Replace(text, "audio:\n", "audio:\n  rtp_ports: 16385-16583\n", 1)
	if bad == text {
		t.Fatalf("no audio: section to break in:\n%s", text)
	}
	p.do("break rtp_ports", chromedp.SetValue(chromedp.ID("config-text"), bad))
	p.click("#config-save")
	p.waitText("#config-result .problems", "audio.rtp_ports: 16385-16583 starts at an odd port", 5*time.Second)
	p.shot("07-settings-invalid")
	if after, _ := os.ReadFile(cfgPath); string(after) != string(before) {
		t.Fatalf("a refused setting changed the file:\n%s", after)
	}

	// The log tail shows the phone's own log; on a wide screen the page
	// puts the panel beside the status.
	p.click("#logs summary")
	p.waitText("#log-lines", "msg=", 5*time.Second)
	p.do("a desktop screen", chromedp.EmulateViewport(1280, 900))
	p.waitJS("two columns", `document.querySelector("#panel-section").getBoundingClientRect().right < document.querySelector("section[aria-label=status]").getBoundingClientRect().left + 1`, 5*time.Second)
	p.shot("08-desktop")

	// Log out: the page is closed again.
	p.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token")))
	p.noExceptions()
}
