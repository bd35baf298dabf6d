package hd44780_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"deskphone/hal"
	"deskphone/hal/hd44780"
)

// A 20×4 LCD behind a PCF8574 backpack. On a board the bus comes from
// i2creg.Open("1") after host.Init(); here a recorder stands in for it.
func ExampleNewPCF8574() {
	bus := &i2ctest.Record{}
	lcd, err := hd44780.NewPCF8574(bus, 0x27, 4, 20, nil)
	if err != nil {
		log.Fatal(err) // e.g. hd44780: no display at I2C address 0x27: …
	}
	var d hal.Display = lcd
	if err := d.Show([]string{"1001  Registered", "Free"}); err != nil {
		log.Fatal(err)
	}
	rows, cols := d.Size()
	fmt.Println(lcd, rows, cols)
	// Output: HD44780 4×20 on PCF8574 backpack at I2C address 0x27 4 20
}
