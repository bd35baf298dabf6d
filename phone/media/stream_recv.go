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
}

func (s *Stream) receiveLoop() {
	defer s.wg.Done()
	r := &receiver{buf: make([]byte, 1<<16)} // a whole datagram, so none is cut short
	for {
		n, from, err := s.cfg.Conn.ReadFromUDPAddrPort(r.buf)
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
// audio to the jitter buffer, anything else counted and dropped.
func (s *Stream) handleDatagram(r *receiver, data []byte, from netip.AddrPort) {
	if err := r.pkt.Unmarshal(data); err != nil || r.pkt.Version != 2 {
		s.stats.garbage.Add(1)
		if s.firstTime(warnGarbage) {
			s.log.Warn("dropping datagrams that are not RTP (counted in stats, logged once)", "from", from.String(), "bytes", len(data))
		}
		return
	}
	if remote := s.remote.Load(); from.Addr().Unmap() != remote.Addr() || from.Port() != remote.Port() {
		s.stats.foreignSource.Add(1)
		if s.firstTime(warnForeign) {
			s.log.Warn("RTP arrives from another address than the SDP's; playing it but still sending to the SDP's",
				"from", from.String(), "sending_to", remote.String())
		}
	}
	h := &r.pkt.Header
	s.stats.packetsReceived.Add(1)
	s.stats.bytesReceived.Add(uint64(len(r.pkt.Payload)))
	r.loss.push(h.SSRC, h.SequenceNumber)
	s.stats.packetsLost.Store(r.loss.lost())
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
		s.jb.Push(h.SequenceNumber, h.Timestamp, r.pkt.Payload)
		s.jbMu.Unlock()
	default:
		s.stats.unknownPayload.Add(1)
		if s.firstTime(warnUnknownPT) {
			s.log.Warn("dropping RTP of a payload type not negotiated (counted, logged once)",
				"payload_type", h.PayloadType, "audio", s.cfg.PayloadType, "telephone_event", s.cfg.DTMFPayloadType)
		}
	}
}
