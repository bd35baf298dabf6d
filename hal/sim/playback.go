package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"deskphone/hal"
	"deskphone/hal/wav"
)

// bufferFrames is how many frames the simulated speaker buffers: a writer
// further ahead of the clock than this blocks.
const bufferFrames = 3

// OpenPlayback opens the speaker. If Options.Output is set, it creates (or
// truncates) that WAV file, mono at rate, making its directory if needed;
// each open starts a new file. Only one playback may be open at a time.
func (b *Board) OpenPlayback(rate, frameSamples int) (hal.Playback, error) {
	if err := checkFormat("playback", rate, frameSamples); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, hal.ErrClosed
	}
	if b.playback != nil {
		return nil, fmt.Errorf("sim: playback is already open; close it before opening another")
	}
	p := &playback{b: b, frame: int64(frameSamples), flushEvery: int64(rate), done: make(chan struct{})}
	if out := b.opts.Output; out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
			return nil, fmt.Errorf("sim: output %q: %w", out, err)
		}
		w, err := wav.Create(out, rate, 1)
		if err != nil {
			return nil, fmt.Errorf("sim: output: %w", err)
		}
		p.w = w
	}
	p.clock = newClock(rate, p.done, b.unpaced)
	b.playback = p
	return p, nil
}

type playback struct {
	b          *Board
	clock      clock
	frame      int64
	flushEvery int64 // samples between header flushes: about a second
	written    int64 // samples accepted; used only by Write
	unflushed  int64
	done       chan struct{}
	once       sync.Once

	mu     sync.Mutex // guards w against Close during Write
	w      *wav.Writer
	closed bool
}

// Write blocks while the speaker's buffer (bufferFrames frames ahead of
// the clock) has no room for frame, then records it.
func (p *playback) Write(frame []int16) error {
	select {
	case <-p.done:
		return hal.ErrClosed
	default:
	}
	end := p.written + int64(len(frame))
	if err := p.clock.waitUntil(end - bufferFrames*p.frame); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return hal.ErrClosed
	}
	p.written = end
	if p.w == nil {
		return nil
	}
	if err := p.w.Write(frame); err != nil {
		return fmt.Errorf("sim: output: %w", err)
	}
	p.unflushed += int64(len(frame))
	if p.unflushed >= p.flushEvery {
		p.unflushed = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("sim: output: %w", err)
		}
	}
	return nil
}

// Close fixes the WAV header, closes the file and wakes a blocked Write,
// which returns hal.ErrClosed.
func (p *playback) Close() error {
	var err error
	p.once.Do(func() {
		close(p.done)
		p.mu.Lock()
		p.closed = true
		if p.w != nil {
			err = p.w.Close()
		}
		p.mu.Unlock()
		p.b.mu.Lock()
		if p.b.playback == p {
			p.b.playback = nil
		}
		p.b.mu.Unlock()
	})
	return err
}
