package boards_test

import (
	"fmt"
	"log"

	"deskphone/boards"
)

// A profile says which driver runs each part and where it is wired.
func Example() {
	p, err := boards.Load("rpi4")
	if err != nil {
		log.Fatal(err)
	}
	d := p.Display
	fmt.Printf("display: %s on I2C bus %s at %s, %dx%d\n", d.Driver, d.Bus, d.Address, d.Rows, d.Cols)
	fmt.Printf("keypad: %s, %d rows, transfer key on %s\n", p.Keypad.Driver, len(p.Keypad.Rows), p.Keypad.Buttons["transfer"])
	fmt.Printf("hook on %s; handset audio %s\n", p.Hook.Pin, p.Audio.Routes["handset"].Capture)
	// Output:
	// display: hd44780-pcf8574 on I2C bus 1 at 0x27, 4x20
	// keypad: gpio, 4 rows, transfer key on GPIO17
	// hook on GPIO4; handset audio plughw:CARD=Device,DEV=0
}

// A profile with a wiring mistake is refused at load, naming the line,
// the part and the pin.
func ExampleParse() {
	_, err := boards.Parse("desk", []byte(`name: desk
description: a prototype on a Pi
pins: rpi
keypad:
  driver: gpio
  rows: [GPIO5, GPIO6, GPIO13, GPIO19]
  cols: [GPIO12, GPIO16, GPIO20]
  layout: [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["*", "0", "#"]]
  buttons: {call: GPIO17, end: GPIO27, mute: GPIO22}
leds:
  driver: gpio
  leds: {line: {pin: GPIO23}, mute: {pin: GPIO24}, registered: {pin: GPIO25}}
display: {driver: ssd1306, bus: "1", address: 0x3c}
hook: {driver: gpio, pin: GPIO17}
audio: {driver: alsa, routes: {handset: {capture: default, playback: default}}}
`))
	fmt.Println(err)
	// Output:
	// boards: desk.yaml:14: hook.pin: pin GPIO17 is used twice: by keypad.buttons.call (line 9) and by hook.pin; give each its own pin
}
