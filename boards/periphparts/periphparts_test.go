package periphparts

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"deskphone/boards"
	"deskphone/hal"
)

// fakeHost hands out gpiotest pins (made on first use) and the given buses.
type fakeHost struct {
	mu    sync.Mutex
	pins  map[string]*gpiotest.Pin
	buses map[string]i2c.Bus
}

func newFakeHost(buses map[string]i2c.Bus) *fakeHost {
	return &fakeHost{pins: map[string]*gpiotest.Pin{}, buses: buses}
}

func (h *fakeHost) Pin(name string) (gpio.PinIO, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pins[name]
	if !ok {
		p = &gpiotest.Pin{N: name, L: gpio.High}
		h.pins[name] = p
	}
	return p, nil
}

func (h *fakeHost) Bus(name string) (i2c.Bus, error) {
	if b, ok := h.buses[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no bus %q", name)
}

// deadBus is an I2C bus where nothing answers, like a display not wired.
type deadBus struct{}

func (deadBus) String() string                  { return "dead" }
func (deadBus) Tx(uint16, []byte, []byte) error { return errors.New("remote I/O error") }
func (deadBus) SetSpeed(physic.Frequency) error { return nil }

// fakeAudio stands in for the audio part, which has no driver here.
type fakeAudio struct{}

func (fakeAudio) OpenCapture(int, int) (hal.Capture, error)   { return nil, errors.New("no audio") }
func (fakeAudio) OpenPlayback(int, int) (hal.Playback, error) { return nil, errors.New("no audio") }

func init() {
	boards.RegisterAudio("fake", func(*boards.Env, *boards.AudioPart) (hal.Audio, error) { return fakeAudio{}, nil })
}

// testProfile is rpi4 with a fake audio part.
func testProfile(t *testing.T) *boards.Profile {
	t.Helper()
	p, err := boards.Load("rpi4")
	if err != nil {
		t.Fatal(err)
	}
	p.Audio.Driver = "fake"
	return p
}

func open(t *testing.T, p *boards.Profile, h Host, log *slog.Logger) *boards.Board {
	t.Helper()
	env := &boards.Env{Profile: p, Log: log}
	Use(env, h)
	b, err := boards.Open(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// The composite board: a button on a GPIO pin reaches Presses through the
// merged keypad, the LCD on the PCF8574 backpack is initialised on its
// address and takes the profile's size, the RGB status LED lights its
// green pin, and the hook pin going low is the handset lifted.
func TestBoardFromParts(t *testing.T) {
	bus := &i2ctest.Record{}
	h := newFakeHost(map[string]i2c.Bus{"1": bus})
	b := open(t, testProfile(t), h, nil)

	if r, c := b.Size(); r != 4 || c != 20 {
		t.Errorf("Size() = %dx%d, want the profile's 4x20", r, c)
	}
	if len(bus.Ops) == 0 || bus.Ops[0].Addr != 0x27 {
		t.Fatalf("the LCD was not initialised at 0x27: %+v", bus.Ops)
	}
	n := len(bus.Ops)
	if err := b.Show([]string{"Ready"}); err != nil {
		t.Fatal(err)
	}
	if len(bus.Ops) == n {
		t.Error("Show wrote nothing to the bus")
	}
	if err := b.SetLEDColor(hal.LEDStatus, hal.Green, hal.LEDOn); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLED(hal.LEDMute, hal.LEDOn); err != nil {
		t.Fatal(err)
	}
	for pin, want := range map[string]gpio.Level{"GPIO9": gpio.Low, "GPIO10": gpio.High, "GPIO11": gpio.Low, "GPIO8": gpio.High, "GPIO25": gpio.Low} {
		if p, _ := h.Pin(pin); p.Read() != want { // status red, green, blue; mute; line
			t.Errorf("LED pin %s = %v, want %v", pin, p.Read(), want)
		}
	}

	hookPin, _ := h.Pin("GPIO4")
	hp := hookPin.(*gpiotest.Pin)
	hp.Lock()
	hp.L = gpio.Low // lifted
	hp.Unlock()
	select {
	case off := <-b.Changes():
		if !off || !b.OffHook() {
			t.Errorf("hook pin low: change %v, OffHook %v; want off hook", off, b.OffHook())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no hook change within 5s of the hook pin going low")
	}

	pin, _ := h.Pin("GPIO17") // keypad.buttons.transfer
	tp := pin.(*gpiotest.Pin)
	tp.Lock()
	tp.L = gpio.Low // pressed: closed to ground
	tp.Unlock()
	select {
	case k := <-b.Presses():
		if k != "transfer" {
			t.Errorf("pressed GPIO17, got key %q, want transfer", k)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no key within 5s of pressing the transfer button")
	}
	if b.Panel() != nil {
		t.Error("a board of periph parts claims a readable panel")
	}
}

// A display that does not answer: the board opens anyway, says so in a
// warning naming the bus and address, and keeps the profile's size.
func TestDisplayAbsent(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, c := range []struct {
		profile    func(p *boards.Profile)
		want       string
		rows, cols int
	}{
		{func(*boards.Profile) {}, "display absent at I2C 1 0x27: hd44780: no display at I2C address 0x27: remote I/O error", 4, 20},
		{func(p *boards.Profile) {
			p.Display.Driver, p.Display.Address.Value, p.Display.Rows, p.Display.Cols = "ssd1306", 0x3c, 8, 21
		}, "display absent at I2C 1 0x3c: ssd1306: no display at I2C address 0x3C: remote I/O error", 8, 21},
	} {
		logs.Reset()
		p := testProfile(t)
		c.profile(p)
		b := open(t, p, newFakeHost(map[string]i2c.Bus{"1": deadBus{}}), log)
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), c.want) {
			t.Errorf("log:\n%s\nwant a warning %q", logs.String(), c.want)
		}
		if r, cols := b.Size(); r != c.rows || cols != c.cols {
			t.Errorf("absent display Size() = %dx%d, want %dx%d", r, cols, c.rows, c.cols)
		}
		if err := b.Show([]string{"Ready"}); err != nil {
			t.Errorf("Show on an absent display: %v", err)
		}
	}
}

// A part that cannot be opened is an error naming the board, part and
// driver; what was opened before it is closed.
func TestPartFails(t *testing.T) {
	p := testProfile(t)
	env := &boards.Env{Profile: p}
	Use(env, newFakeHost(nil)) // no I2C bus "1"
	_, err := boards.Open(env)
	if err == nil || !strings.Contains(err.Error(), `board rpi4: display (hd44780-pcf8574): no bus "1"`) {
		t.Errorf("Open without the display's bus: %v", err)
	}
	p.Hook.Driver = "nonesuch"
	env = &boards.Env{Profile: p}
	Use(env, newFakeHost(map[string]i2c.Bus{"1": &i2ctest.Record{}}))
	_, err = boards.Open(env)
	if err == nil || !strings.Contains(err.Error(), `board rpi4: hook (nonesuch): hook driver "nonesuch" is not in this build`) {
		t.Errorf("Open with an unregistered driver: %v", err)
	}
	// Without its sound driver (ALSA is not in this build yet) the board
	// opens and works on without sound.
	p.Hook.Driver, p.Audio.Driver = "gpio", "alsa"
	env = &boards.Env{Profile: p}
	Use(env, newFakeHost(map[string]i2c.Bus{"1": &i2ctest.Record{}}))
	b, err := boards.Open(env)
	if err != nil {
		t.Fatalf("Open without the audio driver: %v", err)
	}
	if _, err := b.OpenCapture(8000, 160); err == nil || !strings.Contains(err.Error(), `audio driver "alsa" is not in this build`) {
		t.Errorf("OpenCapture without the audio driver: %v", err)
	}
	_ = b.Close()
}

// On a machine without GPIO (a PC, CI) a real board's profile is a clear
// error, not a hang or a panic.
func TestNoGPIOHere(t *testing.T) {
	if m, err := openMachine(); err == nil {
		_ = m.Close()
		t.Skip("this machine has GPIO")
	}
	p := testProfile(t)
	_, err := boards.Open(&boards.Env{Profile: p})
	if !errors.Is(err, ErrNoGPIO) || !strings.Contains(err.Error(), "board rpi4: keypad (gpio): no GPIO on this machine: ") {
		t.Errorf("Open(rpi4) here: %v", err)
	}
}
