package boards

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"deskphone/hal"
)

// device is a fake part: every kind at once, like the sim board, and it
// records what happens to it.
type device struct {
	name   string
	log    *[]string
	mu     sync.Mutex
	leds   map[string]hal.LEDState
	screen []string
}

func (d *device) Presses() <-chan hal.Key { return nil }
func (d *device) SetLED(n string, s hal.LEDState) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.leds[n] = s
	return nil
}
func (d *device) Size() (int, int) { return 2, 16 }
func (d *device) Show(l []string) error {
	d.screen = l
	return nil
}
func (d *device) OffHook() bool                               { return true }
func (d *device) Changes() <-chan bool                        { return nil }
func (d *device) OpenCapture(int, int) (hal.Capture, error)   { return nil, errors.New("none") }
func (d *device) OpenPlayback(int, int) (hal.Playback, error) { return nil, errors.New("none") }
func (d *device) Close() error                                { *d.log = append(*d.log, "close "+d.name); return nil }
func (d *device) Press(string) error                          { return nil }
func (d *device) Snapshot() any                               { return d.screen }

var (
	testLog    []string
	failDisp   error // what the "test" display driver returns
	openShared int
)

// shared is the "test" drivers' one device, opened on first use.
func shared(env *Env) (*device, error) {
	v, err := env.Shared("test", func() (any, error) {
		openShared++
		d := &device{name: "shared", log: &testLog, leds: map[string]hal.LEDState{}}
		env.SetPanel(d)
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*device), nil
}

func init() {
	RegisterKeypad("test", func(env *Env, _ *KeypadPart) (hal.Keypad, error) { return shared(env) })
	RegisterLEDs("test", func(env *Env, _ *LEDsPart) (hal.LEDs, error) { return shared(env) })
	RegisterDisplay("test", func(_ *Env, _ *DisplayPart) (hal.Display, error) {
		if failDisp != nil {
			return nil, failDisp
		}
		return &device{name: "display", log: &testLog}, nil
	})
	RegisterHook("test", func(env *Env, _ *HookPart) (hal.Hook, error) { return shared(env) })
	RegisterAudio("test", func(env *Env, _ *AudioPart) (hal.Audio, error) { return shared(env) })
}

func testProfile() *Profile {
	p := &Profile{Name: "t"}
	p.Keypad.Driver, p.LEDs.Driver, p.Display.Driver, p.Hook.Driver, p.Audio.Driver = "test", "test", "test", "test", "test"
	p.Display.Rows, p.Display.Cols, p.Display.Bus, p.Display.Address = 4, 20, "1", Addr{Value: 0x27, Set: true}
	return p
}

// One device serving four parts is opened once and closed once, after the
// parts of its own; the driver that can read the panel back provides it.
func TestOpenAndClose(t *testing.T) {
	testLog, failDisp, openShared = nil, nil, 0
	env := &Env{Profile: testProfile()}
	env.OnClose(func() error { testLog = append(testLog, "on close"); return nil })
	b, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	if openShared != 1 {
		t.Errorf("the shared device was opened %d times, want once", openShared)
	}
	if r, c := b.Size(); r != 2 || c != 16 || b.Name() != "t" || !b.OffHook() {
		t.Errorf("Size %dx%d, Name %q, OffHook %v: not the parts'", r, c, b.Name(), b.OffHook())
	}
	if b.Panel() == nil || b.Panel().Press("5") != nil {
		t.Error("the driver's panel is not the board's")
	}
	if err := b.SetLEDColor(hal.LEDStatus, hal.Red, hal.LEDBlink); err != nil {
		t.Fatal(err)
	}
	if d, _ := shared(env); d.leds[hal.LEDStatus] != hal.LEDBlink {
		t.Errorf("SetLEDColor on LEDs without colours: %v, want the state set", d.leds)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"close shared", "close display", "on close"}; !slices.Equal(testLog, want) {
		t.Errorf("closed %v, want %v", testLog, want)
	}
	testLog = nil
	if err := b.Close(); err != nil || len(testLog) != 0 {
		t.Errorf("a second Close: %v, closed %v again", err, testLog)
	}
}

// A display driver saying its device is absent: a warning naming the bus
// and address, and a stand-in of the profile's size. Any other failure
// fails the board, closing what was opened.
func TestDisplayFails(t *testing.T) {
	testLog, openShared = nil, 0
	var logs bytes.Buffer
	failDisp = Absent(errors.New("hd44780: no display at I2C address 0x27: remote I/O error"))
	defer func() { failDisp = nil }()
	b, err := Open(&Env{Profile: testProfile(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	want := "display absent at I2C 1 0x27: hd44780: no display at I2C address 0x27: remote I/O error"
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nwant a warning %q", logs.String(), want)
	}
	if r, c := b.Size(); r != 4 || c != 20 || b.Show([]string{"x"}) != nil {
		t.Errorf("stand-in display %dx%d, want the profile's 4x20", r, c)
	}
	_ = b.Close()

	testLog = nil
	failDisp = errors.New("pin GPIO9 is not on this machine")
	_, err = Open(&Env{Profile: testProfile()})
	if err == nil || err.Error() != "board t: display (test): pin GPIO9 is not on this machine" {
		t.Errorf("Open with a failing display: %v", err)
	}
	if !slices.Equal(testLog, []string{"close shared"}) {
		t.Errorf("after the failure, closed %v; want the keypad/LEDs device", testLog)
	}
}

func TestUnregisteredDriver(t *testing.T) {
	p := testProfile()
	p.Hook.Driver = "gpio"
	_, err := Open(&Env{Profile: p})
	if err == nil || !strings.Contains(err.Error(), `board t: hook (gpio): hook driver "gpio" is not in this build (it has: test); the firmware's drivers.go registers the drivers it ships`) {
		t.Errorf("Open: %v", err)
	}
}

// A real board whose sound driver is not in this build still opens: a
// warning, and opening the devices fails with the reason (the phone reports
// it per call and the call goes on without sound).
func TestAudioDriverNotInBuild(t *testing.T) {
	testLog, openShared = nil, 0
	var logs bytes.Buffer
	p := testProfile()
	p.Audio.Driver = "alsa"
	b, err := Open(&Env{Profile: p, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), `audio driver \"alsa\" is not in this build`) {
		t.Errorf("log:\n%s\nwant a warning naming the missing audio driver", logs.String())
	}
	if _, err := b.OpenCapture(8000, 160); err == nil || !strings.Contains(err.Error(), `no microphone: audio driver "alsa" is not in this build`) {
		t.Errorf("OpenCapture: %v", err)
	}
	if _, err := b.OpenPlayback(8000, 160); err == nil || !strings.Contains(err.Error(), "no speaker") {
		t.Errorf("OpenPlayback: %v", err)
	}
}

// Sound is the audio part itself: a driver's routes reach the phone.
func TestSound(t *testing.T) {
	testLog, failDisp, openShared = nil, nil, 0
	env := &Env{Profile: testProfile()}
	b, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if d, _ := shared(env); b.Sound() != hal.Audio(d) {
		t.Errorf("Sound() = %v, want the audio part %v", b.Sound(), d)
	}
}
