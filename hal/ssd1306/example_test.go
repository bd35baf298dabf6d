package ssd1306_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"deskphone/hal"
	"deskphone/hal/ssd1306"
)

// A 128×64 OLED as an 8×21 text screen. On a board the bus comes from
// i2creg.Open("1") after host.Init(); here a recorder stands in for it.
func ExampleNewI2C() {
	bus := &i2ctest.Record{}
	oled, err := ssd1306.NewI2C(bus, 0x3C, nil)
	if err != nil {
		log.Fatal(err) // e.g. ssd1306: no display at I2C address 0x3C: …
	}
	var d hal.Display = oled
	if err := d.Show([]string{"1001      Registered", "Free", "", "12:04"}); err != nil {
		log.Fatal(err)
	}
	rows, cols := d.Size()
	fmt.Println(oled, rows, cols)
	// Output: SSD1306 128×64 (8×21 text) at I2C address 0x3C 8 21
}
