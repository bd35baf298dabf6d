package media

import (
	"net/netip"
	"sync"
)

// SDES-SRTP on a stream (StreamConfig.SRTP): the sender protects each RTP
// packet into its own buffer before the write, the receiver checks and
// decrypts each datagram before parsing it, so neither allocates. RTCP
// (a report every few seconds, already allocating) is SRTCP through one
// lock: the report loop, Close's BYE and two readers share its contexts.
type streamSRTP struct {
	tx, rx []byte // the sender's and the receiver's
	rtcpMu sync.Mutex
}

// srtpOverhead is room for SRTP's auth tag (10 bytes at most).
const srtpOverhead = 16

func (s *Stream) initSRTP() {
	if s.cfg.SRTP != nil {
		s.sec = &streamSRTP{tx: make([]byte, 0, maxPacket+srtpOverhead), rx: make([]byte, 0, 1<<16)}
	}
}

// sealRTP is the datagram to send for an RTP packet (sender only).
func (s *Stream) sealRTP(pkt []byte) ([]byte, error) {
	if s.sec == nil {
		return pkt, nil
	}
	return s.cfg.SRTP.ProtectRTP(s.sec.tx[:0], pkt)
}

// rtpOf is the RTP packet in a datagram from the far end (or a latch
// candidate): false when it was RTCP (taken) or fails SRTP.
func (s *Stream) rtpOf(data []byte, from, remote netip.AddrPort, fromRemote bool) ([]byte, bool) {
	if s.muxedRTCP(data, from, remote, fromRemote) {
		return nil, false
	}
	return s.openRTP(data, from)
}

// openRTP is the RTP packet in a received datagram (receiver only); false:
// it failed authentication or is a replay, counted and dropped.
func (s *Stream) openRTP(data []byte, from netip.AddrPort) ([]byte, bool) {
	if s.sec == nil {
		return data, true
	}
	out, err := s.cfg.SRTP.UnprotectRTP(s.sec.rx[:0], data)
	if err != nil {
		s.srtpFailed(from, err)
		return nil, false
	}
	return out, true
}

func (s *Stream) srtpFailed(from netip.AddrPort, err error) {
	s.stats.srtpAuthFail.Add(1)
	if s.firstTime(warnSRTP) {
		s.log.Warn("dropping SRTP packets that fail authentication or are replays (counted in stats, logged once)",
			"from", from.String(), "err", err)
	}
}

// sealRTCP is the datagram to send for a compound RTCP packet.
func (s *Stream) sealRTCP(data []byte) ([]byte, error) {
	if s.sec == nil {
		return data, nil
	}
	s.sec.rtcpMu.Lock()
	defer s.sec.rtcpMu.Unlock()
	return s.cfg.SRTP.ProtectRTCP(nil, data)
}

// openRTCP is the compound RTCP packet in a received SRTCP datagram; false:
// it failed authentication or is a replay, counted and dropped.
func (s *Stream) openRTCP(data []byte) ([]byte, bool) {
	if s.sec == nil {
		return data, true
	}
	s.sec.rtcpMu.Lock()
	out, err := s.cfg.SRTP.UnprotectRTCP(nil, data)
	s.sec.rtcpMu.Unlock()
	if err != nil {
		s.srtpFailed(*s.remote.Load(), err)
		return nil, false
	}
	return out, true
}
