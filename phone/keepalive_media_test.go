package phone

import (
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone/event"
	"deskphone/phone/signal"
	"deskphone/phone/signal/sigtest"
)

// Signalling fails while the media path works (the proxy restarting, the
// link to it down): in-dialog keepalives go unanswered, yet the far end's
// RTP still arrives, so the call stays up. Once the RTP stops too, two
// unanswered keepalives end it.
func TestKeepaliveUnansweredWhileRTPFlows(t *testing.T) {
	h := newHarness(t, nil, func(cfg *config.Config) {
		cfg.Calls.Keepalive = 50 * time.Millisecond
		cfg.Calls.FirstMediaTimeout, cfg.Calls.MediaTimeout = 0, 0 // only the keepalive judges here
	})
	sid, o := h.dial()
	far := newFarRTP(t, o.Req.SDP)
	d := sigtest.NewDialog(far.answer).SetPingErr(signal.ErrTimeout)
	o.Answer(d)
	h.rec.wait(t, sid, event.Accepted, 1)

	deadline := time.Now().Add(20 * time.Second)
	for d.Count("OPTIONS") < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d keepalives in 20 s", d.Count("OPTIONS"))
		}
		far.send(1, func(int) int16 { return 1000 })
		time.Sleep(10 * time.Millisecond) // the far end's packet pace, not a wait for a condition
	}
	if got := h.rec.of(sid, event.Ended); len(got) != 0 {
		t.Fatalf("the call ended while the far end's RTP flowed: %v", got[0].Data)
	}
	// The RTP stops: the next two unanswered keepalives end the call.
	wantEnded(t, h.rec, sid, EndError, 408)
	d.WaitReq(t, "BYE", 1, wait)
}
