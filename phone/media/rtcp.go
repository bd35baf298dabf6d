package media

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// RTCP (RFC 3550 §6): every ~5 s the stream sends a compound report — a
// sender report (SR) while it sends audio, a receiver report (RR)
// otherwise, with one reception report block on the far end's stream
// (fraction and cumulative loss, interarrival jitter, LSR/DLSR) and an SDES
// CNAME — and a BYE when it closes. Reports go to the far end's RTP port + 1
// from the stream's second socket (StreamConfig.RTCPConn), or over the RTP
// socket itself with rtcp-mux (RFC 5761). Reports that arrive on either
// socket give the round-trip time (from LSR/DLSR) and what the far end
// measures of our audio. Quality turns all of it into an E-model MOS.

// defaultRTCPInterval is RFC 3550's minimum report interval.
const defaultRTCPInterval = 5 * time.Second

// rtcpState is one stream's RTCP session.
type rtcpState struct {
	conn     *net.UDPConn // our RTCP socket (RTP port + 1); nil with rtcp-mux or without RTCP
	mux      bool
	port     int // the far end's RTCP port; 0 = its RTP port + 1
	interval time.Duration
	cname    string
	clock    rtpClock

	// The newest audio timestamp sent and when (ns since clock.epoch; 0 =
	// none yet): an SR's RTP time is extrapolated from them.
	sentTS atomic.Uint32
	sentAt atomic.Int64

	garbage  atomic.Uint64 // RTCP datagrams that did not parse
	warned   atomic.Bool
	sentByes atomic.Bool

	mu      sync.Mutex // guards what follows; the receiver takes it once per packet
	rx      rxStats
	lsr     uint32    // middle 32 bits of the far end's last SR's NTP time; 0 = none
	lsrAt   time.Time // when that SR arrived
	latched netip.Addr
	// packetsSent at our previous two reports: RFC 3550 §6.4 makes us a
	// sender (SR) while we sent since the report before the last.
	prevSent [2]uint64
	q        Quality
}

// Quality is what RTCP has measured of a call so far, and the E-model's
// verdict on it.
type Quality struct {
	// Measured: at least one report has been made or received. Before that
	// the figures below are zero and Level is QualityUnknown.
	Measured bool
	// RTT is the round-trip time from the far end's reports, once
	// RTTMeasured (it needs an SR of ours answered by the far end).
	RTT         time.Duration
	RTTMeasured bool
	// Jitter is the interarrival jitter of the audio we receive (RFC 3550 A.8).
	Jitter time.Duration
	// FractionLost is the share of the far end's packets lost in the last
	// report interval (0–1); CumulativeLost counts from the start (A.3).
	FractionLost   float64
	CumulativeLost int64
	// Expected is how many packets the far end sent in the last interval.
	Expected uint32
	// RemoteJitter and RemoteFractionLost are what the far end reports of
	// the audio we send; RemoteReported says whether it has.
	RemoteJitter       time.Duration
	RemoteFractionLost float64
	RemoteReported     bool
	ReportsSent        uint64
	ReportsReceived    uint64
	// Delay is the one-way mouth-to-ear delay the E-model assumes: half
	// the RTT, the jitter buffer, one packet time and the codec's lookahead.
	Delay time.Duration
	// R is the E-model's rating and MOS its mean opinion score, from Delay
	// and the worse of the two directions' loss.
	R, MOS float64
	// Level is the SDK's network quality (QualityUnknown … QualityDown).
	Level int
}

// initRTCP sets up the RTCP session from cfg; without a socket or mux the
// stream sends no RTCP (it still reads any that arrives on the RTP port).
func (s *Stream) initRTCP() {
	r := &s.rtcp
	r.conn, r.mux, r.port = s.cfg.RTCPConn, s.cfg.RTCPMux, s.cfg.RTCPPort
	r.interval = s.cfg.RTCPInterval
	if r.interval <= 0 {
		r.interval = defaultRTCPInterval
	}
	r.cname = "deskphone-" + strconv.FormatUint(rand.Uint64(), 16)
	r.clock = rtpClock{epoch: time.Now(), rate: int64(s.codec.ClockRate())}
}

// rtcpEnabled: there is a way to send reports.
func (s *Stream) rtcpEnabled() bool { return s.rtcp.mux || s.rtcp.conn != nil }

// startRTCP starts the report timer and, with a separate RTCP socket, its
// reader. Called from Start with s.mu held.
func (s *Stream) startRTCP() {
	if !s.rtcpEnabled() {
		return
	}
	s.wg.Add(1)
	go s.rtcpLoop()
	if s.rtcp.conn != nil {
		s.wg.Add(1)
		go s.rtcpReadLoop()
	}
}

// closeRTCP sends the BYE (if the stream ran) and closes the RTCP socket.
// Called from Close, after closed is set (started no longer changes), before
// the RTP socket closes.
func (s *Stream) closeRTCP() {
	if s.started && s.rtcpEnabled() && s.rtcp.sentByes.CompareAndSwap(false, true) {
		s.sendReport(true)
	}
	if s.rtcp.conn != nil {
		_ = s.rtcp.conn.Close() // wakes rtcpReadLoop; nothing to flush on UDP
	}
}

// nextInterval is RFC 3550 §6.3.1's randomised interval: 0.5–1.5 times the
// nominal one, the first halved so that quality shows early in a call.
func (r *rtcpState) nextInterval(first bool) time.Duration {
	d := r.interval
	if first {
		d /= 2
	}
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

func (s *Stream) rtcpLoop() {
	defer s.wg.Done()
	t := time.NewTimer(s.rtcp.nextInterval(true))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.sendReport(false)
		t.Reset(s.rtcp.nextInterval(false))
	}
}

// rtcpReadLoop reads the separate RTCP socket: reports from the far end's
// address are used, anything else is dropped.
func (s *Stream) rtcpReadLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, from, err := s.rtcp.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond) // do not spin on a persistent error
			continue
		}
		ip := from.Addr().Unmap()
		s.rtcp.mu.Lock()
		latched := s.rtcp.latched
		s.rtcp.mu.Unlock()
		if ip != s.remote.Load().Addr() && ip != latched {
			s.stats.foreignSource.Add(1)
			continue
		}
		s.receiveRTCP(buf[:n])
	}
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): RTCP
// packet types 192–223 fall where RTP's marker bit and payload types 64–95
// would, which RTP on such a port must not use.
func isRTCP(data []byte) bool {
	return len(data) >= 8 && data[0]>>6 == 2 && data[1] >= 192 && data[1] <= 223
}

// muxedRTCP takes RTCP that arrives on the RTP port (rtcp-mux, or a far
// end that sends it there anyway); false: data is not RTCP.
func (s *Stream) muxedRTCP(data []byte, from, remote netip.AddrPort, fromRemote bool) bool {
	if !isRTCP(data) {
		return false
	}
	if fromRemote {
		s.receiveRTCP(data)
	} else {
		s.dropForeign(from, remote)
	}
	return true
}

// receiveRTCP reads a compound RTCP packet from the far end. Reports on our
// SSRC give the RTT and the far end's view of our audio; an SR's time is
// kept for our next reception report (LSR/DLSR). Garbage is counted.
func (s *Stream) receiveRTCP(data []byte) {
	data, ok := s.openRTCP(data)
	if !ok {
		return
	}
	pkts, err := rtcp.Unmarshal(data)
	if err != nil {
		s.rtcp.garbage.Add(1)
		if s.rtcp.warned.CompareAndSwap(false, true) {
			s.log.Warn("dropping RTCP that does not parse (counted, logged once)", "bytes", len(data), "err", err)
		}
		return
	}
	now := time.Now()
	r := &s.rtcp
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.lsr, r.lsrAt = uint32(p.NTPTime>>16), now
			s.useReportsLocked(p.Reports, now)
			r.q.ReportsReceived++
		case *rtcp.ReceiverReport:
			s.useReportsLocked(p.Reports, now)
			r.q.ReportsReceived++
		case *rtcp.Goodbye:
			s.log.Info("the far end sent an RTCP BYE", "reason", p.Reason)
		}
	}
}

// useReportsLocked takes the report blocks about our own stream.
func (s *Stream) useReportsLocked(blocks []rtcp.ReceptionReport, now time.Time) {
	q := &s.rtcp.q
	for _, b := range blocks {
		if b.SSRC != s.ssrc {
			continue
		}
		q.Measured, q.RemoteReported = true, true
		q.RemoteFractionLost = float64(b.FractionLost) / 256
		q.RemoteJitter = time.Duration(int64(b.Jitter) * int64(time.Second) / s.rtcp.clock.rate)
		if b.LastSenderReport == 0 {
			continue // the far end has no SR of ours yet
		}
		// RFC 3550 §6.4.1: RTT = A − LSR − DLSR, in 1/65536 s.
		rtt := int32(ntpMiddle(now) - b.LastSenderReport - b.Delay)
		if rtt >= 0 {
			q.RTT, q.RTTMeasured = time.Duration(int64(rtt)*int64(time.Second)>>16), true
		}
	}
}

// noteSent records the audio timestamp of a packet just sent.
func (r *rtcpState) noteSent(ts uint32) {
	r.sentTS.Store(ts)
	r.sentAt.Store(max(int64(time.Since(r.clock.epoch)), 1))
}

// sendReport builds and sends our compound report (with a BYE when bye).
func (s *Stream) sendReport(bye bool) {
	data, err := s.buildReport(time.Now(), bye)
	if err == nil {
		data, err = s.sealRTCP(data)
	}
	if err != nil {
		if s.firstTime(warnSend) {
			s.log.Warn("building an RTCP report failed", "err", err)
		}
		return
	}
	to := *s.remote.Load()
	conn := s.cfg.Conn
	if !s.rtcp.mux {
		conn = s.rtcp.conn
		port := s.rtcp.port
		if port == 0 {
			port = int(to.Port()) + 1
		}
		to = netip.AddrPortFrom(to.Addr(), uint16(port))
	}
	if _, err := conn.WriteToUDPAddrPort(data, to); err != nil {
		if !s.isClosed() && s.firstTime(warnSend) {
			s.log.Warn("sending RTCP failed", "to", to.String(), "err", err)
		}
		return
	}
	s.rtcp.mu.Lock()
	s.rtcp.q.ReportsSent++
	s.rtcp.mu.Unlock()
}

// buildReport makes the compound packet: SR or RR, SDES CNAME, [BYE].
// Taking the report block also closes the loss interval for Quality.
func (s *Stream) buildReport(now time.Time, bye bool) ([]byte, error) {
	r := &s.rtcp
	sent, octets := s.stats.packetsSent.Load(), s.stats.bytesSent.Load()
	r.mu.Lock()
	var blocks []rtcp.ReceptionReport
	if r.rx.started {
		frac, expected := r.rx.interval()
		lost := max(min(r.rx.cumulativeLost(), 0x7fffff), -0x800000) // a 24-bit signed field
		var dlsr uint32
		if r.lsr != 0 {
			dlsr = uint32(now.Sub(r.lsrAt) * 65536 / time.Second)
		}
		blocks = append(blocks, rtcp.ReceptionReport{
			SSRC: r.rx.ssrc, FractionLost: frac, TotalLost: uint32(lost) & 0xffffff,
			LastSequenceNumber: r.rx.maxExt, Jitter: r.rx.jitterUnits(),
			LastSenderReport: r.lsr, Delay: dlsr,
		})
		r.q.FractionLost, r.q.Expected = float64(frac)/256, expected
		r.q.CumulativeLost = r.rx.cumulativeLost()
		r.q.Jitter = time.Duration(int64(r.rx.jitterUnits()) * int64(time.Second) / r.clock.rate)
	} else {
		r.q.Expected = 0
	}
	r.q.Measured = true
	isSender := sent != r.prevSent[0] && r.sentAt.Load() != 0
	r.prevSent = [2]uint64{r.prevSent[1], sent}
	r.mu.Unlock()

	pkts := make([]rtcp.Packet, 0, 3)
	if isSender {
		elapsed := int64(time.Since(r.clock.epoch)) - r.sentAt.Load()
		pkts = append(pkts, &rtcp.SenderReport{
			SSRC: s.ssrc, NTPTime: ntpTime(now),
			RTPTime:     r.sentTS.Load() + uint32(elapsed*r.clock.rate/int64(time.Second)),
			PacketCount: uint32(sent), OctetCount: uint32(octets),
			Reports: blocks,
		})
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks})
	}
	pkts = append(pkts, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: s.ssrc, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: r.cname}},
	}}})
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	return rtcp.Marshal(pkts)
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + 2208988800)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp (16.16 seconds), the
// unit of LSR, DLSR and RTT.
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// onRTP feeds one received RTP packet to the reception statistics.
func (s *Stream) onRTP(ssrc uint32, seq uint16, ts uint32, audio bool, now time.Time) {
	arrival := s.rtcp.clock.at(now)
	s.rtcp.mu.Lock()
	s.rtcp.rx.push(ssrc, seq, ts, arrival, audio)
	s.rtcp.mu.Unlock()
}

// noteLatched lets RTCP from a latched far end's address in.
func (s *Stream) noteLatched(ip netip.Addr) {
	s.rtcp.mu.Lock()
	s.rtcp.latched = ip
	s.rtcp.mu.Unlock()
}

// RTCPGarbage counts RTCP datagrams that did not parse.
func (s *Stream) RTCPGarbage() uint64 { return s.rtcp.garbage.Load() }

// Quality reports what RTCP has measured so far and the E-model's MOS and
// the SDK's quality level for it, with the jitter buffer's delay now.
func (s *Stream) Quality() Quality {
	s.rtcp.mu.Lock()
	q := s.rtcp.q
	s.rtcp.mu.Unlock()
	if !q.Measured {
		return q
	}
	imp := Impairment(s.codec.Name())
	q.Delay = q.RTT/2 + s.jitterDelay() + s.ptime + imp.Lookahead
	q.R = RFactor(q.Delay, max(q.FractionLost, q.RemoteFractionLost), imp)
	q.MOS = MOSFromR(q.R)
	q.Level = QualityLevel(q.R)
	if q.Expected == 0 && !s.noRecv.Load() {
		q.Level = QualityDown // nothing arrived in the last interval
	}
	return q
}

// jitterDelay is the jitter buffer's playout delay
// (its target, the delay it settles at), as the playout loop published
// it: the RTCP goroutine takes no lock of the media path.
func (s *Stream) jitterDelay() time.Duration { return time.Duration(s.jbPub.target.Load()) }
