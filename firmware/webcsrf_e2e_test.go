package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// A web page in the agent's browser must not drive a phone whose API
// listens on loopback without a token (issue 14 §8: CSRF and DNS
// rebinding), tested in a real Chromium. The "attacker" is a page on
// another server that POSTs /v1/call to the phone, as any site could:
//
//  1. served from a loopback origin (http://127.0.0.1:P) the phone accepts
//     it and dials — proof that the browser does deliver the request;
//  2. the same page from a foreign origin (http://evil.lab.test:P, which
//     Chromium resolves to 127.0.0.1): refused, no call;
//  3. DNS rebinding (http://evil.lab.test:<the API's port>/): the phone
//     refuses the foreign Host, so the attacker's name reaches nothing.
func TestWebCrossOriginRefused(t *testing.T) {
	labkit.Require(t)
	requireChromium(t)
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"])) // no api.token
	u.registered()
	_, apiPort, _ := net.SplitHostPort(strings.TrimPrefix(u.api, "http://"))

	// The attacker's page: POST /v1/call as a form or a fetch without
	// pre-flight can (text/plain, no-cors), then say it is done.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	evil := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>waiting</title><script>
fetch("http://127.0.0.1:%s/v1/call", {method: "POST", mode: "no-cors", credentials: "include",
  headers: {"Content-Type": "text/plain"}, body: JSON.stringify({to: "1002"})})
  .then(() => { document.title = "sent" }, e => { document.title = "failed: " + e });
</script>`, apiPort)
	})}
	go func() { _ = evil.Serve(ln) }()
	t.Cleanup(func() { _ = evil.Close() })
	_, evilPort, _ := net.SplitHostPort(ln.Addr().String())

	p := openBrowser(t, u.api, chromedp.Flag("host-resolver-rules", "MAP evil.lab.test 127.0.0.1"))
	attack := func(origin string) {
		t.Helper()
		p.do("open "+origin, chromedp.Navigate(origin+"/"))
		p.waitJS("the attacker's request answered", `document.title === "sent"`, 10*time.Second)
	}

	// 1. A loopback origin: the phone dials.
	mark := u.eventCount()
	attack("http://127.0.0.1:" + evilPort)
	var id string
	for _, e := range u.eventsSince(mark) {
		if e.Name == event.NewSession {
			id, _ = field(e.Data, "sessionId").(string)
		}
	}
	if id == "" {
		t.Fatalf("a page on a loopback origin could not dial: the browser did not deliver the POST, so the refusals below would prove nothing\n%s", u.eventLog())
	}
	if _, err := far.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never got the call: %v", err)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))

	// 2. A foreign origin: refused. The fetch resolved, so the phone had
	// answered; a call would have been on the bus before that answer.
	mark = u.eventCount()
	attack("http://evil.lab.test:" + evilPort)
	for _, e := range u.eventsSince(mark) {
		if e.Name == event.NewSession {
			t.Fatalf("a page from http://evil.lab.test made the phone dial: %v", e.Data)
		}
	}
	if st := u.must("GET", "/v1/state", nil); len(st["sessions"].([]any)) != 0 {
		t.Fatalf("a session after the cross-origin POST: %v", st["sessions"])
	}

	// 3. DNS rebinding: the attacker's name now points at the phone.
	p.do("open the API under the attacker's name", chromedp.Navigate("http://evil.lab.test:"+apiPort+"/"))
	if body := p.text("body"); !strings.Contains(body, "is not this machine") {
		t.Fatalf("the phone served http://evil.lab.test:%s/: %q; want its Host refused", apiPort, body)
	}
	p.noExceptions()
}
