package media

// LoopSource plays a clip over and over, for music on hold. It never
// blocks, so it is read after a paced device (Stream.SetHoldSource). One
// LoopSource serves one stream; the clip itself is shared read-only.
type LoopSource struct {
	pcm []int16
	pos int
}

// NewLoopSource resamples pcm (mono, at fromRate) to toRate by linear
// interpolation — enough for music heard through a G.711 call.
func NewLoopSource(pcm []int16, fromRate, toRate int) *LoopSource {
	if fromRate <= 0 || toRate <= 0 || fromRate == toRate || len(pcm) == 0 {
		return &LoopSource{pcm: pcm}
	}
	n := int(int64(len(pcm)) * int64(toRate) / int64(fromRate))
	out := make([]int16, max(n, 1))
	for i := range out {
		x := float64(i) * float64(fromRate) / float64(toRate)
		j := int(x)
		if j+1 >= len(pcm) {
			out[i] = pcm[len(pcm)-1]
			continue
		}
		f := x - float64(j)
		out[i] = int16(float64(pcm[j])*(1-f) + float64(pcm[j+1])*f)
	}
	return &LoopSource{pcm: out}
}

// Read fills frame with the next samples of the clip (silence if empty).
func (l *LoopSource) Read(frame []int16) error {
	if len(l.pcm) == 0 {
		clear(frame)
		return nil
	}
	for i := range frame {
		frame[i] = l.pcm[l.pos]
		l.pos++
		if l.pos == len(l.pcm) {
			l.pos = 0
		}
	}
	return nil
}

// Clip is the (resampled) clip the source loops over.
func (l *LoopSource) Clip() []int16 { return l.pcm }
