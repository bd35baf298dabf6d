//go:build cgo

package alsa_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"deskphone/hal/alsa"
)

// A board's routes as its profile names them; a call opens the current
// route's devices at the codec's rate, and a device that is not there is
// an error with the SDK's code and the device's name.
func Example() {
	audio, err := alsa.New(alsa.Config{
		Routes: map[string]alsa.Route{
			"handset": {Capture: "plughw:CARD=NoSuchCard,DEV=0", Playback: "plughw:CARD=NoSuchCard,DEV=0"},
			"speaker": {Capture: "plughw:CARD=NoSuchCard,DEV=0", Playback: "hw:CARD=NoSuchJack", Rate: 48000},
		},
		Period: 5 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer audio.Close()

	if err := audio.SetAudioRoute("speaker"); err != nil {
		log.Fatal(err)
	}
	_, err = audio.OpenPlayback(8000, 160) // 20 ms frames of G.711
	var e *alsa.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Stream, e.Device, e.Route)
	}
	// Output: -1321 playback hw:CARD=NoSuchJack speaker
}
