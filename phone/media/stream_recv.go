package media

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// receiver is the receiver goroutine's state; all buffers are made once.
type receiver struct {
	buf      []byte
	pkt      rtp.Packet
	dtmf     DTMFReceiver
	loss     lossCounter
	gotFirst bool
	// latched is the far end's source under symmetric RTP (cfg.Latch),
	// set once per stream; latchDone: no more latching (latched, or the
	// SDP's address has sent audio, so no other source is the far end).
	latched   netip.AddrPort
	latchDone bool
	at        int64 // nanotime when the datagram was read (latency.go)
}

func (s *Stream) receiveLoop() {
	defer s.wg.Done()
	r := &receiver{buf: make([]byte, 1<<16)} // a whole datagram, so none is cut short
	for {
		n, from, err := s.cfg.Conn.ReadFromUDPAddrPort(r.buf)
		r.at = nanotime()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			if s.firstTime(warnRecv) {
				s.log.Warn("receiving RTP failed; retrying", "err", err)
			}
			time.Sleep(time.Millisecond) // do not spin on a persistent error
			continue
		}
		s.handleDatagram(r, r.buf[:n], from)
	}
}

// handleDatagram sorts one datagram: telephone-event to the DTMF receiver,
// audio to the jitter buffer, anything else counted and dropped. Only the
// far end may be heard: datagrams from any other address are counted
// (Stats.ForeignSource) and dropped unparsed, so a third host spraying the
// port cannot inject audio or digits into the call.
func (s *Stream) handleDatagram(r *receiver, data []byte, from netip.AddrPort) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	remote := *s.remote.Load()
	fromRemote := from == remote || (r.latched.IsValid() && from == r.latched)
	if !fromRemote && (!s.cfg.Latch || r.latchDone) {
		s.dropForeign(from, remote)
		return
	}
	data, ok := s.rtpOf(data, from, remote, fromRemote) // muxed RTCP taken, SRTP opened
	if !ok {
		return
	}
	if err := r.pkt.Unmarshal(data); err != nil || r.pkt.Version != 2 {
		if !fromRemote {
			s.dropForeign(from, remote)
			return
		}
		s.stats.garbage.Add(1)
		if s.firstTime(warnGarbage) {
			s.log.Warn("dropping datagrams that are not RTP (counted in stats, logged once)", "from", from.String(), "bytes", len(data))
		}
		return
	}
	if !s.latch(r, from, remote, fromRemote) {
		s.dropForeign(from, remote)
		return
	}
	h := &r.pkt.Header
	s.stats.packetsReceived.Add(1)
	s.stats.bytesReceived.Add(uint64(len(r.pkt.Payload)))
	r.loss.push(h.SSRC, h.SequenceNumber)
	s.stats.packetsLost.Store(r.loss.lost())
	s.onRTP(h.SSRC, h.SequenceNumber, h.Timestamp, h.PayloadType == s.cfg.PayloadType, time.Now())
	if !r.gotFirst {
		r.gotFirst = true
		if s.cfg.OnFirstPacket != nil {
			s.cfg.OnFirstPacket()
		}
	}
	switch {
	case s.cfg.DTMFPayloadType != 0 && h.PayloadType == s.cfg.DTMFPayloadType:
		d, ok, err := r.dtmf.Push(h.Timestamp, r.pkt.Payload)
		if err != nil {
			s.stats.garbage.Add(1)
			if s.firstTime(warnBadDTMF) {
				s.log.Warn("dropping malformed telephone-event packets", "err", err)
			}
			return
		}
		if ok {
			s.stats.dtmfReceived.Add(1)
			if s.cfg.OnDTMF != nil {
				s.cfg.OnDTMF(d)
			}
		}
	case h.PayloadType == s.cfg.PayloadType:
		s.jbMu.Lock()
		s.jb.Push(Packet{Seq: h.SequenceNumber, Timestamp: h.Timestamp, SSRC: h.SSRC, Marker: h.Marker, Arrival: jitterNow(), Payload: r.pkt.Payload})
		s.jbMu.Unlock()
		s.lat.receive.since(r.at)
	default:
		s.stats.unknownPayload.Add(1)
		if s.firstTime(warnUnknownPT) {
			s.log.Warn("dropping RTP of a payload type not negotiated (counted, logged once)",
				"payload_type", h.PayloadType, "audio", s.cfg.PayloadType, "telephone_event", s.cfg.DTMFPayloadType)
		}
	}
}

// latch applies symmetric RTP to a parsed packet and reports whether it
// is the far end's: the first source of audio in the negotiated payload
// type is the far end (behind NAT), once per stream.
func (s *Stream) latch(r *receiver, from, remote netip.AddrPort, fromRemote bool) bool {
	if !s.cfg.Latch || r.latchDone || r.pkt.PayloadType != s.cfg.PayloadType {
		return fromRemote
	}
	r.latchDone = true
	if !fromRemote {
		r.latched = from
		s.noteLatched(from.Addr())
		s.log.Info("symmetric RTP: the far end's media comes from another address than its SDP's; accepting that one",
			"from", from.String(), "sdp", remote.String())
	}
	return true
}

// dropForeign counts a datagram from a third address; the first is logged.
func (s *Stream) dropForeign(from, remote netip.AddrPort) {
	s.stats.foreignSource.Add(1)
	if s.firstTime(warnForeign) {
		s.log.Warn("dropping RTP from an address that is not the far end's (counted in stats, logged once)",
			"from", from.String(), "far_end", remote.String())
	}
}
