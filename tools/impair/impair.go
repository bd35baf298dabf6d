// Package impair is a UDP impairment relay for media tests: it sits between
// two RTP peers and drops, delays (jitter), reorders and duplicates their
// datagrams, reproducibly from a seed, with settings that change live.
//
// It is a mirror: it takes one address (say 127.0.0.77, any loopback
// alias) and stands in there for every port of the peers' host (Target,
// say 127.0.0.1): at the same port number where it can bind it, else at a
// port of its own (a peer such as baresip binds its RTP port on all
// addresses, so that number is taken). A datagram that Target's port Y
// sends to the relay's stand-in for Target's port X goes on to X, from the
// relay's stand-in for Y. Each peer thus sees the other at the relay's
// address, and the relay parses no SIP or SDP: one peer (the phone, with
// SetMediaRelay) advertises the relay's address with its own port in its
// SDP — Config.Ports pre-binds those stand-ins — and sends to Via(the
// other's address). RTCP (port + 1) is mirrored the same way: stand-ins of
// the relay's own come in even/odd pairs.
//
// Reproducible: each direction (towards the ports in SideA, or away) and
// kind (RTP on even ports, RTCP on odd) draws from its own random source
// seeded from Seed, in the order its datagrams arrive, so the same stream
// meets the same fate in every run.
package impair

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Settings are the impairments, the same both ways.
type Settings struct {
	Loss      float64       // probability (0-1) that a datagram is dropped
	Delay     time.Duration // fixed extra delay
	Jitter    time.Duration // random extra delay: uniform in [0, Jitter), or see Dist
	Dist      string        // "uniform" (default) or "normal": mean Jitter/2, σ Jitter/4, cut at 0 and 2×Jitter
	Reorder   float64       // probability that a datagram is held back and sent after the next one of its flow
	Duplicate float64       // probability that a datagram is sent twice
}

// Check reports settings out of range.
func (s Settings) Check() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", s.Loss}, {"reorder", s.Reorder}, {"duplicate", s.Duplicate}} {
		if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
			return fmt.Errorf("impair: %s %v is not a probability: give 0-1 (0.05 = 5 %%)", p.name, p.v)
		}
	}
	if s.Delay < 0 || s.Jitter < 0 || s.Delay > time.Minute || s.Jitter > time.Minute {
		return fmt.Errorf("impair: delay %v, jitter %v: give 0 to 1m each", s.Delay, s.Jitter)
	}
	if s.Dist != "" && s.Dist != "uniform" && s.Dist != "normal" {
		return fmt.Errorf("impair: jitter distribution %q: use uniform or normal", s.Dist)
	}
	return nil
}

// Config sets up a Relay.
type Config struct {
	Addr   netip.Addr // the relay's address, e.g. 127.0.0.77
	Target netip.Addr // the peers' address, e.g. 127.0.0.1
	// Ports to stand in for at the same number from the start: the ports
	// a peer advertises with the relay's address (the phone's RTP and RTCP
	// range). Other ports get a stand-in when first used.
	Ports []PortRange
	SideA PortRange // the ports of one peer (the phone): names the direction for the seeds
	Seed  uint64
	Settings
	// Tap, when set, sees every datagram the relay receives from a peer,
	// before impairment: to is the Target port it goes to (a test's packet
	// capture). data is the relay's own copy: read it, do not change it.
	Tap func(to int, data []byte)
}

// PortRange is Lo through Hi inclusive.
type PortRange struct{ Lo, Hi int }

// Contains reports whether port p is in r.
func (r PortRange) Contains(p int) bool { return p >= r.Lo && p <= r.Hi }

// Counts are what the relay did with the datagrams of one direction.
type Counts struct {
	Received, Sent, Dropped, Duplicated, Reordered uint64
}

// Stats are the relay's counts towards side A and towards side B (RTP
// and RTCP together).
type Stats struct{ ToA, ToB Counts }

// Relay is a running mirror relay; Close stops it.
type Relay struct {
	cfg      Config
	settings atomic.Pointer[Settings]

	mu     sync.Mutex
	socks  map[int]*net.UDPConn // by relay port
	stands map[int]int          // relay port → the Target port it stands for
	via    map[int]int          // Target port → its stand-in on the relay
	flows  [4]*flow             // by direction and kind (flowIndex)
	queue  schedule
	closed bool
	wake   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	errs   atomic.Uint64
}

// flow is one direction and kind: its random source and counts.
type flow struct {
	rng    *rand.Rand
	counts Counts
	held   *datagram // a datagram held back to go after the next one
}

type datagram struct {
	at       time.Time
	from, to int // relay port it leaves from, Target port it goes to
	data     []byte
	flow     *flow
	seq      uint64 // tie-break: equal times keep arrival order
	idx      int    // position in the schedule's heap; -1 when out
}

// Start binds the relay's ports and starts relaying.
func Start(cfg Config) (*Relay, error) {
	if !cfg.Addr.IsValid() || !cfg.Target.IsValid() {
		return nil, errors.New("impair: Config needs Addr (the relay's address) and Target (the peers' address)")
	}
	if cfg.Addr == cfg.Target {
		return nil, fmt.Errorf("impair: the relay's address %v is the peers' own: give it another (e.g. 127.0.0.77)", cfg.Addr)
	}
	if err := cfg.Settings.Check(); err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, socks: map[int]*net.UDPConn{}, stands: map[int]int{}, via: map[int]int{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	st := cfg.Settings
	r.settings.Store(&st)
	for i := range r.flows {
		r.flows[i] = &flow{rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
	}
	for _, pr := range cfg.Ports {
		if pr.Lo < 1 || pr.Hi > 65535 || pr.Lo > pr.Hi {
			_ = r.Close()
			return nil, fmt.Errorf("impair: port range %d-%d: give 1-65535, low to high", pr.Lo, pr.Hi)
		}
		for p := pr.Lo; p <= pr.Hi; p++ {
			r.mu.Lock()
			_, err := r.bindLocked(p, p)
			r.mu.Unlock()
			if err != nil {
				_ = r.Close()
				return nil, err
			}
		}
	}
	r.wg.Add(1)
	go r.sendLoop()
	return r, nil
}

// Set changes the impairments from the next datagram on.
func (r *Relay) Set(s Settings) error {
	if err := s.Check(); err != nil {
		return err
	}
	r.settings.Store(&s)
	return nil
}

// Settings returns the impairments in force.
func (r *Relay) Settings() Settings { return *r.settings.Load() }

// Addr is the relay's address.
func (r *Relay) Addr() netip.Addr { return r.cfg.Addr }

// Stats returns the counts so far.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{ToA: r.flows[0].counts.plus(r.flows[1].counts), ToB: r.flows[2].counts.plus(r.flows[3].counts)}
}

func (c Counts) plus(d Counts) Counts {
	return Counts{
		Received: c.Received + d.Received, Sent: c.Sent + d.Sent, Dropped: c.Dropped + d.Dropped,
		Duplicated: c.Duplicated + d.Duplicated, Reordered: c.Reordered + d.Reordered,
	}
}

// Errors counts datagrams the relay could not pass on (a port it could
// not bind, a send that failed).
func (r *Relay) Errors() uint64 { return r.errs.Load() }

// Close stops the relay and closes its ports; datagrams still queued are
// dropped.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	for _, c := range r.socks {
		_ = c.Close() // wakes its reader
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// Via is where a peer sends to reach far (a port of Target): the relay's
// stand-in for it. far itself if the relay cannot stand in for it.
func (r *Relay) Via(far netip.AddrPort) netip.AddrPort {
	p, err := r.standIn(int(far.Port()))
	if err != nil {
		r.errs.Add(1)
		return far
	}
	return netip.AddrPortFrom(r.cfg.Addr, uint16(p)) //nolint:gosec // G115: a port we bound
}

// standIn returns the relay port standing in for Target's port y,
// binding one (y itself if free here, else an even/odd pair of its own)
// the first time.
func (r *Relay) standIn(y int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.via[y]; ok {
		return p, nil
	}
	if _, err := r.bindLocked(y, y); err == nil {
		return y, nil
	}
	base := y &^ 1
	for range 50 {
		c, err := r.listen(0)
		if err != nil {
			return 0, err
		}
		e := c.LocalAddr().(*net.UDPAddr).Port //nolint:forcetypeassert // a UDP socket
		_ = c.Close()                          // a probe for an even port with a free odd one
		if e&1 != 0 || e+1 > 65535 {
			continue
		}
		if _, err := r.bindLocked(e, base); err != nil {
			continue
		}
		if _, ok := r.via[base+1]; !ok {
			if _, err := r.bindLocked(e+1, base+1); err != nil {
				r.unbindLocked(e)
				continue
			}
		}
		return r.via[y], nil
	}
	return 0, fmt.Errorf("impair: no free port pair on %v to stand in for port %d", r.cfg.Addr, y)
}

func (r *Relay) listen(p int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.cfg.Addr, uint16(p)))) //nolint:gosec // G115: p is 0-65535
}

// bindLocked opens relay port p as the stand-in for Target's port peer
// and starts its reader.
func (r *Relay) bindLocked(p, peer int) (*net.UDPConn, error) {
	if r.closed {
		return nil, net.ErrClosed
	}
	c, err := r.listen(p)
	if err != nil {
		return nil, fmt.Errorf("impair: binding %v port %d: %w", r.cfg.Addr, p, err)
	}
	r.socks[p], r.stands[p], r.via[peer] = c, peer, p
	r.wg.Add(1)
	go r.readLoop(c, peer)
	return c, nil
}

// unbindLocked undoes bindLocked (a pair that could not be completed).
func (r *Relay) unbindLocked(p int) {
	if c, ok := r.socks[p]; ok {
		_ = c.Close() // its reader ends
		delete(r.via, r.stands[p])
		delete(r.socks, p)
		delete(r.stands, p)
	}
}

// flowIndex: 0 RTP towards A, 1 RTCP towards A, 2 RTP towards B, 3 RTCP towards B.
func (r *Relay) flowIndex(to int) int {
	i := to & 1
	if !r.cfg.SideA.Contains(to) {
		i += 2
	}
	return i
}

// readLoop passes what c (the stand-in for Target's port peer) receives
// on to peer.
func (r *Relay) readLoop(c *net.UDPConn, peer int) {
	defer r.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if from.Addr().Unmap() != r.cfg.Target {
			r.errs.Add(1) // not a peer: a mirror has nowhere to send it
			continue
		}
		src, err := r.standIn(int(from.Port()))
		if err != nil {
			r.errs.Add(1)
			continue
		}
		data := append([]byte(nil), buf[:n]...)
		if r.cfg.Tap != nil {
			r.cfg.Tap(peer, data)
		}
		r.enqueue(src, peer, data)
	}
}

// enqueue decides one datagram's fate and schedules what is sent.
func (r *Relay) enqueue(from, to int, data []byte) {
	s := r.settings.Load()
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.flows[r.flowIndex(to)]
	f.counts.Received++
	// Every draw is made for every datagram, so one setting does not
	// shift the random sequence of the others.
	lossDraw, dupDraw, reorderDraw, jit, jit2 := f.rng.Float64(), f.rng.Float64(), f.rng.Float64(), f.rng.Float64(), f.rng.NormFloat64()
	if lossDraw < s.Loss {
		f.counts.Dropped++
		r.releaseHeld(f, now)
		return
	}
	d := &datagram{at: now.Add(s.Delay + jitter(s, jit, jit2)), from: from, to: to, data: data, flow: f}
	if reorderDraw < s.Reorder && f.held == nil {
		f.held = d // goes after the next datagram of this flow
		f.counts.Reordered++
		r.queue.pushTimeout(d, now.Add(s.Delay+s.Jitter+100*time.Millisecond))
		r.signal()
		return
	}
	r.queue.push(d)
	if dupDraw < s.Duplicate {
		f.counts.Duplicated++
		r.queue.push(&datagram{at: d.at.Add(time.Millisecond), from: from, to: to, data: data, flow: f})
	}
	r.releaseHeld(f, d.at)
	r.signal()
}

// releaseHeld schedules a held-back datagram just after time after.
func (r *Relay) releaseHeld(f *flow, after time.Time) {
	if h := f.held; h != nil {
		f.held = nil
		r.queue.removeTimeout(h)
		h.at = after.Add(time.Microsecond)
		r.queue.push(h)
	}
}

func jitter(s *Settings, u, n float64) time.Duration {
	if s.Jitter <= 0 {
		return 0
	}
	if s.Dist == "normal" {
		v := 0.5 + n/4 // in units of Jitter
		return time.Duration(min(max(v, 0), 2) * float64(s.Jitter))
	}
	return time.Duration(u * float64(s.Jitter))
}

func (r *Relay) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// sendLoop sends queued datagrams at their time.
func (r *Relay) sendLoop() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		due := r.queue.popDue(time.Now())
		next, ok := r.queue.nextAt()
		r.mu.Unlock()
		for _, d := range due {
			r.send(d)
		}
		if len(due) > 0 {
			continue
		}
		wait := time.Hour
		if ok {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-r.done:
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

func (r *Relay) send(d *datagram) {
	r.mu.Lock()
	c := r.socks[d.from]
	if c != nil {
		d.flow.counts.Sent++
	}
	r.mu.Unlock()
	if c == nil {
		r.errs.Add(1)
		return
	}
	dst := netip.AddrPortFrom(r.cfg.Target, uint16(d.to)) //nolint:gosec // G115: a port we read from
	if _, err := c.WriteToUDPAddrPort(d.data, dst); err != nil {
		r.errs.Add(1)
	}
}
