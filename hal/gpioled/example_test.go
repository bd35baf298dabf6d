package gpioled_test

import (
	"log"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"deskphone/hal"
	"deskphone/hal/gpioled"
)

// A Raspberry Pi's LEDs (after periph's host.Init): the line LED dimmed by
// PWM on GPIO18, the mute LED on GPIO23, and the agent-status RGB LED
// (common anode, so active low) on GPIO17, 27 and 22.
func ExampleNew() {
	leds, err := gpioled.New(map[string]gpioled.Spec{
		hal.LEDLine:   {Pin: gpioreg.ByName("GPIO18"), Brightness: gpio.DutyMax / 2},
		hal.LEDMute:   {Pin: gpioreg.ByName("GPIO23")},
		hal.LEDStatus: {R: gpioreg.ByName("GPIO17"), G: gpioreg.ByName("GPIO27"), B: gpioreg.ByName("GPIO22"), ActiveLow: true},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer leds.Close()
	_ = leds.SetLED(hal.LEDLine, hal.LEDFastBlink)               // ringing
	_ = leds.SetLEDColor(hal.LEDStatus, hal.Amber, hal.LEDBlink) // after-call work
	_ = leds.SetLED(hal.LEDReg, hal.LEDOn)                       // not on this board: ignored
}
