package phone

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"deskphone/config"
	"deskphone/phone/media"
	"deskphone/phone/sipua"
)

// fakeAddr is the SIP stack's side of address watching: what the routing
// table says (host, err) and what the phone set.
type fakeAddr struct {
	mu        sync.Mutex
	host, now string // the Contact's address; the route's source
	err       error
}

func (f *fakeAddr) LocalHost() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now, f.err
}

func (f *fakeAddr) Host() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.host
}

func (f *fakeAddr) SetHost(h string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := h != f.host
	f.host = h
	return changed, nil
}

type fakeRetry struct{ reasons []string }

func (r *fakeRetry) Retry(reason string) { r.reasons = append(r.reasons, reason) }
func (r *fakeRetry) Moved(reason string) { r.reasons = append(r.reasons, "moved: "+reason) }

// Every path of one look at the address: the same (nothing), a new one
// (set, and registered again with the reason), gone (one retry however
// long it stays gone), back as it was, back as another.
func TestCheckAddress(t *testing.T) {
	h := newHarness(t, nil, nil)
	ua := &fakeAddr{host: "10.0.0.2", now: "10.0.0.2"}
	reg := &fakeRetry{}
	gone := false
	look := func(now string, err error) {
		ua.mu.Lock()
		ua.now, ua.err = now, err
		ua.mu.Unlock()
		gone = h.p.checkAddress(ua, reg, gone)
	}
	noRoute := fmt.Errorf("%w: network is unreachable", sipua.ErrNoAddress)
	steps := []struct {
		now     string
		err     error
		host    string // the address set after the look
		gone    bool
		reasons string // the retries asked so far
	}{
		{"10.0.0.2", nil, "10.0.0.2", false, ""},
		{"10.0.0.3", nil, "10.0.0.3", false, "moved: the network address changed from 10.0.0.2 to 10.0.0.3"},
		{"", noRoute, "10.0.0.3", true, "changed from 10.0.0.2 to 10.0.0.3|10.0.0.3 is gone"},
		{"", noRoute, "10.0.0.3", true, "changed from 10.0.0.2 to 10.0.0.3|10.0.0.3 is gone"},
		{"10.0.0.3", nil, "10.0.0.3", false, "changed from 10.0.0.2 to 10.0.0.3|10.0.0.3 is gone|10.0.0.3 is back"},
		{"", noRoute, "10.0.0.3", true, "changed from 10.0.0.2 to 10.0.0.3|10.0.0.3 is gone|10.0.0.3 is back|10.0.0.3 is gone"},
		{"10.0.0.4", nil, "10.0.0.4", false, "changed from 10.0.0.2 to 10.0.0.3|10.0.0.3 is gone|10.0.0.3 is back|10.0.0.3 is gone|changed from 10.0.0.3 to 10.0.0.4"},
	}
	for i, st := range steps {
		look(st.now, st.err)
		want := strings.Split(st.reasons, "|")
		if st.reasons == "" {
			want = nil
		}
		if ua.Host() != st.host || gone != st.gone || len(reg.reasons) != len(want) {
			t.Fatalf("step %d (route %q, %v): address %s, gone %v, retries %q; want %s, %v, %q", i, st.now, st.err, ua.Host(), gone, reg.reasons, st.host, st.gone, want)
		}
		for j, w := range want {
			if !strings.Contains(reg.reasons[j], w) {
				t.Fatalf("step %d: retry %d says %q, want it to say %q", i, j, reg.reasons[j], w)
			}
		}
	}
	if !errors.Is(noRoute, sipua.ErrNoAddress) {
		t.Fatal("the no-route error lost its kind")
	}
}

// RTP listens on every address when account.listen's host is unspecified
// (the address may change during a call), else on the SDP's.
func TestRTPBindHost(t *testing.T) {
	for _, c := range []struct{ listen, want string }{
		{"0.0.0.0:5060", "0.0.0.0"}, {":5060", "0.0.0.0"}, {"127.0.0.1:5070", "127.0.0.1"},
	} {
		h := newHarness(t, nil, func(cfg *config.Config) { cfg.Account.Listen = c.listen })
		if got := h.p.rtpBindHost("127.0.0.1"); got != c.want {
			t.Errorf("listen %s: RTP bound to %s, want %s", c.listen, got, c.want)
		}
	}
}

// Calls follow a new address: a connected call and a held one are
// re-INVITEd with SDP naming it, each in its own direction, and stay up;
// the same address again sends nothing.
func TestFollowAddress(t *testing.T) {
	h := newHarness(t, nil, nil)
	held, _, dh := h.connect(nil)
	if err := h.p.Hold(held); err != nil {
		t.Fatal(err)
	}
	h.waitState(held, StateHeld)
	talk, _, dt := h.connect(nil)
	before := map[string]int{held: dh.Count("INVITE"), talk: dt.Count("INVITE")}

	h.p.followAddress("127.0.0.9")
	for sid, d := range map[string]interface {
		Count(string) int
	}{held: dh, talk: dt} {
		eventually(t, "a re-INVITE of "+sid, func() bool { return d.Count("INVITE") > before[sid] })
	}
	check := func(name string, sdp []byte, dir string) {
		t.Helper()
		desc, err := media.ParseDescription(sdp)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		neg, err := media.Negotiate(desc, h.p.codecs)
		if err != nil || neg.Remote.IP.String() != "127.0.0.9" {
			t.Fatalf("%s: the re-INVITE's SDP names %v (%v), want 127.0.0.9:\n%s", name, neg.Remote, err, sdp)
		}
		if !strings.Contains(string(sdp), "a="+dir) {
			t.Errorf("%s: the re-INVITE's SDP is not %s:\n%s", name, dir, sdp)
		}
	}
	reqs := dh.Reqs("INVITE")
	check("the held call", reqs[len(reqs)-1].SDP, media.SendOnly)
	reqs = dt.Reqs("INVITE")
	check("the connected call", reqs[len(reqs)-1].SDP, media.SendRecv)
	if h.state(held) != StateHeld || h.state(talk) != StateConnected {
		t.Fatalf("after the move: %s, %s; want held, connected", h.state(held), h.state(talk))
	}

	n := dt.Count("INVITE")
	h.p.followAddress("127.0.0.9")
	h.p.followAddress("127.0.0.9")
	if got := dt.Count("INVITE"); got != n {
		t.Fatalf("the same address again sent %d more re-INVITEs", got-n)
	}
}
