package alsa

// resampler converts a mono stream between two rates (8, 16, 48 kHz ↔ a
// card's 44.1 or 48 kHz) by linear interpolation. The phase is an exact
// fraction, so a 10-minute call does not drift; nothing is allocated. When
// it decimates it first averages twice over the decimation factor (a
// triangular low-pass: -5 dB at 3.4 kHz, -13 dB at 5 kHz for 48 → 8 kHz):
// content above the new Nyquist is damped before it folds back.
type resampler struct {
	in, out int64 // the rates, divided by their gcd
	// pos is the next output's position in input samples × out, counted
	// from x0 (the last input sample seen); it may lie in (-out, 0), between
	// x-1 and x0, after a capture block ends.
	pos      int64
	x1, x0   int16        // the last two input samples seen (x-1, x0)
	box      [2][32]int32 // the two boxcars' last boxN inputs
	boxSum   [2]int32
	boxN     int   // boxcar length: the decimation factor, 1 when not decimating
	boxInv   int64 // ceil(2^32 / boxN): a multiply in place of a division
	boxI     int
	invOut   float64 // 1 / out
	inR, ouR int     // the rates as given
}

func newResampler(in, out int) resampler {
	g := gcd(in, out)
	r := resampler{in: int64(in / g), out: int64(out / g), inR: in, ouR: out, boxN: 1}
	r.invOut = 1 / float64(r.out)
	if in >= 2*out {
		r.boxN = min(in/out, len(r.box[0]))
		r.boxInv = (1<<32 + int64(r.boxN) - 1) / int64(r.boxN)
	}
	return r
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// inputFor is how many input samples the next n outputs need.
func (r *resampler) inputFor(n int) int {
	if n <= 0 {
		return 0
	}
	return int(floorDiv(r.pos+int64(n-1)*r.in, r.out)) + 1
}

// outputFor is how many outputs k more input samples complete.
func (r *resampler) outputFor(k int) int {
	span := int64(k)*r.out - r.pos
	if span <= 0 {
		return 0
	}
	return int((span + r.in - 1) / r.in)
}

// process turns src into dst: len(src) must be inputFor(len(dst)) (a
// capture block) or len(dst) outputFor(len(src)) (a playback block). src is
// filtered in place when decimating. The position steps in exact integers
// (index i, remainder f of out); only the interpolation weight is a float.
func (r *resampler) process(src, dst []int16) {
	r.lowpass(src)
	i := floorDiv(r.pos, r.out)
	f := r.pos - i*r.out
	q, rem := r.in/r.out, r.in%r.out
	for j := range dst {
		var a, b int16
		if i >= 1 {
			a = src[i-1]
			if f != 0 {
				b = src[i]
			}
		} else { // the first outputs may lie on the previous block's samples
			a, b = r.at(src, i), r.at(src, i+1)
		}
		dst[j] = int16(float64(a) + float64(int32(b)-int32(a))*float64(f)*r.invOut)
		i += q
		f += rem
		if f >= r.out {
			f -= r.out
			i++
		}
	}
	k := int64(len(src))
	r.pos = (i-k)*r.out + f
	switch {
	case k >= 2:
		r.x1, r.x0 = src[k-2], src[k-1]
	case k == 1:
		r.x1, r.x0 = r.x0, src[0]
	}
}

// at is input sample i: -1 and 0 are the previous block's last two.
func (r *resampler) at(src []int16, i int64) int16 {
	switch i {
	case -1:
		return r.x1
	case 0:
		return r.x0
	default:
		return src[i-1]
	}
}

// lowpass averages src in place over the last boxN samples, twice.
func (r *resampler) lowpass(src []int16) {
	if r.boxN <= 1 {
		return
	}
	for i, v := range src {
		a := int32(v)
		for s := range r.box {
			r.boxSum[s] += a - r.box[s][r.boxI]
			r.box[s][r.boxI] = a
			a = int32(int64(r.boxSum[s]) * r.boxInv >> 32) //nolint:gosec // G115: a mean of int16s
		}
		r.boxI++
		if r.boxI == r.boxN {
			r.boxI = 0
		}
		src[i] = int16(a) //nolint:gosec // G115: a mean of int16s
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
