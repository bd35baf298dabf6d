package history

import (
	"fmt"
	"testing"
	"time"

	"deskphone/phone"
	"deskphone/phone/event"
)

func ev(name string, at time.Time, data any) event.Event {
	return event.Event{Name: name, Time: at, Data: data}
}

func TestOneRecordPerSession(t *testing.T) {
	r := New(10)
	t0 := time.UnixMilli(1_700_000_000_000)
	r.Add(ev(event.NewSession, t0, phone.SessionInfo{SessionID: "out", SessionDirection: phone.CallOut, CallerPhoneNumber: "1001", CalleePhoneNumber: "1002"}))
	r.Add(ev(event.Ringing, t0.Add(time.Second), phone.RingingInfo{SessionID: "out", Code: 180}))
	r.Add(ev(event.Accepted, t0.Add(2*time.Second), phone.SessionRef{SessionID: "out"}))
	r.Add(ev(event.WebUserAccessed, t0.Add(3*time.Second), phone.WebSession{SessionID: "out"}))
	r.Add(ev(event.Ended, t0.Add(65*time.Second+500*time.Millisecond), phone.Ended{SessionID: "out", Reason: phone.EndLocalBye, ReasonMessage: "hung up", SIPCode: 200}))
	r.Add(ev(event.NewSession, t0.Add(70*time.Second), phone.SessionInfo{SessionID: "in", SessionDirection: phone.CallIn, CallerPhoneNumber: "1003", CalleePhoneNumber: "1001", PeerName: "Bob"}))
	r.Add(ev(event.Ended, t0.Add(80*time.Second), phone.Ended{SessionID: "in", Reason: phone.EndRemoteCancel, SIPCode: 487}))

	got := r.Records()
	want := []Record{
		{SessionID: "in", Direction: phone.CallIn, Peer: "1003", PeerName: "Bob", Start: t0.Add(70 * time.Second).UnixMilli(), End: t0.Add(80 * time.Second).UnixMilli(), EndReason: phone.EndRemoteCancel, SIPCode: 487},
		{SessionID: "out", Direction: phone.CallOut, Peer: "1002", Start: t0.UnixMilli(), Answer: t0.Add(2 * time.Second).UnixMilli(),
			End: t0.Add(65500 * time.Millisecond).UnixMilli(), EndReason: phone.EndLocalBye, Message: "hung up", SIPCode: 200, Duration: 63},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Records() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLiveCallDurationGrows(t *testing.T) {
	r := New(10)
	start := time.Now().Add(-5 * time.Second)
	r.Add(ev(event.NewSession, start, phone.SessionInfo{SessionID: "a", SessionDirection: phone.CallOut, CalleePhoneNumber: "1002"}))
	r.Add(ev(event.Accepted, start.Add(time.Second), phone.SessionRef{SessionID: "a"}))
	got := r.Records()
	if len(got) != 1 || got[0].End != 0 || got[0].Duration < 4 || got[0].Duration > 6 {
		t.Fatalf("a live call answered 4 s ago: %+v, want no end and a duration of about 4 s", got)
	}
}

func TestKeepsTheLastN(t *testing.T) {
	r := New(3)
	at := time.Now()
	for i := range 5 {
		id := fmt.Sprint("s", i)
		r.Add(ev(event.NewSession, at, phone.SessionInfo{SessionID: id, SessionDirection: phone.CallOut, CalleePhoneNumber: "1002"}))
		if i != 3 { // s3 is still live when it is pushed out
			r.Add(ev(event.Ended, at, phone.Ended{SessionID: id, Reason: phone.EndRemoteBye}))
		}
	}
	got := r.Records()
	if len(got) != 3 || got[0].SessionID != "s4" || got[2].SessionID != "s2" {
		t.Fatalf("Records() = %+v, want s4, s3, s2", got)
	}
	// The end of a call pushed out of the history starts a record of its own
	// rather than reviving the dropped one.
	r.Add(ev(event.NewSession, at, phone.SessionInfo{SessionID: "s5", SessionDirection: phone.CallOut}))
	r.Add(ev(event.NewSession, at, phone.SessionInfo{SessionID: "s6", SessionDirection: phone.CallOut}))
	r.Add(ev(event.Ended, at, phone.Ended{SessionID: "s3", Reason: phone.EndLocalBye}))
	got = r.Records()
	if len(got) != 3 || got[0].SessionID != "s3" || got[0].Direction != "" || got[0].EndReason != phone.EndLocalBye {
		t.Fatalf("Records() = %+v, want s3 (its end only), s6, s5", got)
	}
}

func TestFollowTheBus(t *testing.T) {
	bus := event.NewBus()
	r := New(10)
	stop := r.Follow(bus)
	bus.Publish(event.NewSession, phone.SessionInfo{SessionID: "x", SessionDirection: phone.CallIn, CallerPhoneNumber: "1003"})
	bus.Publish(event.Ended, phone.Ended{SessionID: "x", Reason: phone.EndRejected, SIPCode: 486})
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := r.Records()
		if len(got) == 1 && got[0].EndReason == phone.EndRejected && got[0].Peer == "1003" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 s the recorder has %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	bus.Publish(event.NewSession, phone.SessionInfo{SessionID: "y"})
	if got := r.Records(); len(got) != 1 {
		t.Fatalf("after stop the recorder still records: %+v", got)
	}
}
