package phone

// Media faults (tccc-agent.md §5, the RTC rows). A call whose far end sends
// no RTP at all within calls.first_media_timeout of the answer is reported
// with onWarning -3307 and goes on (a far end that only listens is odd, not
// broken). A call whose RTP stops for calls.media_timeout after it flowed
// ends with Error and -3308: the media path died (a crashed far end, a
// NAT binding gone) while SIP may still answer. Neither clock runs while
// the call is on hold, either side: a held far end may stop sending.
//
// The watchdog samples the stream's received-packet count on the phone's
// clock (clockwork), so unit tests step a fake clock and wait for nothing.

import (
	"fmt"
	"time"

	"deskphone/phone/signal"
)

// The RTC error codes of media faults.
const (
	ErrRTCRequestIPTimeout     = -3307 // no RTP at all after answer
	ErrRTCConnectServerTimeout = -3308 // RTP stopped mid-call
)

// mediaWatchPeriod is how often the watchdog looks: a tenth of the
// shortest timeout, within 20 ms–1 s, so a fault is found within about
// 10 % of its timeout at a negligible cost (one atomic snapshot).
func mediaWatchPeriod(first, mid time.Duration) time.Duration {
	shortest := max(first, mid)
	if first > 0 && mid > 0 {
		shortest = min(first, mid)
	}
	return min(max(shortest/10, 20*time.Millisecond), time.Second)
}

// watchMedia runs for a connected call until it ends: see the top of the
// file. A timer re-armed per look (not a ticker) lets a test's fake clock
// see when the watchdog waits again.
func (s *Session) watchMedia(d signal.Dialog) {
	first, mid := s.p.cfg.Calls.FirstMediaTimeout, s.p.cfg.Calls.MediaTimeout
	if first <= 0 && mid <= 0 {
		return
	}
	clk := s.p.clock
	period := mediaWatchPeriod(first, mid)
	since := clk.Now() // answer, or the end of the last hold: the first-media clock
	lastSeen := since  // the last time packets arrived (or the call was held)
	var count uint64
	warned := false
	var hungUp <-chan struct{}
	if d != nil {
		hungUp = d.Done()
	}
	t := clk.NewTimer(period) // re-armed per look: a new one each time was 3 heap objects, twice a second
	defer t.Stop()
	for {
		t.Reset(period)
		select {
		case <-s.done:
			return
		case <-hungUp:
			return
		case <-t.Chan():
		}
		now := clk.Now()
		s.mu.Lock()
		st := s.stream
		held := s.remoteHold || s.weHoldLocked() || s.state == StateHolding
		s.mu.Unlock()
		if st == nil {
			return // ended
		}
		n := st.Stats().PacketsReceived
		switch {
		case held:
			since, lastSeen, count = now, now, n
			continue
		case n != count:
			count, lastSeen = n, now
		}
		if n == 0 {
			if !warned && first > 0 && now.Sub(since) >= first {
				warned = true
				s.publishLive(func() {
					s.p.publishWarning(ErrRTCRequestIPTimeout,
						fmt.Sprintf("no RTP from the far end %v after the call was answered: is UDP blocked, or its SDP address wrong? (-3307; the call goes on)", first.Round(time.Millisecond)), s.ID)
				})
			}
			continue
		}
		if mid > 0 && now.Sub(lastSeen) >= mid {
			s.mediaTimedOut(d, now.Sub(lastSeen))
			return
		}
	}
}

// mediaTimedOut ends a call whose RTP stopped: onError -3308, then onEnded
// Error with the code in reasonMessage, then BYE.
func (s *Session) mediaTimedOut(d signal.Dialog, silent time.Duration) {
	msg := fmt.Sprintf("media timed out (%d): no RTP from the far end for %v (calls.media_timeout)", ErrRTCConnectServerTimeout, silent.Round(time.Millisecond))
	s.publishLive(func() { s.p.publishError(ErrRTCConnectServerTimeout, msg, s.ID) })
	if s.finish(EndError, msg, 0) {
		s.bye(d)
	}
}

// deviceFailed reports a sound device that failed mid-call (the stream's
// OnDeviceError), once per device and stream: onError -1302 for the
// microphone, -1321 for the speaker, naming the device and route.
func (s *Session) deviceFailed(which string, err error) {
	code := ErrMicStartFail
	if which == "speaker" {
		code = ErrSpeakerStartFail
	}
	msg := fmt.Sprintf("%s failed mid-call (%s route): %v; the call goes on without it", which, s.p.AudioRoute(), err)
	s.publishLive(func() { s.p.publishError(code, msg, s.ID) })
}
