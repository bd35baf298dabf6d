//go:build cgo

package alsa

import (
	"sync"
	"sync/atomic"
	"time"

	"deskphone/hal"
)

// device is one open PCM with its conversion between the codec's mono
// frames and the device's rate and channels. Buffers are made at open:
// a transfer allocates nothing.
type device struct {
	a       *Audio
	capture bool
	params  Params
	frame   int        // the codec's frame: Read and Write go in chunks of it
	rs      *resampler // nil when the device runs at the codec's rate
	mono    []int16    // a chunk at the device's rate, mono
	inter   []int16    // the same, interleaved for the device
	clock   wallClock  // paces a device without a card

	mu      sync.Mutex // one transfer at a time; close waits for it
	statsMu sync.Mutex // Stats does not wait for a transfer: it takes this
	p       *pcm       // nil once closed; set under both mutexes
	done    chan struct{}
	closed  atomic.Bool
	final   Stats // the counts at close
	frames  atomic.Int64
}

func newDevice(a *Audio, p *pcm, route, name string, capture bool, rate, frame int) *device {
	d := &device{a: a, p: p, capture: capture, frame: frame, done: make(chan struct{}),
		params: Params{Device: name, Route: route, Rate: p.rate(), CodecRate: rate, Channels: p.channels(),
			Period: p.periodFrames(), Buffer: p.bufferFrames(), Card: p.hasCard()}}
	if !capture {
		d.params.Target, d.params.Prefill = p.targetFrames(), p.prefillFrames()
	}
	n := frame + 4
	if p.rate() != rate {
		var r resampler
		if capture {
			r = newResampler(p.rate(), rate)
		} else {
			r = newResampler(rate, p.rate())
		}
		d.rs = &r
		n = max(n, (frame*p.rate()+rate-1)/rate+4) // the most a frame needs or makes
	}
	d.mono = make([]int16, n)
	d.inter = make([]int16, n*p.channels())
	if !p.hasCard() {
		d.clock = wallClock{rate: p.rate(), done: d.done, timer: time.NewTimer(time.Hour)}
		d.clock.timer.Stop()
		if !capture {
			d.clock.ahead = p.targetFrames()
		}
	}
	return d
}

func (d *device) read(frame []int16) error {
	if d.closed.Load() {
		return hal.ErrClosed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(frame) > 0 {
		if d.p == nil {
			return hal.ErrClosed
		}
		out := frame[:min(len(frame), d.frame)]
		frame = frame[len(out):]
		k := len(out)
		if d.rs != nil {
			k = d.rs.inputFor(len(out))
		}
		mono, err := d.transfer(k, nil)
		if err != nil {
			return err
		}
		if d.rs != nil {
			d.rs.process(mono, out)
		} else {
			copy(out, mono)
		}
	}
	return nil
}

func (d *device) write(frame []int16) error {
	if d.closed.Load() {
		return hal.ErrClosed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(frame) > 0 {
		if d.p == nil {
			return hal.ErrClosed
		}
		in := frame[:min(len(frame), d.frame)]
		frame = frame[len(in):]
		mono := in
		if d.rs != nil {
			// The resampler filters its input in place: not the caller's.
			src := d.inter[:len(in)]
			copy(src, in)
			mono = d.mono[:d.rs.outputFor(len(in))]
			d.rs.process(src, mono)
		}
		if _, err := d.transfer(len(mono), mono); err != nil {
			return err
		}
	}
	return nil
}

// transfer moves k device frames: for capture it returns them as mono
// (in d.mono), for playback it sends mono (mixed up to the device's
// channels). A device without a card is paced by the wall clock first.
func (d *device) transfer(k int, mono []int16) ([]int16, error) {
	ch := d.params.Channels
	buf := d.inter[:k*ch]
	if !d.capture {
		if ch == 1 {
			buf = mono
		} else {
			upmix(mono, buf, ch)
		}
	}
	if !d.params.Card {
		if !d.clock.wait(k) {
			return nil, hal.ErrClosed
		}
		if d.capture {
			// The null plugin leaves the buffer as it was, and the file
			// plugin past its infile's end: that reads as silence.
			clear(buf)
		}
	}
	if errno := d.p.xfer(buf); errno < 0 {
		return nil, d.xferError(errno)
	}
	d.frames.Add(int64(k))
	if !d.capture {
		return nil, nil
	}
	if ch == 1 {
		return buf, nil
	}
	return downmix(buf, d.mono[:k], ch), nil
}

func (d *device) xferError(errno int) error {
	if errno == errECANCELED || d.closed.Load() {
		return hal.ErrClosed
	}
	op := "write"
	if d.capture {
		op = "read"
	}
	reason := strerror(errno)
	if errno == errETIMEDOUT { // dp_wait's, not ALSA's: say what it means here
		reason = "the device stalled: it moved no audio for 2 s"
	}
	return &Error{Device: d.params.Device, Route: d.params.Route, Stream: streamName(d.capture), Op: op,
		Code: runCode(d.capture), Errno: errno, Reason: reason}
}

func (d *device) recover(errno int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.p == nil {
		return hal.ErrClosed
	}
	r := d.p.recover(errno)
	if r == 0 && !d.capture {
		r = d.p.prefill()
	}
	if r < 0 {
		return &Error{Device: d.params.Device, Route: d.params.Route, Stream: streamName(d.capture), Op: "recover",
			Code: runCode(d.capture), Errno: r, Reason: strerror(r)}
	}
	return nil
}

func (d *device) stats() Stats {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	if d.p == nil {
		return d.final
	}
	return d.statsLocked()
}

func (d *device) statsLocked() Stats {
	x, s, r := d.p.stats()
	return Stats{Xruns: x, Suspends: s, Recoveries: r, Frames: d.frames.Load()}
}

// close stops a transfer in progress (it returns within a 20 ms wait),
// then closes the PCM.
func (d *device) close() {
	if d.closed.Swap(true) {
		return
	}
	close(d.done)
	d.p.stop()
	d.mu.Lock()
	d.statsMu.Lock()
	d.final = d.statsLocked()
	d.p.close()
	d.p = nil
	d.statsMu.Unlock()
	d.mu.Unlock()
	d.a.forget(d, d.final)
	if s := d.final; s.Xruns+s.Suspends > 0 {
		d.a.log.Warn("alsa: the device had xruns (recovered); a longer period_ms or more periods may help",
			"stream", streamName(d.capture), "device", d.params.Device, "route", d.params.Route,
			"xruns", s.Xruns, "suspends", s.Suspends, "recoveries", s.Recoveries, "frames", s.Frames)
	}
}

// downmix averages interleaved frames of ch channels into mono.
func downmix(inter, mono []int16, ch int) []int16 {
	for i := range mono {
		sum := 0
		for _, v := range inter[i*ch : i*ch+ch] {
			sum += int(v)
		}
		mono[i] = int16(sum / ch) //nolint:gosec // G115: the mean of int16s is an int16
	}
	return mono
}

// upmix copies mono into every channel of interleaved frames.
func upmix(mono, inter []int16, ch int) {
	for i, v := range mono {
		for c := range ch {
			inter[i*ch+c] = v
		}
	}
}

// wallClock paces a device that has no clock of its own: a capture's
// frames exist once their time has passed, a playback takes frames while
// it is at most ahead (its target) in front of the time.
type wallClock struct {
	rate  int
	ahead int   // frames playback may run ahead: the buffer
	moved int64 // frames moved so far
	start time.Time
	timer *time.Timer
	done  <-chan struct{}
}

// advance counts frames moved without waiting (the playback's prefill).
func (c *wallClock) advance(k int) { c.moved += int64(k) }

// wait blocks until k more frames may move; false if the device closes.
func (c *wallClock) wait(k int) bool {
	if c.rate == 0 {
		return true
	}
	if c.start.IsZero() {
		c.start = time.Now()
	}
	c.moved += int64(k)
	due := c.start.Add(time.Duration((c.moved - int64(c.ahead)) * int64(time.Second) / int64(c.rate)))
	if d := time.Until(due); d > 0 {
		c.timer.Reset(d)
		select {
		case <-c.done:
			c.timer.Stop()
			return false
		case <-c.timer.C:
		}
	}
	return true
}
