//go:build cgo

package aec

import (
	"sync"

	"deskphone/hal"
)

// Playback returns p with every frame it writes recorded as c's
// reference. Closing it closes p, not c.
func (c *Canceller) Playback(p hal.Playback) hal.Playback {
	if c.players.Add(1) == 1 {
		c.restart() // a new far end: the old echo path and reference are stale
	}
	return &playback{c: c, p: p}
}

// Capture returns r with c's echo cancelled from every frame it reads,
// while a Playback wrapper of c is open (without one there is no echo to
// cancel and frames pass through). Closing it closes r, not c.
func (c *Canceller) Capture(r hal.Capture) hal.Capture { return &capture{c: c, r: r} }

type playback struct {
	c    *Canceller
	p    hal.Playback
	once sync.Once
}

// Write plays frame, then records it: once Write returns, the frame is in
// the device's buffer, ahead of the echo it will make.
func (p *playback) Write(frame []int16) error {
	if err := p.p.Write(frame); err != nil {
		return err
	}
	p.c.Played(frame)
	return nil
}

func (p *playback) Close() error {
	p.once.Do(func() { p.c.players.Add(-1) })
	return p.p.Close()
}

type capture struct {
	c *Canceller
	r hal.Capture
}

func (c *capture) Read(frame []int16) error {
	if err := c.r.Read(frame); err != nil {
		return err
	}
	if c.c.players.Load() == 0 {
		return nil
	}
	return c.c.Cancel(frame)
}

func (c *capture) Close() error { return c.r.Close() }
