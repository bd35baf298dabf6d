package media

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

type brokenSink struct{}

func (brokenSink) Write([]int16) error { return errors.New("speaker unplugged") }

// TestDeviceErrorReportedOnce: a microphone and a speaker that fail on
// every frame are each reported once, by name, and the stream goes on.
func TestDeviceErrorReportedOnce(t *testing.T) {
	a, b := udpConn(t), udpConn(t)
	defer b.Close()
	var mu sync.Mutex
	got := map[string]int{}
	s, err := NewStream(StreamConfig{Conn: a, Remote: b.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), PayloadType: 0,
		Source: &failingSource{}, Sink: brokenSink{},
		OnDeviceError: func(which string, _ error) {
			mu.Lock()
			got[which]++
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	waitFor(t, "silence sent after the microphone failed", func() bool { return s.Stats().PacketsSent > 10 })
	waitFor(t, "both devices reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["microphone"] > 0 && got["speaker"] > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if got["microphone"] != 1 || got["speaker"] != 1 || len(got) != 2 {
		t.Errorf("device errors %v, want microphone and speaker once each", got)
	}
}

// TestDirectionRecvOnlySendsNothing: a recvonly (or inactive) stream sends
// no packet; back to sendrecv it sends again.
func TestDirectionRecvOnlySendsNothing(t *testing.T) {
	for _, dir := range []string{RecvOnly, Inactive} {
		t.Run(dir, func(t *testing.T) {
			a, b := udpConn(t), udpConn(t)
			defer b.Close()
			s, err := NewStream(StreamConfig{Conn: a, Remote: b.LocalAddr().(*net.UDPAddr), Codec: NewPCMU(), PayloadType: 0})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetDirection(dir)
			src := newToneSource(8000, 1000, 0.5, 20*time.Millisecond)
			defer src.Close()
			s.SetDevices(src, nil)
			s.Start()
			waitFor(t, "25 microphone frames read", func() bool { return src.reads.Load() >= 25 })
			if n := s.Stats().PacketsSent; n != 0 {
				t.Errorf("%s stream sent %d packets, want none", dir, n)
			}
			s.SetDirection(SendRecv)
			waitFor(t, "packets after sendrecv", func() bool { return s.Stats().PacketsSent > 0 })
		})
	}
}

// TestDirectionSendOnlyPlaysNothing: a sendonly stream receives the far
// end's tone (counted) but plays silence; sendrecv plays it.
func TestDirectionSendOnlyPlaysNothing(t *testing.T) {
	a, _ := call(t, NewPCMU, 1000, 600)
	a.stream.SetDirection(SendOnly)
	from := waitSamples(t, a.sink, 8000) // a second at least
	recv := a.stream.Stats().PacketsReceived
	waitSamples(t, a.sink, 8000)
	if a.stream.Stats().PacketsReceived <= recv {
		t.Fatal("no packets arrived while sendonly: the test proves nothing")
	}
	if l := ToneLevel(a.sink.samples(from+4000), 8000, 600); l > 0.001 {
		t.Errorf("sendonly stream played the far end's 600 Hz at %.4f, want silence", l)
	}
	a.stream.SetDirection(SendRecv)
	from = waitSamples(t, a.sink, 8000)
	waitSamples(t, a.sink, 8000)
	assertTone(t, "a after sendrecv", a.sink.samples(from+4000), 600)
}
