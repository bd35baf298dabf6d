package media

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRxStatsJitter(t *testing.T) {
	var r rxStats
	// Constant transit time: no jitter.
	for i := range 50 {
		r.push(7, uint16(i), uint32(i*160), uint32(1000+i*160), true)
	}
	if j := r.jitterUnits(); j != 0 {
		t.Fatalf("jitter with a constant transit = %d units, want 0", j)
	}
	// Arrivals alternately 80 units early and on time: |D| = 80 every
	// packet, and A.8's estimate converges to 80.
	r = rxStats{}
	for i := range 400 {
		arrival := uint32(1000 + i*160)
		if i%2 == 1 {
			arrival -= 80
		}
		r.push(7, uint16(i), uint32(i*160), arrival, true)
	}
	if j := r.jitterUnits(); j < 78 || j > 80 {
		t.Fatalf("jitter with |D| = 80 = %d units, want about 80", j)
	}
	// A telephone-event's timestamp says nothing of the jitter.
	before := r.jitter
	r.push(7, 400, 5, 999999, false)
	if r.jitter != before {
		t.Fatalf("a telephone-event changed the jitter: %d → %d", before, r.jitter)
	}
}

func TestRxStatsLoss(t *testing.T) {
	var r rxStats
	// 100 packets across the sequence wrap, every 10th lost.
	for i := range 100 {
		if i%10 == 9 {
			continue
		}
		r.push(1, uint16(65500+i), 0, 0, false)
	}
	if got := r.cumulativeLost(); got != 9 { // the 100th (i=99) is never expected: 99 expected, 90 received
		t.Fatalf("cumulative lost = %d, want 9", got)
	}
	frac, exp := r.interval()
	if exp != 99 || frac != uint8(9*256/99) {
		t.Fatalf("interval = fraction %d of %d expected, want %d of 99", frac, exp, 9*256/99)
	}
	if frac, exp := r.interval(); frac != 0 || exp != 0 {
		t.Fatalf("an empty interval = fraction %d of %d, want 0 of 0", frac, exp)
	}
	if r.maxExt != 65500+98 {
		t.Fatalf("extended highest sequence = %d, want %d", r.maxExt, 65500+98)
	}
	// A new SSRC starts afresh.
	r.push(2, 5, 0, 0, false)
	if r.cumulativeLost() != 0 || r.expected() != 1 {
		t.Fatalf("after an SSRC change: lost %d, expected %d; want 0 and 1", r.cumulativeLost(), r.expected())
	}
}

// rtcpPeer is a stream with RTCP on its own socket, and the sockets.
type rtcpPeer struct {
	stream     *Stream
	rtp, rtcp  *net.UDPConn
	src        *toneSource
	remoteRTCP int
}

// rtcpCall connects two streams with RTCP on RTP port + 1 style sockets
// (any free port here, given as RTCPPort) or rtcp-mux.
func rtcpCall(t *testing.T, mux bool) (a, b *rtcpPeer) {
	t.Helper()
	a, b = &rtcpPeer{rtp: udpConn(t)}, &rtcpPeer{rtp: udpConn(t)}
	if !mux {
		a.rtcp, b.rtcp = udpConn(t), udpConn(t)
		a.remoteRTCP, b.remoteRTCP = b.rtcp.LocalAddr().(*net.UDPAddr).Port, a.rtcp.LocalAddr().(*net.UDPAddr).Port
	}
	for _, p := range [][2]*rtcpPeer{{a, b}, {b, a}} {
		me, peer := p[0], p[1]
		c := NewPCMU()
		me.src = newToneSource(c.SampleRate(), 1000, 0.5, 20*time.Millisecond)
		s, err := NewStream(StreamConfig{
			Conn: me.rtp, Remote: peer.rtp.LocalAddr().(*net.UDPAddr), Codec: c, PayloadType: c.PayloadType(),
			Source: me.src, RTCPConn: me.rtcp, RTCPMux: mux, RTCPPort: me.remoteRTCP,
			RTCPInterval: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		me.stream = s
	}
	t.Cleanup(func() {
		for _, p := range []*rtcpPeer{a, b} {
			_ = p.stream.Close()
			p.src.Close()
		}
	})
	a.stream.Start()
	b.stream.Start()
	return a, b
}

func TestRTCPReportsBothWays(t *testing.T) {
	for _, mux := range []bool{false, true} {
		name := "port+1"
		if mux {
			name = "rtcp-mux"
		}
		t.Run(name, func(t *testing.T) {
			a, b := rtcpCall(t, mux)
			for _, p := range []*rtcpPeer{a, b} {
				waitFor(t, "reports from the far end", func() bool {
					q := p.stream.Quality()
					return q.ReportsReceived >= 2 && q.RemoteReported && q.ReportsSent >= 2 && q.Expected > 0
				})
				// No loss: the rating is the delay's (mostly the jitter
				// buffer's, which a loaded machine can stretch).
				q := p.stream.Quality()
				want := MOSFromR(RFactor(q.Delay, 0, Impairment("PCMU")))
				if q.Level == QualityUnknown || q.Level == QualityDown || q.Level != QualityLevel(q.R) || q.MOS != want || q.Delay < 20*time.Millisecond {
					t.Fatalf("a clean loopback call rates %+v; want MOS %.2f for its delay and a level between Excellent and Vbad", q, want)
				}
				if q.FractionLost != 0 || q.CumulativeLost != 0 {
					t.Fatalf("loss on loopback: %+v", q)
				}
			}
			if g := a.stream.RTCPGarbage() + b.stream.RTCPGarbage(); g != 0 {
				t.Fatalf("%d of our own RTCP packets did not parse", g)
			}
			if mux && (a.stream.Stats().Garbage != 0 || a.stream.Stats().UnknownPayload != 0) {
				t.Fatalf("multiplexed RTCP was taken for RTP: %+v", a.stream.Stats())
			}
		})
	}
}

// fakeFarEnd reads our RTCP on conn and answers each SR with an RR that
// claims it held the SR for hold less than it did, so the RTT we compute
// is that much.
type fakeFarEnd struct {
	conn *net.UDPConn
	ssrc uint32
	mu   sync.Mutex
	got  [][]rtcp.Packet
}

func (f *fakeFarEnd) run(to *net.UDPAddr, claimLess time.Duration) {
	buf := make([]byte, 1500)
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			return
		}
		arrived := time.Now()
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		f.mu.Lock()
		f.got = append(f.got, pkts)
		f.mu.Unlock()
		sr, ok := pkts[0].(*rtcp.SenderReport)
		if !ok {
			continue
		}
		held := time.Since(arrived) - claimLess
		rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: f.ssrc, Reports: []rtcp.ReceptionReport{{
			SSRC: sr.SSRC, FractionLost: 64, Jitter: 160,
			LastSenderReport: uint32(sr.NTPTime >> 16), Delay: uint32(held * 65536 / time.Second),
		}}}})
		_, _ = f.conn.WriteToUDP(rr, to)
	}
}

func (f *fakeFarEnd) packets() [][]rtcp.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]rtcp.Packet(nil), f.got...)
}

func TestRTCPRoundTripAndBye(t *testing.T) {
	farRTP, farRTCP := udpConn(t), udpConn(t)
	defer farRTP.Close()
	ours, ourRTCP := udpConn(t), udpConn(t)
	src := newToneSource(8000, 1000, 0.5, 20*time.Millisecond)
	defer src.Close()
	s, err := NewStream(StreamConfig{
		Conn: ours, Remote: farRTP.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), PayloadType: 0,
		Source: src, RTCPConn: ourRTCP, RTCPPort: farRTCP.LocalAddr().(*net.UDPAddr).Port,
		RTCPInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	far := &fakeFarEnd{conn: farRTCP, ssrc: 42}
	go far.run(ourRTCP.LocalAddr().(*net.UDPAddr), 100*time.Millisecond)
	defer farRTCP.Close()
	s.Start()
	waitFor(t, "an RTT from the far end's report", func() bool { return s.Quality().RTTMeasured })
	q := s.Quality()
	// The fake claims 100 ms less than it held our SR: the RTT is 100 ms
	// plus loopback time.
	if q.RTT < 99*time.Millisecond || q.RTT > 150*time.Millisecond {
		t.Fatalf("RTT = %v, want about 100 ms", q.RTT)
	}
	if q.RemoteFractionLost != 0.25 || q.RemoteJitter != 20*time.Millisecond {
		t.Fatalf("the far end's view = loss %v jitter %v, want 0.25 and 20ms", q.RemoteFractionLost, q.RemoteJitter)
	}
	// 25 % loss in one direction: the E-model rates the call very badly;
	// and nothing arrives from this far end, so the network is down.
	if QualityLevel(q.R) != QualityVbad || q.MOS > 2.6 || q.Level != QualityDown {
		t.Fatalf("25%% loss and no audio in: R %.1f MOS %.2f level %d; want Vbad by R, level Down", q.R, q.MOS, q.Level)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the BYE", func() bool {
		all := far.packets()
		if len(all) == 0 {
			return false
		}
		last := all[len(all)-1]
		_, isBye := last[len(last)-1].(*rtcp.Goodbye)
		return isBye
	})
	all := far.packets()
	for i, pkts := range all {
		if len(pkts) < 2 {
			t.Fatalf("a report without SDES: %v", pkts)
		}
		sdes, ok := pkts[1].(*rtcp.SourceDescription)
		if !ok || len(sdes.Chunks) != 1 || sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME || sdes.Chunks[0].Items[0].Text == "" {
			t.Fatalf("the second packet of a compound is not an SDES CNAME: %v", pkts)
		}
		sr, ok := pkts[0].(*rtcp.SenderReport)
		if !ok && i == len(all)-1 {
			continue // the BYE may come just after a report: then nothing was sent since
		}
		if !ok {
			t.Fatalf("a sending stream sent %T, want an SR first", pkts[0])
		}
		if sr.SSRC != s.ssrc || sr.PacketCount == 0 || sr.OctetCount != sr.PacketCount*160 {
			t.Fatalf("SR %+v: want our SSRC %d and 160 octets per packet", sr, s.ssrc)
		}
	}
}

func TestRTCPIntervalRandomised(t *testing.T) {
	r := rtcpState{interval: 5 * time.Second}
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := r.nextInterval(false)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 2500*time.Millisecond || hi > 7500*time.Millisecond || hi-lo < 4*time.Second {
		t.Fatalf("intervals span %v–%v, want spread over 2.5–7.5 s", lo, hi)
	}
	if d := r.nextInterval(true); d < 1250*time.Millisecond || d > 3750*time.Millisecond {
		t.Fatalf("first interval %v, want 1.25–3.75 s (halved)", d)
	}
}

func TestIsRTCP(t *testing.T) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}})
	if !isRTCP(sr) {
		t.Fatal("an RR is not taken for RTCP")
	}
	rtpPCMU := []byte{0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	rtpDyn := []byte{0x80, 0x80 | 101, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	if isRTCP(rtpPCMU) || isRTCP(rtpDyn) || isRTCP([]byte{0x80, 200}) {
		t.Fatal("RTP (or a runt) taken for RTCP")
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Date(2026, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	n := ntpTime(tm)
	if n>>32 != uint64(tm.Unix())+2208988800 || n&0xffffffff != 1<<31 {
		t.Fatalf("NTP time %x: want seconds since 1900 and half a second as 0x80000000", n)
	}
	if uint64(ntpMiddle(tm)) != (n>>16)&0xffffffff {
		t.Fatal("ntpMiddle is not the middle 32 bits")
	}
}

// rtcpCompound is a far end's SR + SDES reporting on ssrc.
func rtcpCompound(ssrc uint32) ([]byte, error) {
	return rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 9, NTPTime: ntpTime(time.Now()), PacketCount: 10, OctetCount: 1600,
			Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: 3, Jitter: 40, LastSenderReport: 1, Delay: 2}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 9, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "far"}}}}},
	})
}
