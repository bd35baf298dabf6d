package media

// WaveformPLC conceals lost frames for codecs without concealment of
// their own (G.711), after ITU-T G.711 Appendix I, simplified: the last
// pitch period of the audio heard is repeated, at full level for the first
// 10 ms of a loss, then fading linearly to silence at 60 ms; the first real
// frame after a loss is cross-faded with the continued repetition, so
// neither edge clicks.
//
// Simplified from Appendix I: the pitch is searched once per loss (not
// refined over the loss), one period is repeated (Appendix I widens to
// two and three periods after 10 ms), and the fade is linear.
//
// All buffers are made by NewWaveformPLC; Good and Conceal do not
// allocate.
type WaveformPLC struct {
	rate    int
	hist    []int16 // the last len(hist) samples played, oldest first
	period  []int16 // one pitch period, looped while concealing
	p       int     // pitch period in samples (len of the loop)
	pos     int     // position in the loop
	lost    int     // samples concealed in this loss
	full    int     // samples concealed at full level (10 ms)
	mute    int     // samples after which concealment is silent (60 ms)
	overlap int     // cross-fade length at the loop's seam and at the join
	minLag  int     // pitch search range: 5 ms …
	maxLag  int     // … to 15 ms (200 Hz down to 66 Hz)
}

// NewWaveformPLC returns a concealer for audio at rate samples per second.
func NewWaveformPLC(rate int) *WaveformPLC {
	maxLag := rate * 15 / 1000
	// History: the longest period, a quarter of it for the seam, and the
	// correlation window (one longest period).
	histLen := 2*maxLag + maxLag/4 + 1
	return &WaveformPLC{
		rate:    rate,
		hist:    make([]int16, histLen),
		period:  make([]int16, maxLag),
		full:    rate / 100,
		mute:    rate * 60 / 1000,
		overlap: rate / 250, // 4 ms
		minLag:  rate / 200,
		maxLag:  maxLag,
	}
}

// Fading reports whether a loss is being concealed and not yet muted.
func (c *WaveformPLC) Fading() bool { return c.lost > 0 && c.lost < c.mute }

// Good records a real frame and, right after a loss, cross-fades its start
// with the continued concealment (in place).
func (c *WaveformPLC) Good(pcm []int16) {
	if c.lost > 0 {
		n := min(c.overlap, len(pcm))
		for i := range n {
			w := int32(i+1) * 256 / int32(n+1) // weight of the real signal, /256
			r := c.next()
			pcm[i] = int16((int32(pcm[i])*w + int32(r)*(256-w)) / 256)
		}
		c.lost = 0
	}
	c.remember(pcm)
}

// Reset forgets the history (a new talk spurt after silence).
func (c *WaveformPLC) Reset() {
	clear(c.hist)
	c.lost = 0
}

// remember appends pcm to the history.
func (c *WaveformPLC) remember(pcm []int16) {
	if len(pcm) >= len(c.hist) {
		copy(c.hist, pcm[len(pcm)-len(c.hist):])
		return
	}
	copy(c.hist, c.hist[len(pcm):])
	copy(c.hist[len(c.hist)-len(pcm):], pcm)
}

// Conceal fills pcm with concealment for a lost frame and returns
// len(pcm). Losses in a row continue the same loop, fading.
func (c *WaveformPLC) Conceal(pcm []int16) int {
	if c.lost == 0 {
		c.start()
	}
	for i := range pcm {
		pcm[i] = c.next()
	}
	return len(pcm)
}

// next is the next concealment sample, faded by how long the loss lasts.
func (c *WaveformPLC) next() int16 {
	v := int32(c.period[c.pos])
	if c.pos++; c.pos == c.p {
		c.pos = 0
	}
	switch {
	case c.lost >= c.mute:
		v = 0
	case c.lost > c.full:
		v = v * int32(c.mute-c.lost) / int32(c.mute-c.full)
	}
	if c.lost < c.mute {
		c.lost++
	}
	return int16(v)
}

// start finds the pitch period at the end of the history and builds the
// loop: the last period, its end cross-faded into the samples before it so
// the loop has no seam.
func (c *WaveformPLC) start() {
	h := c.hist
	c.p = c.pitch()
	n := len(h)
	copy(c.period[:c.p], h[n-c.p:])
	ov := min(c.p/4, c.overlap)
	for k := range ov {
		w := int32(k+1) * 256 / int32(ov+1) // weight of the sample before the period
		a := int32(h[n-ov+k])
		b := int32(h[n-c.p-ov+k])
		c.period[c.p-ov+k] = int16((a*(256-w) + b*w) / 256)
	}
	c.pos = 0
}

// pitch is the lag in [minLag, maxLag] whose shifted window best matches
// the last maxLag samples (normalised cross-correlation).
func (c *WaveformPLC) pitch() int {
	h := c.hist
	n := len(h)
	win := h[n-c.maxLag:]
	best, bestLag := int64(-1)<<62, c.minLag
	var bestE int64 = 1
	for lag := c.minLag; lag <= c.maxLag; lag++ {
		past := h[n-c.maxLag-lag : n-lag]
		var xy, e int64
		for i, v := range win {
			p := int64(past[i])
			xy += int64(v) * p
			e += p * p
		}
		if e == 0 {
			continue
		}
		// Compare xy/sqrt(e) across lags without a square root: the sign,
		// then xy²/e by cross-multiplying.
		if xy <= 0 {
			if best < 0 && xy > best {
				best, bestE, bestLag = xy, e, lag
			}
			continue
		}
		if best <= 0 || float64(xy)*float64(xy)*float64(bestE) > float64(best)*float64(best)*float64(e) {
			best, bestE, bestLag = xy, e, lag
		}
	}
	return bestLag
}
