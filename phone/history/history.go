// Package history keeps the phone's recent calls: one Record per session,
// built from the bus's onNewSession, onAccepted and onEnded. It is what GET
// /v1/history shows, and the one place a call record takes shape, so the
// contact center's call-record formats can be produced from it later.
package history

import (
	"sync"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
)

// DefaultSize is how many calls the firmware keeps.
const DefaultSize = 100

// Record is one call. Times are Unix milliseconds; 0 = not (yet) happened.
type Record struct {
	SessionID string `json:"sessionId"`
	Direction string `json:"direction"` // CallIn or CallOut
	Peer      string `json:"peer"`      // the other party's number
	PeerName  string `json:"peerName,omitempty"`
	Start     int64  `json:"start"`
	Answer    int64  `json:"answer,omitempty"`
	End       int64  `json:"end,omitempty"`
	EndReason string `json:"endReason,omitempty"` // onEnded's reason: LocalBye, RemoteBye, …
	Message   string `json:"reasonMessage,omitempty"`
	SIPCode   int    `json:"sipCode,omitempty"`
	// Duration is the talk time in whole seconds, answer to end (to now
	// while the call lasts); 0 for a call never answered.
	Duration int64 `json:"duration"`
}

// Recorder builds records from events. Its methods are safe to call at once.
type Recorder struct {
	mu      sync.Mutex
	max     int
	records []*Record // oldest first, at most max
	byID    map[string]*Record
}

// New keeps the last n calls (at least 1).
func New(n int) *Recorder {
	return &Recorder{max: max(n, 1), byID: map[string]*Record{}}
}

// Follow feeds the recorder from bus until stop is called; stop returns once
// the last event taken is recorded.
func (r *Recorder) Follow(bus *event.Bus) (stop func()) {
	ch, unsub := bus.Subscribe(256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			r.Add(e)
		}
	}()
	return func() {
		unsub() // closes ch
		<-done
	}
}

// Add records one event; events other than a session's start, answer and
// end are ignored. A session first seen at its answer or end (its start was
// lost) still gets a record.
func (r *Recorder) Add(e event.Event) {
	at := e.Time.UnixMilli()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch d := e.Data.(type) {
	case phone.SessionInfo:
		rec := r.session(d.SessionID, at)
		rec.Direction = d.SessionDirection
		rec.Peer = d.CalleePhoneNumber
		if d.SessionDirection == phone.CallIn {
			rec.Peer = d.CallerPhoneNumber
		}
		rec.PeerName = d.PeerName
	case phone.SessionRef:
		if e.Name == event.Accepted {
			if rec := r.session(d.SessionID, at); rec.Answer == 0 {
				rec.Answer = at
			}
		}
	case phone.Ended:
		rec := r.session(d.SessionID, at)
		rec.End, rec.EndReason, rec.Message, rec.SIPCode = at, d.Reason, d.ReasonMessage, d.SIPCode
		delete(r.byID, d.SessionID) // a later event of this id is a new call
	}
}

// session returns the live record of id, starting one at `at` if none.
func (r *Recorder) session(id string, at int64) *Record {
	if rec, ok := r.byID[id]; ok {
		return rec
	}
	rec := &Record{SessionID: id, Start: at}
	r.byID[id] = rec
	r.records = append(r.records, rec)
	if len(r.records) > r.max {
		old := r.records[0]
		if r.byID[old.SessionID] == old {
			delete(r.byID, old.SessionID)
		}
		r.records = append(r.records[:0:0], r.records[1:]...)
	}
	return rec
}

// Records returns copies of the kept calls, newest first.
func (r *Recorder) Records() []Record {
	now := time.Now().UnixMilli()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Record, 0, len(r.records))
	for i := len(r.records) - 1; i >= 0; i-- {
		rec := *r.records[i]
		if rec.Answer != 0 {
			end := rec.End
			if end == 0 {
				end = now
			}
			rec.Duration = max(end-rec.Answer, 0) / 1000
		}
		out = append(out, rec)
	}
	return out
}
