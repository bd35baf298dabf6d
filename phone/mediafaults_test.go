package phone

// Media faults on a fake clock: the watchdog's time is stepped, so nothing
// waits for real seconds. RTP comes from a real UDP socket on 127.0.0.1
// (farRTP), the far end the phone's SDP exchange points at.

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"deskphone/config"
	"deskphone/phone/event"
	"deskphone/phone/media"
	"deskphone/phone/signal/sigtest"
)

// farRTP is the far end's media: a socket on 127.0.0.1 whose port its SDP
// answer names, sending PCMU frames of a constant or a tone on demand.
type farRTP struct {
	t      *testing.T
	conn   *net.UDPConn
	to     *net.UDPAddr // the phone's RTP address, from its SDP
	answer []byte
	seq    uint16
	ts     uint32
}

func newFarRTP(t *testing.T, offer []byte) *farRTP {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	desc, err := media.ParseDescription(offer)
	if err != nil {
		t.Fatal(err)
	}
	neg, err := media.Negotiate(desc, []media.Codec{media.NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	ans, _, err := media.Answer(desc, []media.Codec{media.NewPCMU()}, sigtest.Host, conn.LocalAddr().(*net.UDPAddr).Port, 101, 2)
	if err != nil {
		t.Fatal(err)
	}
	return &farRTP{t: t, conn: conn, to: neg.Remote, answer: ans}
}

// send sends n 20 ms PCMU packets, each sample from sample(i).
func (f *farRTP) send(n int, sample func(i int) int16) {
	f.t.Helper()
	pcm := make([]int16, 160)
	payload := make([]byte, 160)
	for range n {
		for i := range pcm {
			pcm[i] = sample(int(f.ts) + i)
		}
		k, err := media.NewPCMU().Encode(pcm, payload)
		if err != nil {
			f.t.Fatal(err)
		}
		hdr := []byte{0x80, 0, byte(f.seq >> 8), byte(f.seq), byte(f.ts >> 24), byte(f.ts >> 16), byte(f.ts >> 8), byte(f.ts), 1, 2, 3, 4}
		if _, err := f.conn.WriteToUDP(append(hdr, payload[:k]...), f.to); err != nil {
			f.t.Fatal(err)
		}
		f.seq++
		f.ts += 160
	}
}

// received reads the phone's RTP for about d of packets and decodes it.
func (f *farRTP) received(t *testing.T, packets int) []int16 {
	t.Helper()
	var out []int16
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	_ = f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range packets {
		n, err := f.conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the phone's RTP: %v", err)
		}
		if n < 12 || buf[1]&0x7f != 0 {
			continue // not PCMU (telephone-event)
		}
		k, err := media.NewPCMU().Decode(buf[12:n], pcm)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pcm[:k]...)
	}
	return out
}

// mediaHarness is a phone on a fake clock with media timeouts of 1 s
// (first) and 3 s (mid-call), and one call answered by a farRTP.
type mediaHarness struct {
	*harness
	clock *clockwork.FakeClock
	sid   string
	done  <-chan struct{} // the session's: closed once it ended
	far   *farRTP
	d     *sigtest.Dialog
}

const (
	testFirstMedia = time.Second
	testMidMedia   = 3 * time.Second
)

func newMediaHarness(t *testing.T) *mediaHarness {
	t.Helper()
	h := newHarness(t, nil, func(c *config.Config) {
		c.Calls.FirstMediaTimeout, c.Calls.MediaTimeout = testFirstMedia, testMidMedia
	})
	m := &mediaHarness{harness: h, clock: clockwork.NewFakeClock()}
	h.p.clock = m.clock
	sid, o := h.dial()
	m.sid, m.far = sid, newFarRTP(t, o.Req.SDP)
	o.Progress(180)
	m.d = o.Answer(sigtest.NewDialog(m.far.answer))
	h.waitState(sid, StateConnected)
	h.rec.wait(t, sid, event.Accepted, 1)
	h.p.mu.Lock()
	m.done = h.p.sessions[sid].done
	h.p.mu.Unlock()
	return m
}

// step moves the fake clock forward by d, one watchdog period at a time,
// each time after the watchdog waits again (so it saw every step).
func (m *mediaHarness) step(d time.Duration) {
	m.t.Helper()
	period := mediaWatchPeriod(testFirstMedia, testMidMedia)
	for done := time.Duration(0); done < d; done += period {
		m.waitWatchdog()
		m.clock.Advance(period)
	}
	if m.state(m.sid) != StateEnded {
		m.waitWatchdog()
	}
}

func (m *mediaHarness) waitWatchdog() {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	go func() { // an ended call's watchdog waits no more
		select {
		case <-m.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := m.clock.BlockUntilContext(ctx, 1); err != nil && m.state(m.sid) != StateEnded {
		m.t.Fatalf("the media watchdog is not waiting on the clock: %v", err)
	}
}

// flow sends a few packets and lets the watchdog see them.
func (m *mediaHarness) flow() {
	m.t.Helper()
	before := m.packets()
	m.far.send(5, func(int) int16 { return 0 })
	eventually(m.t, "the phone to receive the far end's RTP", func() bool { return m.packets() >= before+5 })
	m.step(mediaWatchPeriod(testFirstMedia, testMidMedia))
}

func (m *mediaHarness) packets() uint64 {
	m.p.mu.Lock()
	s := m.p.sessions[m.sid]
	m.p.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream == nil {
		return 0
	}
	return s.stream.Stats().PacketsReceived
}

func (m *mediaHarness) codes(name string) []int {
	var out []int
	for _, e := range m.rec.of(m.sid, name) {
		switch d := e.Data.(type) {
		case WarningInfo:
			out = append(out, d.WarningCode)
		case ErrorInfo:
			out = append(out, d.ErrCode)
		}
	}
	return out
}

func (m *mediaHarness) wantUp(what string) {
	m.t.Helper()
	m.rec.flush(m.t, m.p.bus)
	if st := m.state(m.sid); st == StateEnded || len(m.rec.of(m.sid, event.Ended)) > 0 {
		m.t.Fatalf("%s: the call ended (%v); it must go on", what, m.rec.names(m.sid))
	}
}

// No RTP at all after the answer: one onWarning -3307 after
// calls.first_media_timeout, and the call goes on (no -3308: media never
// flowed, so it did not stop).
func TestNoMediaAfterAnswerWarns(t *testing.T) {
	m := newMediaHarness(t)
	m.step(testFirstMedia - 200*time.Millisecond)
	m.rec.flush(t, m.p.bus)
	if c := m.codes(event.Warning); len(c) != 0 {
		t.Fatalf("warnings %v before calls.first_media_timeout", c)
	}
	m.step(300 * time.Millisecond)
	w := m.rec.wait(t, m.sid, event.Warning, 1).Data.(WarningInfo)
	if w.WarningCode != ErrRTCRequestIPTimeout || !strings.Contains(w.WarningMsg, "no RTP") {
		t.Errorf("warning %+v, want -3307 saying no RTP arrived", w)
	}
	m.step(2 * testMidMedia)
	m.wantUp("no RTP ever")
	if c := m.codes(event.Warning); len(c) != 1 {
		t.Errorf("warnings %v, want one -3307", c)
	}
	if c := m.codes(event.Error); len(c) != 0 {
		t.Errorf("errors %v, want none", c)
	}
}

// RTP that stops mid-call ends it after calls.media_timeout: onError and
// onEnded Error with -3308 in reasonMessage, then BYE. No -3307: RTP came.
func TestMediaStopsMidCallEndsCall(t *testing.T) {
	m := newMediaHarness(t)
	m.flow()
	m.step(testMidMedia - 300*time.Millisecond)
	m.wantUp("RTP stopped less than calls.media_timeout ago")
	m.step(400 * time.Millisecond)
	wantEnded(t, m.rec, m.sid, EndError, 0)
	e := m.rec.ended(t, m.sid)
	if !strings.Contains(e.ReasonMessage, "-3308") {
		t.Errorf("reasonMessage %q lacks -3308", e.ReasonMessage)
	}
	if c := m.codes(event.Error); len(c) != 1 || c[0] != ErrRTCConnectServerTimeout {
		t.Errorf("onError codes %v, want [-3308]", c)
	}
	if c := m.codes(event.Warning); len(c) != 0 {
		t.Errorf("warnings %v: RTP arrived, so no -3307", c)
	}
	m.d.WaitReq(t, "BYE", 1, wait)
}

// RTP flowing keeps the call up however long it lasts.
func TestMediaFlowingKeepsCall(t *testing.T) {
	m := newMediaHarness(t)
	for range 4 {
		m.flow()
		m.step(testMidMedia - time.Second)
	}
	m.wantUp("RTP kept arriving")
	if c := append(m.codes(event.Warning), m.codes(event.Error)...); len(c) != 0 {
		t.Errorf("codes %v, want none", c)
	}
}

// On hold, either side, the far end may stop sending: no -3308 however
// long, and after the resume the timeout counts from the resume.
func TestMediaTimeoutNotOnHold(t *testing.T) {
	for _, c := range []struct {
		name           string
		hold, resume   func(m *mediaHarness)
		heldAs, backAs CallState
	}{
		{"local hold", func(m *mediaHarness) {
			if err := m.p.Hold(m.sid); err != nil {
				t.Fatal(err)
			}
		}, func(m *mediaHarness) {
			if err := m.p.Unhold(m.sid); err != nil {
				t.Fatal(err)
			}
		}, StateHeld, StateConnected},
		{"remote sendonly", func(m *mediaHarness) {
			m.d.FarOffer(sigtest.SDPOffer(m.far.conn.LocalAddr().(*net.UDPAddr).Port, media.SendOnly))
		}, func(m *mediaHarness) {
			m.d.FarOffer(sigtest.SDPOffer(m.far.conn.LocalAddr().(*net.UDPAddr).Port, media.SendRecv))
		}, StateRemoteHeld, StateConnected},
		{"remote inactive", func(m *mediaHarness) {
			m.d.FarOffer(sigtest.SDPOffer(m.far.conn.LocalAddr().(*net.UDPAddr).Port, media.Inactive))
		}, func(m *mediaHarness) {
			m.d.FarOffer(sigtest.SDPOffer(m.far.conn.LocalAddr().(*net.UDPAddr).Port, media.SendRecv))
		}, StateRemoteHeld, StateConnected},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMediaHarness(t)
			m.flow()
			c.hold(m)
			m.waitState(m.sid, c.heldAs)
			m.step(3 * testMidMedia)
			m.wantUp("held")
			c.resume(m)
			m.waitState(m.sid, c.backAs)
			m.step(testMidMedia - 300*time.Millisecond)
			m.wantUp("resumed less than calls.media_timeout ago")
			m.step(400 * time.Millisecond)
			wantEnded(t, m.rec, m.sid, EndError, 0)
		})
	}
}

func TestMediaWatchPeriod(t *testing.T) {
	for _, c := range []struct{ first, mid, want time.Duration }{
		{5 * time.Second, 30 * time.Second, 500 * time.Millisecond},
		{0, 30 * time.Second, time.Second},
		{5 * time.Second, 0, 500 * time.Millisecond},
		{time.Second, 3 * time.Second, 100 * time.Millisecond},
		{10 * time.Millisecond, 0, 20 * time.Millisecond},
	} {
		if got := mediaWatchPeriod(c.first, c.mid); got != c.want {
			t.Errorf("mediaWatchPeriod(%v, %v) = %v, want %v", c.first, c.mid, got, c.want)
		}
	}
}

// audio.symmetric_rtp: a far end whose RTP comes from another address
// than its SDP's (behind NAT) is heard only when it is on; off, its
// packets are dropped as foreign.
func TestSymmetricRTPConfig(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			h := newHarness(t, nil, func(c *config.Config) { c.Audio.SymmetricRTP = on })
			sid, o := h.dial()
			far := newFarRTP(t, o.Req.SDP) // its SDP names far.conn's port ...
			o.Answer(sigtest.NewDialog(far.answer))
			h.waitState(sid, StateConnected)
			nat, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer nat.Close()
			far.conn = nat // ... but it sends from another port
			far.send(10, func(int) int16 { return 0 })
			h.p.mu.Lock()
			s := h.p.sessions[sid]
			h.p.mu.Unlock()
			s.mu.Lock()
			st := s.stream
			s.mu.Unlock()
			eventually(t, "the packets to be counted", func() bool {
				c := st.Stats()
				return c.PacketsReceived+c.ForeignSource >= 10
			})
			if c := st.Stats(); (c.PacketsReceived == 10) != on || (c.ForeignSource == 10) == on {
				t.Errorf("symmetric_rtp %v: received %d, dropped as foreign %d", on, c.PacketsReceived, c.ForeignSource)
			}
		})
	}
}
