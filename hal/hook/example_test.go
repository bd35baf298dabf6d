package hook_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/gpio/gpioreg"

	"deskphone/hal/hook"
)

// The hook switch on a Raspberry Pi's GPIO26 (after periph's host.Init),
// closed to ground while the handset is on its cradle: hence Invert.
func ExampleNew() {
	h, err := hook.New(gpioreg.ByName("GPIO26"), &hook.Opts{Invert: true})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	fmt.Println("off hook:", h.OffHook())
	for off := range h.Changes() {
		fmt.Println("off hook:", off)
	}
}
