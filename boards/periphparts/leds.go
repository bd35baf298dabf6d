package periphparts

import (
	"deskphone/boards"
	"deskphone/hal"
	"deskphone/hal/gpioled"
	"deskphone/hal/hook"
)

func init() {
	boards.RegisterLEDs("gpio", openLEDs)
	boards.RegisterHook("gpio", openHook)
}

func openLEDs(env *boards.Env, p *boards.LEDsPart) (hal.LEDs, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	specs := make(map[string]gpioled.Spec, len(p.LEDs))
	for name, l := range p.LEDs {
		s := gpioled.Spec{ActiveLow: l.ActiveLow}
		if !l.RGB() {
			if s.Pin, err = h.Pin(l.Pin.Name); err != nil {
				return nil, err
			}
			specs[name] = s
			continue
		}
		rgb, err := pins(h, []boards.Pin{l.Red, l.Green, l.Blue})
		if err != nil {
			return nil, err
		}
		s.R, s.G, s.B = rgb[0], rgb[1], rgb[2]
		specs[name] = s
	}
	return gpioled.New(specs, nil)
}

func openHook(env *boards.Env, p *boards.HookPart) (hal.Hook, error) {
	h, err := hostOf(env)
	if err != nil {
		return nil, err
	}
	pin, err := h.Pin(p.Pin.Name)
	if err != nil {
		return nil, err
	}
	return hook.New(pin, &hook.Opts{Invert: p.Invert})
}
