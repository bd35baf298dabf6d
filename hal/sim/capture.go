package sim

import (
	"fmt"
	"sync"

	"deskphone/hal"
)

// OpenCapture opens the microphone: Read returns Options.Input's samples at
// rate, as fast as a sound card would deliver them (the n-th frame is ready
// one frame after the (n-1)-th). Only one capture may be open at a time.
func (b *Board) OpenCapture(rate, frameSamples int) (hal.Capture, error) {
	if err := checkFormat("capture", rate, frameSamples); err != nil {
		return nil, err
	}
	src, err := b.in.open(rate)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, hal.ErrClosed
	}
	if b.capture != nil {
		return nil, fmt.Errorf("sim: capture is already open; close it before opening another")
	}
	c := &capture{b: b, src: src, done: make(chan struct{})}
	c.clock = newClock(rate, c.done, b.unpaced)
	b.capture = c
	return c, nil
}

type capture struct {
	b     *Board
	src   source
	clock clock
	read  int64 // samples returned so far; used only by Read
	done  chan struct{}
	once  sync.Once
}

// Read fills frame, any length, once its last sample has been "recorded".
func (c *capture) Read(frame []int16) error {
	select {
	case <-c.done:
		return hal.ErrClosed
	default:
	}
	c.read += int64(len(frame))
	if err := c.clock.waitUntil(c.read); err != nil {
		return err
	}
	c.src.fill(frame)
	return nil
}

// Close ends the capture and wakes a blocked Read, which returns
// hal.ErrClosed.
func (c *capture) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.b.mu.Lock()
		if c.b.capture == c {
			c.b.capture = nil
		}
		c.b.mu.Unlock()
	})
	return nil
}

func checkFormat(dev string, rate, frameSamples int) error {
	if rate <= 0 || frameSamples <= 0 {
		return fmt.Errorf("sim: open %s at %d Hz with %d-sample frames: both must be positive (e.g. 8000 Hz, 160 samples = 20 ms)", dev, rate, frameSamples)
	}
	return nil
}
