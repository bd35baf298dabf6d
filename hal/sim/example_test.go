package sim_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"deskphone/hal"
	"deskphone/hal/sim"
	"deskphone/hal/wav"
)

// A console or a test drives the board like a person would, and reads back
// what the phone shows.
func Example() {
	b, err := sim.New(sim.Options{Rows: 2, Cols: 16, Input: "tone:1000"})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	changed, stop := b.Watch()
	defer stop()

	// The person lifts the handset and dials.
	b.SetHook(true)
	for _, k := range []hal.Key{"1", "0", "0", "2", hal.KeyCall} {
		if err := b.Press(k); err != nil {
			log.Fatal(err)
		}
	}

	// The phone (here, inline) reacts.
	fmt.Println("off hook:", <-b.Changes())
	number := ""
	for k := range b.Presses() {
		if k == hal.KeyCall {
			break
		}
		number += string(k)
	}
	if err := b.Show([]string{"Calling " + number, "Agent 1001 ready and waiting"}); err != nil {
		log.Fatal(err)
	}
	if err := b.SetLED(hal.LEDLine, hal.LEDOn); err != nil {
		log.Fatal(err)
	}

	<-changed // the console would reprint the panel now
	j, _ := json.Marshal(b.Panel())
	fmt.Println(string(j))
	// Output:
	// off hook: true
	// {"display":["Calling 1002","Agent 1001 ready"],"leds":{"line":"on","mute":"off","registered":"off"},"offHook":true}
}

// The microphone plays the configured input at the real pace of a sound
// card; the speaker records one WAV file per open.
func Example_audio() {
	dir, err := os.MkdirTemp("", "sim-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "heard.wav")
	b, err := sim.New(sim.Options{Input: "tone:1000", Output: out})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	mic, err := b.OpenCapture(8000, 160) // 20 ms frames
	if err != nil {
		log.Fatal(err)
	}
	spk, err := b.OpenPlayback(8000, 160)
	if err != nil {
		log.Fatal(err)
	}
	frame := make([]int16, 160)
	for range 5 { // loop back: 100 ms, paced by the board's clock
		if err := mic.Read(frame); err != nil {
			log.Fatal(err)
		}
		if err := spk.Write(frame); err != nil {
			log.Fatal(err)
		}
	}
	mic.Close()
	spk.Close()

	a, err := wav.ReadFile(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d Hz, %d channel, %d ms\n", a.Rate, a.Channels, len(a.Samples)*1000/a.Rate)
	// Output: 8000 Hz, 1 channel, 100 ms
}
