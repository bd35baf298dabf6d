package media_test

import (
	"fmt"
	"time"

	"deskphone/phone/media"
)

// An adaptive jitter buffer for 20 ms G.711 packets: packet 2 comes 25 ms
// late, after packet 3, and packet 4 never comes. The late packet sets
// the target delay to 40 ms, so playout starts a frame later; the playout
// loop pops once per frame on the sound device's clock and conceals what
// the buffer cannot give (lost).
func ExampleAdaptiveJitterBuffer() {
	const frame = 20 * time.Millisecond
	jb := media.NewAdaptiveJitterBuffer(8000, frame, 64, 160)
	arrive := func(seq uint16, at time.Duration) {
		jb.Push(media.Packet{Seq: seq, Timestamp: uint32(seq) * 160, Arrival: at, Payload: []byte{byte(seq)}})
	}
	arrive(0, 0)
	arrive(1, frame)
	arrive(3, 3*frame)
	arrive(2, 3*frame+5*time.Millisecond)
	arrive(5, 5*frame)
	dst := make([]byte, 160)
	for i := range 7 {
		n, st := jb.Pop(dst, time.Duration(i+1)*frame)
		if st == media.PopFrame {
			fmt.Println("play packet", dst[:n][0])
		} else {
			fmt.Println(st)
		}
	}
	st := jb.JitterStats()
	fmt.Println("lost", st.Lost, "target", st.Target)
	// Output:
	// silence
	// play packet 0
	// play packet 1
	// play packet 2
	// play packet 3
	// lost
	// play packet 5
	// lost 1 target 40ms
}
