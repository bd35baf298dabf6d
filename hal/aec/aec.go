//go:build cgo

package aec

// #cgo pkg-config: speexdsp
// #include <stdlib.h>
// #include <speex/speex_echo.h>
// #include <speex/speex_preprocess.h>
//
// // The ctl calls take their int by pointer; these keep it in C.
// static void aec_set_rate(SpeexEchoState *st, int rate) { speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate); }
// static void aec_pre_set(SpeexPreprocessState *st, int req, int v) { speex_preprocess_ctl(st, req, &v); }
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"deskphone/hal"
)

// Canceller is one echo canceller for one sample rate: the C state and
// the reference ring. It is safe for one playback and one capture
// goroutine at once.
type Canceller struct {
	rate, block  int // block: samples per libspeexdsp frame
	frameSamples int // the device frame New was given

	enabled atomic.Bool
	players atomic.Int32 // open Playback wrappers: without one a wrapped capture passes through
	frames  atomic.Int64

	refMu sync.Mutex // far and reset: both directions
	far   *refRing   // the reference waiting for its capture
	reset bool       // the capture side resets the filter before its next block

	mu     sync.Mutex // the C state: the capture side and Close
	echo   *C.SpeexEchoState
	pre    *C.SpeexPreprocessState
	cbuf   unsafe.Pointer // rec, ref, out: three blocks of C memory
	rec    []int16        // Go views of cbuf
	ref    []int16
	out    []int16
	closed bool
}

// ErrClosed is returned by a Canceller used after Close. It is
// hal.ErrClosed: to a wrapped device's caller, a closed device.
var ErrClosed = hal.ErrClosed

// New makes a Canceller for rate (8000 to 48000 Hz, a multiple of 100)
// whose devices move frameSamples samples per Read or Write (up to four
// such frames of reference wait for their capture). It starts enabled.
func New(rate, frameSamples int, opts Options) (*Canceller, error) {
	if rate < 8000 || rate > 48000 || rate%100 != 0 {
		return nil, fmt.Errorf("aec: sample rate %d Hz: want 8000 to 48000 Hz in steps of 100 (8000, 16000, 48000)", rate)
	}
	if opts.Frame == 0 {
		opts.Frame = 10 * time.Millisecond
		if frameSamples%(rate/50) == 0 {
			opts.Frame = 20 * time.Millisecond
		}
	}
	if opts.Frame != 10*time.Millisecond && opts.Frame != 20*time.Millisecond {
		return nil, fmt.Errorf("aec: frame %v: want 10ms or 20ms", opts.Frame)
	}
	if opts.Tail == 0 {
		opts.Tail = 200 * time.Millisecond
	}
	if opts.Tail < opts.Frame || opts.Tail > time.Second {
		return nil, fmt.Errorf("aec: tail %v: want %v to 1s (200ms suits a desk phone)", opts.Tail, opts.Frame)
	}
	if opts.EchoSuppress == 0 {
		opts.EchoSuppress = -60
	}
	if opts.EchoSuppressActive == 0 {
		opts.EchoSuppressActive = -25
	}
	if opts.EchoSuppress > 0 || opts.EchoSuppressActive > 0 {
		return nil, fmt.Errorf("aec: echo suppression %d/%d dB: want attenuations, 0 or below (e.g. -60/-25)", opts.EchoSuppress, opts.EchoSuppressActive)
	}
	block := int(int64(rate) * int64(opts.Frame) / int64(time.Second))
	if frameSamples <= 0 || frameSamples%block != 0 {
		return nil, fmt.Errorf("aec: device frame of %d samples at %d Hz: want a multiple of %v (%d samples)", frameSamples, rate, opts.Frame, block)
	}
	tail := int(int64(rate) * int64(opts.Tail) / int64(time.Second))
	tail = (tail + block - 1) / block * block

	c := &Canceller{rate: rate, block: block, frameSamples: frameSamples}
	// Four device frames absorb the two goroutines' wake-ups crossing; the
	// ring trims what keeps waiting (ring.go).
	c.far = newRefRing(4*frameSamples, block, rate/block)
	c.cbuf = C.calloc(C.size_t(3*block), C.size_t(unsafe.Sizeof(C.spx_int16_t(0))))
	if c.cbuf == nil {
		return nil, errors.New("aec: out of memory")
	}
	all := unsafe.Slice((*int16)(c.cbuf), 3*block)
	c.rec, c.ref, c.out = all[:block:block], all[block:2*block:2*block], all[2*block:]
	c.echo = C.speex_echo_state_init(C.int(block), C.int(tail))
	c.pre = C.speex_preprocess_state_init(C.int(block), C.int(rate))
	if c.echo == nil || c.pre == nil {
		c.free()
		return nil, errors.New("aec: libspeexdsp could not make its state (out of memory?)")
	}
	C.aec_set_rate(c.echo, C.int(rate))
	C.speex_preprocess_ctl(c.pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(c.echo))
	C.aec_pre_set(c.pre, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, C.int(opts.EchoSuppress))
	C.aec_pre_set(c.pre, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, C.int(opts.EchoSuppressActive))
	// The preprocessor applies its echo suppression only inside its
	// denoiser; without Denoise that runs with a noise floor of 0 dB.
	floor := 0
	if opts.Denoise {
		floor = -15 // libspeexdsp's default
	}
	C.aec_pre_set(c.pre, C.SPEEX_PREPROCESS_SET_DENOISE, 1)
	C.aec_pre_set(c.pre, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, C.int(floor))
	c.enabled.Store(true)
	return c, nil
}

// Rate is the sample rate the Canceller was made for.
func (c *Canceller) Rate() int { return c.rate }

// SetEnabled turns cancelling on or off (bypass: the capture passes
// through untouched, the playback is not recorded). Turning it back on
// starts the filter afresh: the echo path it learnt belongs to the route
// it was on before.
func (c *Canceller) SetEnabled(on bool) {
	if c.enabled.Swap(on) == on || !on {
		return
	}
	c.restart()
}

// restart empties the ring and has the capture side reset the filter.
func (c *Canceller) restart() {
	c.refMu.Lock()
	c.far.reset()
	c.reset = true
	c.refMu.Unlock()
}

// Enabled reports whether cancelling is on.
func (c *Canceller) Enabled() bool { return c.enabled.Load() }

// Stats returns the counts so far.
func (c *Canceller) Stats() Stats {
	c.refMu.Lock()
	defer c.refMu.Unlock()
	return Stats{Frames: c.frames.Load(), Underruns: c.far.underruns, Dropped: c.far.dropped}
}

// Played records frame, just written to the speaker, as reference.
func (c *Canceller) Played(frame []int16) {
	if !c.enabled.Load() {
		return
	}
	c.refMu.Lock()
	c.far.put(frame)
	c.refMu.Unlock()
}

// takeRef moves the oldest block of reference into c.ref, or silence if
// there is none, and reports whether the filter must be reset first.
func (c *Canceller) takeRef() (reset bool) {
	c.refMu.Lock()
	defer c.refMu.Unlock()
	c.far.take(c.ref)
	reset = c.reset || c.far.moved
	c.reset, c.far.moved = false, false
	return reset
}

// Cancel removes the echo of the played reference from frame, just
// captured, in place. frame must be a whole number of blocks (the device
// frame New was given, or a multiple of 10 or 20 ms as Options.Frame).
func (c *Canceller) Cancel(frame []int16) error {
	if !c.enabled.Load() {
		return nil
	}
	if len(frame)%c.block != 0 {
		return fmt.Errorf("aec: captured frame of %d samples: want a multiple of %d (%d ms at %d Hz)", len(frame), c.block, c.block*1000/c.rate, c.rate)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	for off := 0; off < len(frame); off += c.block {
		if c.takeRef() {
			C.speex_echo_state_reset(c.echo)
		}
		b := frame[off : off+c.block]
		copy(c.rec, b)
		C.speex_echo_cancellation(c.echo, (*C.spx_int16_t)(unsafe.Pointer(&c.rec[0])),
			(*C.spx_int16_t)(unsafe.Pointer(&c.ref[0])), (*C.spx_int16_t)(unsafe.Pointer(&c.out[0])))
		C.speex_preprocess_run(c.pre, (*C.spx_int16_t)(unsafe.Pointer(&c.out[0])))
		copy(b, c.out)
		c.frames.Add(1)
	}
	return nil
}

// Close frees the C state; Cancel returns ErrClosed after it. Calling it
// again does nothing.
func (c *Canceller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.free()
	}
	return nil
}

func (c *Canceller) free() {
	if c.pre != nil {
		C.speex_preprocess_state_destroy(c.pre)
		c.pre = nil
	}
	if c.echo != nil {
		C.speex_echo_state_destroy(c.echo)
		c.echo = nil
	}
	if c.cbuf != nil {
		C.free(c.cbuf)
		c.cbuf, c.rec, c.ref, c.out = nil, nil, nil, nil
	}
}
