package periphparts

import (
	"deskphone/boards"
	"deskphone/hal"
	"deskphone/hal/hd44780"
	"deskphone/hal/ssd1306"
)

func init() {
	boards.RegisterDisplay("hd44780", openHD44780GPIO)
	boards.RegisterDisplay("hd44780-pcf8574", openHD44780PCF8574)
	boards.RegisterDisplay("ssd1306", openSSD1306)
}

func openHD44780GPIO(env *boards.Env, p *boards.DisplayPart) (hal.Display, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	all := append([]boards.Pin{p.Pins.RS, p.Pins.E}, p.Pins.D...)
	ps, err := pins(h, all)
	if err != nil {
		return nil, err
	}
	wiring := hd44780.GPIOPins{RS: ps[0], E: ps[1], D4: ps[2], D5: ps[3], D6: ps[4], D7: ps[5]}
	if p.Pins.BL.Name != "" {
		if wiring.Backlight, err = h.Pin(p.Pins.BL.Name); err != nil {
			return nil, err
		}
	}
	// On GPIO nothing answers back: an LCD that is not there cannot be told.
	return hd44780.NewGPIO(wiring, p.Rows, p.Cols, nil)
}

// On I2C a display that does not answer is boards.ErrAbsent: the board
// then works on without it. The profile's address and size were checked at
// load, so what fails here is the device.
func openHD44780PCF8574(env *boards.Env, p *boards.DisplayPart) (hal.Display, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	bus, err := h.Bus(p.Bus)
	if err != nil {
		return nil, err
	}
	d, err := hd44780.NewPCF8574(bus, uint16(p.Address.Value), p.Rows, p.Cols, nil) //nolint:gosec // G115: boards.Check keeps addresses in 0x08-0x77
	if err != nil {
		return nil, boards.Absent(err)
	}
	return d, nil
}

func openSSD1306(env *boards.Env, p *boards.DisplayPart) (hal.Display, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	bus, err := h.Bus(p.Bus)
	if err != nil {
		return nil, err
	}
	d, err := ssd1306.NewI2C(bus, uint16(p.Address.Value), nil) //nolint:gosec // G115: boards.Check keeps addresses in 0x08-0x77
	if err != nil {
		return nil, boards.Absent(err)
	}
	return d, nil
}
