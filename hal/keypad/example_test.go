package keypad_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"

	"deskphone/hal"
	"deskphone/hal/keypad"
)

var layout = [][]hal.Key{
	{"1", "2", "3"},
	{"4", "5", "6"},
	{"7", "8", "9"},
	{"*", "0", "#"},
}

// A 4×3 keypad on a Raspberry Pi's GPIO pins (after periph's host.Init).
// A long press on 0 could dial "+"; the phone's UI only reads Presses.
func ExampleNewGPIO() {
	var rows []gpio.PinOut
	for _, n := range []string{"GPIO5", "GPIO6", "GPIO13", "GPIO19"} {
		rows = append(rows, gpioreg.ByName(n))
	}
	var cols []gpio.PinIn
	for _, n := range []string{"GPIO12", "GPIO16", "GPIO20"} {
		cols = append(cols, gpioreg.ByName(n))
	}
	kp, err := keypad.NewGPIO(rows, cols, layout, nil) // defaults: 20 ms debounce, 800 ms long press
	if err != nil {
		log.Fatal(err)
	}
	defer kp.Close()
	for e := range kp.Events() {
		if e.Key == "0" && e.Kind == keypad.Long {
			fmt.Println("+")
		}
	}
}

// The same keypad behind a PCF8574 at 0x20: rows on P0-P3, columns on
// P4-P6.
func ExampleNewPCF8574() {
	bus, err := i2creg.Open("") // the first I2C bus
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	kp, err := keypad.NewPCF8574(bus, 0x20, []int{0, 1, 2, 3}, []int{4, 5, 6}, layout, nil)
	if err != nil {
		log.Fatal(err) // e.g. keypad: PCF8574 at I2C address 0x20 does not answer (…)
	}
	defer kp.Close()
	for k := range kp.Presses() {
		fmt.Println(k)
	}
}

// Function keys on their own pins, to ground.
func ExampleNewButtons() {
	kp, err := keypad.NewButtons(map[hal.Key]gpio.PinIn{
		hal.KeyHold:     gpioreg.ByName("GPIO17"),
		hal.KeyTransfer: gpioreg.ByName("GPIO27"),
		hal.KeyFree:     gpioreg.ByName("GPIO22"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer kp.Close()
	for k := range kp.Presses() {
		fmt.Println(k)
	}
}
