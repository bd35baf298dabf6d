//go:build cgo

package aec_test

import (
	"fmt"
	"log"

	"deskphone/hal/aec"
	"deskphone/hal/sim"
)

// A canceller sits between the phone and a board's sound devices: the
// playback records the far end, the capture has its echo removed.
func Example() {
	board, err := sim.New(sim.Options{Input: "tone:440"})
	if err != nil {
		log.Fatal(err)
	}
	defer board.Close()
	const rate, frame = 8000, 160 // 20 ms
	c, err := aec.New(rate, frame, aec.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	mic, err := board.OpenCapture(rate, frame)
	if err != nil {
		log.Fatal(err)
	}
	speaker, err := board.OpenPlayback(rate, frame)
	if err != nil {
		log.Fatal(err)
	}
	mic, speaker = c.Capture(mic), c.Playback(speaker)
	defer mic.Close()
	defer speaker.Close()

	buf := make([]int16, frame)
	for range 10 { // 200 ms of a call
		if err := speaker.Write(buf); err != nil {
			log.Fatal(err)
		}
		if err := mic.Read(buf); err != nil {
			log.Fatal(err)
		}
	}
	c.SetEnabled(false) // the agent picked up the handset
	fmt.Printf("%+v enabled=%v\n", c.Stats(), c.Enabled())
	// Output: {Frames:10 Underruns:0 Dropped:0} enabled=false
}
