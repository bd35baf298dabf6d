package media

// concealment is the playout loop's loss concealment: the codec's own when
// it has one (Concealer: Opus's PLC, and its in-band FEC when the next
// packet is already held), else waveform repetition (G.711).
type concealment struct {
	codec Concealer    // nil: wave conceals
	wave  *WaveformPLC // nil: codec conceals
	fec   []byte       // the packet after a lost one, for DecodeFEC
}

func (s *Stream) newConcealment() concealment {
	if c, ok := s.codec.(Concealer); ok {
		return concealment{codec: c, fec: make([]byte, maxPacket)}
	}
	return concealment{wave: NewWaveformPLC(s.codec.SampleRate())}
}

// good passes a decoded frame to the waveform concealer: its history, and
// the join after a loss.
func (c *concealment) good(pcm []int16) {
	if c.wave != nil {
		c.wave.Good(pcm)
	}
}

// concealFrame writes one frame of concealment at pl.fifo[pl.n:] for a
// frame the jitter buffer could not fill (st), and returns the samples
// written. On silence it only finishes a fade already under way.
func (s *Stream) concealFrame(pl *player, st PopStatus, fec int, haveFEC bool) int {
	c := &pl.conceal
	out := pl.fifo[pl.n : pl.n+s.frameSamples]
	switch {
	case st == PopSilence:
		if c.wave != nil && c.wave.Fading() {
			return c.wave.Conceal(out) // the end of a talk spurt under loss: fade, do not cut
		}
		return 0
	case c.codec != nil:
		var (
			k   int
			err error
		)
		if haveFEC {
			k, err = c.codec.DecodeFEC(c.fec[:fec], out)
		} else {
			k, err = c.codec.Conceal(out)
		}
		if err != nil {
			if s.firstTime(warnDecode) {
				s.log.Warn("concealing lost audio failed; playing silence for those frames", "codec", s.codec.Name(), "err", err)
			}
			return 0
		}
		s.concealed.Add(1)
		return k
	default:
		s.concealed.Add(1)
		return c.wave.Conceal(out)
	}
}
