package sipua

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fakeNotifier answers SUBSCRIBE and sends NOTIFYs, for what Kamailio
// cannot be made to do on cue (end a subscription, NOTIFY before the 2xx).
type fakeNotifier struct {
	t    *testing.T
	addr string
	port int
	cli  *sipgo.Client
	subs chan *sip.Request
	// beforeOK, if set, runs before the 2xx to an initial SUBSCRIBE.
	beforeOK func(req *sip.Request, tag string)
}

func newFakeNotifier(t *testing.T) *fakeNotifier {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fake-notifier"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	f := &fakeNotifier{t: t, addr: pc.LocalAddr().String(), port: port, cli: cli, subs: make(chan *sip.Request, 16)}
	srv.OnSubscribe(func(req *sip.Request, tx sip.ServerTransaction) {
		tag, _ := req.To().Params.Get("tag")
		if tag == "" {
			tag = sip.GenerateTagN(8)
			if f.beforeOK != nil {
				f.beforeOK(req, tag)
			}
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.To().Params.Add("tag", tag)
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: port}})
		res.AppendHeader(sip.NewHeader("Expires", req.GetHeader("Expires").Value()))
		_ = tx.Respond(res)
		f.subs <- req
	})
	go func() { _ = srv.ServeUDP(pc) }()
	t.Cleanup(func() { pc.Close(); ua.Close() })
	return f
}

// notify sends a NOTIFY in the dialog of SUBSCRIBE req and returns its answer.
func (f *fakeNotifier) notify(req *sip.Request, tag string, seq uint32, state, body string) int {
	f.t.Helper()
	n := sip.NewRequest(sip.NOTIFY, req.Contact().Address)
	from := &sip.FromHeader{Address: req.To().Address, Params: sip.NewParams()}
	from.Params.Add("tag", tag)
	to := &sip.ToHeader{Address: req.From().Address, Params: req.From().Params.Clone()}
	n.AppendHeader(from)
	n.AppendHeader(to)
	n.AppendHeader(sip.HeaderClone(req.CallID()))
	n.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.NOTIFY})
	n.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: f.port}})
	n.AppendHeader(sip.NewHeader("Event", "presence"))
	n.AppendHeader(sip.NewHeader("Subscription-State", state))
	if body != "" {
		n.AppendHeader(sip.NewHeader("Content-Type", "application/pidf+xml"))
		n.SetBody([]byte(body))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := f.cli.Do(ctx, n)
	if err != nil {
		f.t.Fatalf("NOTIFY: %v", err)
	}
	return int(res.StatusCode)
}

func (f *fakeNotifier) next() *sip.Request {
	f.t.Helper()
	select {
	case r := <-f.subs:
		return r
	case <-time.After(5 * time.Second):
		f.t.Fatal("no SUBSCRIBE within 5 s")
		return nil
	}
}

func toTag(r *sip.Request) string { t, _ := r.To().Params.Get("tag"); return t }

// A NOTIFY that ends the subscription makes it subscribe again (new
// dialog) after a back-off; a NOTIFY may come before the 2xx; the old
// dialog's NOTIFYs get 481; Close un-SUBSCRIBEs in the current dialog.
func TestSubscriptionResubscribesAfterTermination(t *testing.T) {
	old := RetryMin
	RetryMin = 20 * time.Millisecond
	t.Cleanup(func() { RetryMin = old })
	f := newFakeNotifier(t)
	u, err := New(Config{Registrar: f.addr, Domain: "127.0.0.1", User: "1001", Transport: "udp",
		Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	notes := make(chan Notify, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := u.Subscribe(ctx, SubscribeOptions{Event: "presence", Expires: 60, OnNotify: func(n Notify) { notes <- n }})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background()) // before RetryMin is restored, also on failure
	first := f.next()
	wait := func(want string) Notify {
		t.Helper()
		select {
		case n := <-notes:
			if string(n.Body) != want {
				t.Fatalf("NOTIFY body %q, want %q", n.Body, want)
			}
			return n
		case <-time.After(5 * time.Second):
			t.Fatalf("NOTIFY %q not delivered", want)
			return Notify{}
		}
	}
	sub.mu.Lock()
	d1, firstExpiry := sub.d, sub.expiry
	sub.mu.Unlock()
	d1.mu.Lock()
	remote := d1.remoteTag
	d1.mu.Unlock()
	if code := f.notify(first, remote, 1, "active;expires=60", "one"); code != 200 {
		t.Fatalf("NOTIFY answered %d", code)
	}
	if n := wait("one"); n.State != "active" || n.Expires != 60 {
		t.Fatalf("delivered %+v", n)
	}

	// The second initial SUBSCRIBE gets its first NOTIFY before its 2xx.
	f.beforeOK = func(req *sip.Request, tag string) {
		if code := f.notify(req, tag, 1, "active;expires=60", "two"); code != 200 {
			t.Errorf("NOTIFY before the 2xx answered %d", code)
		}
	}
	if code := f.notify(first, remote, 2, "terminated;reason=deactivated", ""); code != 200 {
		t.Fatalf("terminating NOTIFY answered %d", code)
	}
	if n := wait(""); n.State != "terminated" || n.Reason != "deactivated" {
		t.Fatalf("delivered %+v, want the termination", n)
	}
	second := f.next()
	if second.CallID().Value() == first.CallID().Value() || toTag(second) != "" {
		t.Fatal("the new SUBSCRIBE is not an initial one on a new dialog")
	}
	wait("two")
	// The 2xx may still be on its way: Close must find the new dialog.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		sub.mu.Lock()
		up := sub.d != nil && sub.d.callID == second.CallID().Value() && sub.expiry.After(time.Now().Add(50*time.Second)) && !sub.expiry.Equal(firstExpiry)
		sub.mu.Unlock()
		if up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second subscription never got its 2xx")
		}
	}
	if code := f.notify(first, remote, 3, "active;expires=60", "stale"); code != 481 {
		t.Fatalf("NOTIFY in the ended dialog answered %d, want 481", code)
	}

	if err := sub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	unsub := f.next()
	if unsub.CallID().Value() != second.CallID().Value() || toTag(unsub) == "" || unsub.GetHeader("Expires").Value() != "0" {
		t.Fatalf("un-SUBSCRIBE: Call-ID %s to-tag %q Expires %s", unsub.CallID().Value(), toTag(unsub), unsub.GetHeader("Expires").Value())
	}
}
