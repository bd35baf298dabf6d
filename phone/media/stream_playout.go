package media

import (
	"cmp"
	"math"
)

// player is the playout goroutine's state; all buffers are made once.
type player struct {
	frame   []int16 // what goes to the sink
	fifo    []int16 // decoded samples not yet played (packets need not match our frame size)
	n       int     // samples held in fifo
	payload []byte
	beepAt  int   // position in the call-waiting tone's cycle, in samples
	popAt   int64 // nanotime of this frame's first pop (latency.go)
	conceal concealment
}

func (s *Stream) newPlayer() *player {
	// Room for one frame plus the largest packet a codec may decode to:
	// a full-size G.711 payload, or 120 ms (Opus's longest).
	maxDecode := max(maxPacket, s.codec.SampleRate()*120/1000)
	return &player{
		frame:   make([]int16, s.frameSamples),
		fifo:    make([]int16, s.frameSamples+maxDecode),
		payload: make([]byte, maxPacket),
		conceal: s.newConcealment(),
	}
}

func (s *Stream) playoutLoop() {
	defer s.wg.Done()
	pl := s.newPlayer()
	pace := pacer{ptime: s.ptime} // paces the stream while it has no sink
	defer pace.stop()
	for {
		h := s.sink.Load()
		if h == nil {
			if !pace.wait(s.done) {
				return
			}
		} else {
			pace.stop()
			if s.isClosed() {
				return
			}
		}
		s.fillFrame(pl)
		if s.noRecv.Load() {
			clear(pl.frame) // sendonly/inactive: what arrives is not played
		}
		s.levels[1].Measure(pl.frame) // the far end, for onAudioVolume
		if s.alert.Load() {
			s.mixWaitingTone(pl)
		}
		if h == nil {
			continue
		}
		err := h.sink.Write(pl.frame)
		s.lat.playout.since(pl.popAt)
		if err != nil {
			if s.isClosed() {
				return
			}
			if s.sink.CompareAndSwap(h, nil) && s.firstTime(warnSink) {
				s.log.Warn("audio sink failed; discarding received audio until another is set", "err", err)
				s.deviceError("speaker", err)
			}
		}
	}
}

// fillFrame puts the next frame's samples in pl.frame: decoded audio;
// concealment where the jitter buffer says a frame is lost or not yet
// here (plc_stream.go); silence where it has nothing to play.
func (s *Stream) fillFrame(pl *player) {
	pl.popAt = 0
	now := jitterNow()
	for pl.n < len(pl.frame) {
		s.jbMu.Lock()
		n, st := s.jb.Pop(pl.payload, now)
		fec, haveFEC := 0, false
		if st == PopLost && pl.conceal.codec != nil {
			fec, haveFEC = s.jb.PeekNext(pl.conceal.fec)
		}
		s.publishJitterLocked()
		s.jbMu.Unlock()
		if st != PopFrame {
			pl.n += s.concealFrame(pl, st, fec, haveFEC)
			break
		}
		k, err := s.codec.Decode(pl.payload[:n], pl.fifo[pl.n:])
		if err != nil {
			if s.firstTime(warnDecode) {
				s.log.Warn("decoding received audio failed; playing silence for those packets", "codec", s.codec.Name(), "err", err)
			}
			continue
		}
		pl.conceal.good(pl.fifo[pl.n : pl.n+k])
		pl.n += k
		pl.popAt = cmp.Or(pl.popAt, nanotime())
	}
	if pl.n >= len(pl.frame) {
		copy(pl.frame, pl.fifo[:len(pl.frame)])
		pl.n = copy(pl.fifo, pl.fifo[len(pl.frame):pl.n])
		return
	}
	copy(pl.frame, pl.fifo[:pl.n])
	clear(pl.frame[pl.n:])
	pl.n = 0
}

// mixWaitingTone adds the call-waiting tone: 440 Hz for 200 ms every 2 s
// (ITU-T E.180's usual cadence), at a level that does not drown the call.
func (s *Stream) mixWaitingTone(pl *player) {
	rate := s.codec.SampleRate()
	on, cycle := rate/5, 2*rate
	for i := range pl.frame {
		if pl.beepAt < on {
			v := int32(pl.frame[i]) + int32(4000*math.Sin(2*math.Pi*440*float64(pl.beepAt)/float64(rate)))
			pl.frame[i] = int16(max(-32768, min(32767, v)))
		}
		if pl.beepAt++; pl.beepAt == cycle {
			pl.beepAt = 0
		}
	}
}
