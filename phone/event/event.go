// Package event is the phone's one event stream. Every observer — display,
// control API (SSE), logs, later the serial console — subscribes to the same
// bus, so they all see the same events in the same order.
//
// Events are numbered 1, 2, … per bus and the most recent ones are kept in a
// bounded replay buffer. A subscriber is never skipped silently: if it falls
// behind, it is sent what it missed from that buffer, or an onEventsLost
// notice for whatever the buffer no longer holds, before anything newer.
package event

import (
	"sync"
	"time"
)

// Names of the contact-center SDK callbacks (tccc-agent.md §3) plus the
// phone's own registration and display events.
const (
	Error              = "onError"
	Warning            = "onWarning"
	NewSession         = "onNewSession"
	Accepted           = "onAccepted"
	Ended              = "onEnded"
	ConnectionLost     = "onConnectionLost"
	TryToReconnect     = "onTryToReconnect"
	ConnectionRecovery = "onConnectionRecovery"
	DTMFReceived       = "onDTMF"         // (phone) a digit from the far end
	Registration       = "onRegistration" // (phone) registration state changed
	Ringing            = "onRinging"      // (phone) the far end is alerting (180/183)
	Muted              = "onMuted"        // (phone) mute state changed
	EventsLost         = "onEventsLost"   // (bus) this subscriber missed events; Data is Lost
	Hold               = "onHold"         // (phone) a call was held or resumed, by us or the far end
	Transfer           = "onTransfer"     // (phone) progress of a transfer (REFER/NOTIFY)
	AgentSync          = "onAgentSync"    // (phone) the agent status sync with the contact center changed
)

// A call's media reports (tccc-agent.md §3, §3.2), while it is up.
const (
	NetworkQuality = "onNetworkQuality" // network quality and the MOS behind it, every few seconds
	AudioVolume    = "onAudioVolume"    // microphone and far-end levels 0–100, a few times a second
)

// The web SDK's call events (tccc-agent.md §4.3), published beside the
// native ones so a workbench-style client sees the names it knows.
const (
	WebCallIn          = "callIn"
	WebUserAccessed    = "userAccessed"
	WebSessionEnded    = "sessionEnded"
	WebCallOuted       = "callOuted"
	WebCalloutAccepted = "calloutAccepted"
	WebTransfer        = "transfer"
	StatusChanged      = "statusChanged" // the agent status changed (tccc-agent.md §4.1)
	KickedOut          = "kickedOut"     // another device took this agent over, or an admin forced it offline
)

// DefaultReplay is how many recent events NewBus keeps for replay.
const DefaultReplay = 1024

// Event is one thing that happened. Data is a struct whose JSON field names
// follow the SDK guide.
type Event struct {
	ID   uint64    `json:"id"` // 1, 2, … per bus; an onEventsLost notice carries Lost.To
	TS   int64     `json:"ts"` // Unix milliseconds, never decreasing
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	Data any       `json:"data"`
}

// Lost is the Data of an onEventsLost notice: the events From..To
// (inclusive) were overwritten before this subscriber could take them.
type Lost struct {
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	Count uint64 `json:"count"`
}

// Bus fans events out to subscribers without ever waiting for one. A
// subscriber whose channel is full is marked lagging, and a goroutine of its
// own then feeds it from the replay buffer until it has caught up.
type Bus struct {
	mu      sync.Mutex
	subs    map[*sub]struct{}
	ring    []Event // event id i is at ring[(i-1)%len(ring)]
	last    uint64  // id of the newest event
	lastTS  int64
	dropped uint64
}

// sub's fields other than the channels are guarded by Bus.mu.
type sub struct {
	ch      chan Event
	done    chan struct{} // closed by unsubscribe, to free a blocked catch-up
	lagging bool          // a catch-up goroutine, not Publish, feeds ch
	stopped bool
}

// NewBus returns an empty bus that keeps DefaultReplay events for replay.
func NewBus() *Bus { return NewBusSize(DefaultReplay) }

// NewBusSize returns an empty bus that keeps the last n events for replay.
func NewBusSize(n int) *Bus {
	return &Bus{subs: map[*sub]struct{}{}, ring: make([]Event, max(n, 0))}
}

// Publish numbers and timestamps an event, keeps it for replay and sends it
// to every subscriber that can take it now.
func (b *Bus) Publish(name string, data any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now() // under the lock, so that TS follows ID order
	// A wall clock stepped back must not make TS go back.
	b.lastTS = max(b.lastTS, now.UnixMilli())
	b.last++
	e := Event{ID: b.last, TS: b.lastTS, Name: name, Time: now, Data: data}
	if n := uint64(len(b.ring)); n > 0 {
		b.ring[(e.ID-1)%n] = e
	}
	for s := range b.subs {
		if !s.lagging {
			select {
			case s.ch <- e:
				continue
			default:
				s.lagging = true
				go b.catchUp(s, e.ID)
			}
		}
		b.dropped++
	}
}

// catchUp feeds s from event id next on, blocking on its channel as long as
// it takes, then hands s back to Publish once nothing newer is left.
func (b *Bus) catchUp(s *sub, next uint64) {
	for {
		b.mu.Lock()
		if s.stopped || next > b.last {
			s.lagging = false
			stopped := s.stopped
			b.mu.Unlock()
			if stopped {
				close(s.ch)
			}
			return
		}
		e := b.at(next)
		b.mu.Unlock()
		select {
		case s.ch <- e:
			next = e.ID + 1
		case <-s.done:
			close(s.ch)
			return
		}
	}
}

// at returns event id, or, if the ring no longer holds it, a notice for
// everything from id up to the oldest event still held. b.mu is held.
func (b *Bus) at(id uint64) Event {
	n := uint64(len(b.ring))
	oldest := uint64(1)
	if b.last > n {
		oldest = b.last - n + 1
	}
	if id >= oldest {
		return b.ring[(id-1)%n]
	}
	// The notice takes the id of the last event it covers, so that a client
	// resuming after it (SSE Last-Event-ID) does not ask for the range again.
	now := time.Now()
	l := Lost{From: id, To: oldest - 1, Count: oldest - id}
	return Event{ID: l.To, TS: now.UnixMilli(), Name: EventsLost, Time: now, Data: l}
}

// Subscribe returns a channel of the events published from now on and a
// function that ends the subscription (and closes the channel).
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	return b.subscribe(buffer, false, 0)
}

// SubscribeFrom is Subscribe preceded by a replay of every event after
// afterID, with neither gap nor duplicate between the replay and the live
// events. Events already gone from the replay buffer are reported by one
// onEventsLost notice. An afterID the bus has not reached yet comes from
// before a restart, so everything is replayed.
func (b *Bus) SubscribeFrom(afterID uint64, buffer int) (<-chan Event, func()) {
	return b.subscribe(buffer, true, afterID)
}

func (b *Bus) subscribe(buffer int, replay bool, afterID uint64) (<-chan Event, func()) {
	s := &sub{ch: make(chan Event, buffer), done: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	if replay && afterID > b.last {
		afterID = 0
	}
	// Registering and placing the cursor under one lock: the catch-up
	// goroutine reads the ring up to whatever was last published, then
	// Publish takes over from the next id.
	if replay && afterID < b.last {
		s.lagging = true
		go b.catchUp(s, afterID+1)
	}
	b.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			s.stopped = true
			lagging := s.lagging // then the catch-up goroutine closes ch
			b.mu.Unlock()
			close(s.done)
			if !lagging {
				close(s.ch)
			}
		})
	}
}

// Dropped is how many times Publish could not hand an event to a subscriber
// because it was behind (its channel full, or still catching up). Each such
// event reaches it later, replayed or covered by an onEventsLost notice.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
