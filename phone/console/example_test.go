package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"deskphone/hal"
	"deskphone/phone"
	"deskphone/phone/console"
	"deskphone/phone/event"
)

type examplePhone struct{ bus *event.Bus }

func (p examplePhone) State() phone.State            { return phone.State{Extension: "1001"} }
func (p examplePhone) AgentStatus() phone.AgentState { return phone.AgentState{} }
func (p examplePhone) Bus() *event.Bus               { return p.bus }

type examplePanel struct{ keys []hal.Key }

func (p *examplePanel) Press(k hal.Key) error { p.keys = append(p.keys, k); return nil }
func (p *examplePanel) SetHook(bool) error    { return nil }
func (p *examplePanel) Screen() []string      { return []string{"1001 Registered", "Free"} }
func (p *examplePanel) LEDs() []console.LED {
	return []console.LED{{Name: "registered", State: hal.LEDOn}}
}

// A session over any io.ReadWriter: here commands from a string, answers
// into a buffer (a serial port in the firmware).
func Example() {
	panel := &examplePanel{}
	srv := console.New(examplePhone{event.NewBus()}, panel, nil)
	var out bytes.Buffer
	in := strings.NewReader("press 1 0 0 2 call\rdisplay\rleds\rhook sideways\r")
	_ = srv.Serve(context.Background(), struct {
		io.Reader
		io.Writer
	}{in, &out})
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	fmt.Println("pressed:", panel.keys)
	// Output:
	// ok
	// display "1001 Registered"
	// display "Free"
	// ok
	// leds registered=on
	// ok
	// err usage: hook off (lift the handset) or hook on (replace it)
	// pressed: [1 0 0 2 call]
}
