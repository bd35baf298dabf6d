// Package event is the phone's one event stream. Every observer — display,
// control API (SSE), logs, later the serial console — subscribes to the same
// bus, so they all see the same events in the same order.
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
)

// Event is one thing that happened. Data is a struct whose JSON field names
// follow the SDK guide.
type Event struct {
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	Data any       `json:"data"`
}

// Bus fans events out to subscribers. A slow subscriber does not block the
// phone: when its buffer is full, the event is dropped for it and counted.
type Bus struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Event]struct{}{}} }

// Publish sends an event to every subscriber.
func (b *Bus) Publish(name string, data any) {
	e := Event{Name: name, Time: time.Now(), Data: data}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped++
		}
	}
}

// Subscribe returns a channel of events and a function that ends the
// subscription (and closes the channel).
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Dropped is how many events slow subscribers missed.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
