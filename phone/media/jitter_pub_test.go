package media

import (
	"net"
	"testing"
	"time"
)

// The jitter buffer's figures are read without the lock its receiver and
// playout loop share: with that lock held (as during a Push or Pop), the
// stats, the delay stamps and the RTCP report's delay still answer.
func TestJitterFiguresTakeNoMediaLock(t *testing.T) {
	conn, peer := udpConn(t), udpConn(t)
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); peer.Close() })
	s.jbMu.Lock()
	defer s.jbMu.Unlock()
	done := make(chan JitterStats, 1)
	go func() {
		_ = s.Latency()
		_ = s.jitterDelay()
		done <- s.JitterStats()
	}()
	select {
	case st := <-done:
		if st.Target <= 0 {
			t.Errorf("published target %v before any frame; want the buffer's initial target", st.Target)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading the jitter buffer's figures waited for the media path's lock")
	}
}
