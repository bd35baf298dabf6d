package media

import (
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
)

// maxPacket bounds one RTP datagram we build or accept.
const maxPacket = 1500

// sender is the sender goroutine's state; all buffers are made once.
type sender struct {
	pcm     []int16
	payload []byte
	buf     []byte
	pkt     rtp.Packet
	ssrc    uint32
	seq     uint16
	ts      uint32
	first   bool
	readAt  int64 // nanotime when this frame's audio was ready (latency.go)
}

func (s *Stream) newSender() *sender {
	return &sender{
		pcm:     make([]int16, s.frameSamples),
		payload: make([]byte, maxPacket-12),
		buf:     make([]byte, maxPacket),
		ssrc:    s.ssrc, // RFC 3550: random SSRC, sequence and timestamp
		seq:     uint16(rand.Uint32()),
		ts:      rand.Uint32(),
		first:   true,
	}
}

func (s *Stream) sendLoop() {
	defer s.wg.Done()
	snd := s.newSender()
	pace := pacer{ptime: s.ptime} // paces the stream while it has no source
	defer pace.stop()
	for {
		if h := s.src.Load(); h != nil {
			pace.stop()
			if !s.readSource(h, snd.pcm) {
				if s.isClosed() {
					return
				}
				continue // a source swapped out (SetDevices) is not a failure
			}
			if s.isClosed() {
				return
			}
			s.levels[0].Measure(snd.pcm) // the microphone, for onAudioVolume
		} else {
			if !pace.wait(s.done) {
				return
			}
			clear(snd.pcm)
		}
		snd.readAt = nanotime()
		s.holdOrMute(snd.pcm)
		if s.noSend.Load() {
			snd.ts += s.tsPerFrame // keep the clock running for when sending resumes
			continue
		}
		s.sendFrame(snd)
	}
}

// readSource reads the microphone's next frame into pcm. On an error it
// reports false and, unless the stream is closing, drops the source (the
// stream sends silence until another is set).
func (s *Stream) readSource(h *sourceHolder, pcm []int16) bool {
	err := h.src.Read(pcm)
	if err == nil {
		return true
	}
	if !s.isClosed() && s.src.CompareAndSwap(h, nil) && s.firstTime(warnSource) {
		s.log.Warn("audio source failed; sending silence until another is set", "err", err)
		s.deviceError("microphone", err)
	}
	return false
}

// holdOrMute replaces the frame with music on hold, or silence when muted.
func (s *Stream) holdOrMute(pcm []int16) {
	if h := s.hold.Load(); h != nil {
		if h.src.Read(pcm) != nil {
			clear(pcm)
		}
	} else if s.muted.Load() {
		clear(pcm)
	}
}

// pacer ticks every ptime while the stream has no sound device whose
// blocking Read or Write paces it; the ticker exists only while needed.
type pacer struct {
	ptime time.Duration
	tick  *time.Ticker
}

// wait waits for the next tick: false if done closes first.
func (p *pacer) wait(done <-chan struct{}) bool {
	if p.tick == nil {
		p.tick = time.NewTicker(p.ptime)
	}
	select {
	case <-done:
		return false
	case <-p.tick.C:
		return true
	}
}

// stop stops the ticker: a device paces the stream now (or it ended).
func (p *pacer) stop() {
	if p.tick != nil {
		p.tick.Stop()
		p.tick = nil
	}
}

// sendFrame sends this frame's packet: a telephone-event while a digit is
// being sent, audio otherwise. The timestamp advances one frame either way,
// so audio after a digit carries the time the digit took.
func (s *Stream) sendFrame(snd *sender) {
	var (
		n   int
		err error
	)
	if f := s.nextDTMF(snd.ts); f.send {
		if f.started {
			s.stats.dtmfSent.Add(1)
		}
		n, err = s.marshalEvent(snd, f)
	} else {
		n, err = s.marshalAudio(snd)
	}
	snd.ts += s.tsPerFrame
	var out []byte
	if err == nil {
		out, err = s.sealRTP(snd.buf[:n])
	}
	if err != nil {
		s.stats.sendErrors.Add(1)
		if s.firstTime(warnSend) {
			s.log.Warn("building an RTP packet failed", "err", err)
		}
		return
	}
	if _, err := s.cfg.Conn.WriteToUDPAddrPort(out, *s.remote.Load()); err != nil {
		s.stats.sendErrors.Add(1)
		if !s.isClosed() && s.firstTime(warnSend) {
			s.log.Warn("sending RTP failed", "to", s.remote.Load().String(), "err", err)
		}
		return
	}
	s.lat.send.since(snd.readAt)
	s.rtcp.noteSent(snd.ts - s.tsPerFrame) // this frame's audio clock, for the SR
	s.stats.packetsSent.Add(1)
	s.stats.bytesSent.Add(uint64(len(snd.pkt.Payload)))
}

func (s *Stream) nextDTMF(ts uint32) dtmfFrame {
	if s.dtmf == nil {
		return dtmfFrame{}
	}
	return s.dtmf.next(ts)
}

// marshalAudio encodes snd.pcm into the next packet in snd.buf.
func (s *Stream) marshalAudio(snd *sender) (int, error) {
	pn, err := s.codec.Encode(snd.pcm, snd.payload)
	if err != nil {
		return 0, err
	}
	n, err := snd.marshal(s.cfg.PayloadType, snd.first, snd.ts, snd.payload[:pn])
	snd.first = false
	return n, err
}

// marshalEvent writes one telephone-event packet into snd.buf.
func (s *Stream) marshalEvent(snd *sender, f dtmfFrame) (int, error) {
	pn, err := f.ev.MarshalTo(snd.payload)
	if err != nil {
		return 0, err
	}
	return snd.marshal(s.cfg.DTMFPayloadType, f.marker, f.timestamp, snd.payload[:pn])
}

func (snd *sender) marshal(pt uint8, marker bool, ts uint32, payload []byte) (int, error) {
	snd.pkt.Header = rtp.Header{
		Version: 2, Marker: marker, PayloadType: pt,
		SequenceNumber: snd.seq, Timestamp: ts, SSRC: snd.ssrc,
	}
	snd.pkt.Payload = payload
	n, err := snd.pkt.MarshalTo(snd.buf)
	if err == nil {
		snd.seq++
	}
	return n, err
}
