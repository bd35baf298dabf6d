package periphparts_test

import (
	"errors"
	"fmt"
	"log"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"deskphone/boards"
	"deskphone/boards/periphparts"
	"deskphone/hal"
)

// bench is a test bench's wiring: gpiotest pins and an I2C bus that records.
type bench struct{ bus *i2ctest.Record }

func (b bench) Pin(name string) (gpio.PinIO, error) { return &gpiotest.Pin{N: name, L: gpio.High}, nil }
func (b bench) Bus(string) (i2c.Bus, error)         { return b.bus, nil }

// silent is an audio part for the example: this package has no ALSA driver.
type silent struct{}

func (silent) OpenCapture(int, int) (hal.Capture, error)   { return nil, errors.New("no audio") }
func (silent) OpenPlayback(int, int) (hal.Playback, error) { return nil, errors.New("no audio") }

// A Pi 5 profile's parts, opened on a test bench instead of the machine's
// pins: the SSD1306 answers on the recording bus and the board shows text.
func Example() {
	boards.RegisterAudio("silent", func(*boards.Env, *boards.AudioPart) (hal.Audio, error) { return silent{}, nil })
	p, err := boards.Load("rpi5")
	if err != nil {
		log.Fatal(err)
	}
	p.Audio.Driver = "silent"
	p.Keypad.Driver = "gpio" // the MCP23017 would need a bus that answers reads
	p.Keypad.Rows = []boards.Pin{{Name: "GPIO5"}, {Name: "GPIO6"}, {Name: "GPIO13"}, {Name: "GPIO19"}}
	p.Keypad.Cols = []boards.Pin{{Name: "GPIO12"}, {Name: "GPIO16"}, {Name: "GPIO20"}, {Name: "GPIO21"}, {Name: "GPIO26"}}

	env := &boards.Env{Profile: p}
	rec := &i2ctest.Record{}
	periphparts.Use(env, bench{bus: rec})
	b, err := boards.Open(env)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	rows, cols := b.Size()
	fmt.Printf("%s: %dx%d display, first I2C write to 0x%02x\n", b.Name(), rows, cols, rec.Ops[0].Addr)
	if err := b.Show([]string{"1001  Registered"}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// rpi5: 8x21 display, first I2C write to 0x3c
}
