package sim

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"deskphone/hal"
	"deskphone/hal/wav"
)

func newBoard(t *testing.T, opts Options) *Board {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	notWAV := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notWAV, []byte("hello, this is not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.wav")
	w, err := wav.Create(empty, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()

	cases := []struct {
		opts Options
		want []string
	}{
		{Options{Input: "tone:x"}, []string{`"tone:x"`, "tone:HZ"}},
		{Options{Input: "tone:"}, []string{`"tone:"`, "positive"}},
		{Options{Input: "tone:-50"}, []string{`"tone:-50"`, "positive"}},
		{Options{Input: "tone:NaN"}, []string{`"tone:NaN"`}},
		{Options{Input: filepath.Join(dir, "missing.wav")}, []string{"missing.wav", "no such file", "tone:HZ"}},
		{Options{Input: notWAV}, []string{"notes.txt", "not a WAV"}},
		{Options{Input: empty}, []string{"empty.wav", "no samples"}},
		{Options{Rows: -1}, []string{"-1x20", "positive"}},
		{Options{ExtraKeys: []string{"hold", ""}}, []string{"empty key name"}},
	}
	for _, c := range cases {
		_, err := New(c.opts)
		if err == nil {
			t.Errorf("New(%+v) succeeded", c.opts)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%+v) error %q does not mention %q", c.opts, err, w)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	b := newBoard(t, Options{ExtraKeys: []string{"hold", "ready"}})
	want := []hal.Key{"1", "0", "*", "#", "9", hal.KeyCall, hal.KeyEnd, hal.KeyMute, "hold", "ready"}
	for _, k := range want {
		if err := b.Press(k); err != nil {
			t.Fatalf("Press(%q): %v", k, err)
		}
	}
	for i, w := range want {
		if got := <-b.Presses(); got != w {
			t.Fatalf("press %d = %q, want %q", i, got, w)
		}
	}

	err := b.Press("A")
	if err == nil {
		t.Fatal(`Press("A") succeeded`)
	}
	for _, w := range []string{`"A"`, "0-9", "call", "end", "mute", "hold", "ready"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("unknown-key error %q does not list %q", err, w)
		}
	}
}

func TestPressNeverBlocks(t *testing.T) {
	b := newBoard(t, Options{})
	for i := range keyQueue {
		if err := b.Press("5"); err != nil {
			t.Fatalf("press %d: %v", i, err)
		}
	}
	if err := b.Press("5"); err == nil || !strings.Contains(err.Error(), "Presses()") {
		t.Fatalf("Press on a full queue = %v, want an error about nothing reading Presses()", err)
	}
	<-b.Presses()
	if err := b.Press("6"); err != nil {
		t.Fatalf("Press after one was read: %v", err)
	}
}

func TestDisplay(t *testing.T) {
	b := newBoard(t, Options{Rows: 2, Cols: 5})
	if r, c := b.Size(); r != 2 || c != 5 {
		t.Fatalf("Size() = %d, %d, want 2, 5", r, c)
	}
	if err := b.Show([]string{"123456789"}); err != nil {
		t.Fatal(err)
	}
	if got := b.Panel().Display; !slices.Equal(got, []string{"12345", ""}) {
		t.Errorf("display %q, want [12345 \"\"]", got)
	}
	// Width is in characters, not bytes; extra lines are dropped.
	if err := b.Show([]string{"àéîõüxyz", "ok", "dropped"}); err != nil {
		t.Fatal(err)
	}
	p := b.Panel()
	if !slices.Equal(p.Display, []string{"àéîõü", "ok"}) {
		t.Errorf("display %q, want [àéîõü ok]", p.Display)
	}
	p.Display[0] = "mutated" // a snapshot: changing it changes nothing
	if got := b.Panel().Display[0]; got != "àéîõü" {
		t.Errorf("Panel shares its slice: line 0 became %q", got)
	}

	d := newBoard(t, Options{})
	if r, c := d.Size(); r != 4 || c != 20 {
		t.Errorf("default Size() = %d, %d, want 4, 20", r, c)
	}
	if got := d.Panel().Display; len(got) != 4 {
		t.Errorf("default display has %d lines, want 4", len(got))
	}
}

func TestLEDsAndHook(t *testing.T) {
	b := newBoard(t, Options{})
	p := b.Panel()
	for _, name := range []string{hal.LEDLine, hal.LEDMute, hal.LEDReg} {
		if p.LEDs[name] != "off" {
			t.Errorf("LED %s starts %q, want off", name, p.LEDs[name])
		}
	}
	if p.OffHook || b.OffHook() {
		t.Error("board starts off hook")
	}
	if err := b.SetLED(hal.LEDLine, hal.LEDFastBlink); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLED(hal.LEDReg, hal.LEDOn); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLED("voicemail", hal.LEDBlink); err != nil {
		t.Fatal(err)
	}
	b.SetHook(true)
	p = b.Panel()
	want := map[string]string{"line": "fast-blink", "registered": "on", "mute": "off", "voicemail": "blink"}
	for name, s := range want {
		if p.LEDs[name] != s {
			t.Errorf("LED %s = %q, want %q", name, p.LEDs[name], s)
		}
	}
	if !p.OffHook || !b.OffHook() {
		t.Error("SetHook(true) did not lift the handset")
	}

	b.SetHook(true) // no change: no event
	b.SetHook(false)
	for _, w := range []bool{true, false} {
		if got := <-b.Changes(); got != w {
			t.Fatalf("hook change %v, want %v", got, w)
		}
	}
	select {
	case v := <-b.Changes():
		t.Fatalf("extra hook change %v after setting the same state twice", v)
	default:
	}
}

func TestHookChangesKeepLatest(t *testing.T) {
	b := newBoard(t, Options{})
	for range 3 * hookQueue { // nobody reads
		b.SetHook(!b.OffHook())
	}
	b.SetHook(true)
	var last bool
	for range len(b.Changes()) {
		last = <-b.Changes()
	}
	if !last {
		t.Error("after an overflow the last queued hook change is not the current state")
	}
}

func TestWatch(t *testing.T) {
	b := newBoard(t, Options{})
	ch, stop := b.Watch()
	pending := func() bool {
		select {
		case _, ok := <-ch:
			return ok
		default:
			return false
		}
	}
	if pending() {
		t.Fatal("notification before any change")
	}
	if err := b.Show([]string{"hello"}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLED(hal.LEDMute, hal.LEDOn); err != nil {
		t.Fatal(err)
	}
	b.SetHook(true)
	if !pending() {
		t.Fatal("no notification after changes")
	}
	if pending() {
		t.Fatal("three changes gave more than one pending notification")
	}
	if err := b.Show([]string{"hello"}); err != nil { // same screen
		t.Fatal(err)
	}
	if err := b.SetLED(hal.LEDMute, hal.LEDOn); err != nil {
		t.Fatal(err)
	}
	b.SetHook(true)
	if err := b.Press("1"); err != nil { // keys are not panel state
		t.Fatal(err)
	}
	if pending() {
		t.Fatal("notification without a change")
	}
	for _, change := range []func() error{
		func() error { return b.Show([]string{"bye"}) },
		func() error { return b.SetLED(hal.LEDLine, hal.LEDBlink) },
		func() error { b.SetHook(false); return nil },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if !pending() {
			t.Fatal("a change did not notify")
		}
	}

	stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed by stop")
	}
	stop() // twice is harmless

	ch2, _ := b.Watch()
	b.Close()
	if _, ok := <-ch2; ok {
		t.Fatal("watch channel not closed by Close")
	}
	ch3, _ := b.Watch()
	if _, ok := <-ch3; ok {
		t.Fatal("Watch after Close returned an open channel")
	}
}

func TestClose(t *testing.T) {
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Press("1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if k := <-b.Presses(); k != "1" {
		t.Errorf("queued press lost on Close: got %q", k)
	}
	if _, ok := <-b.Presses(); ok {
		t.Error("Presses not closed")
	}
	if _, ok := <-b.Changes(); ok {
		t.Error("Changes not closed")
	}
	if err := b.Press("1"); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Press after Close = %v", err)
	}
	if err := b.Show(nil); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("Show after Close = %v", err)
	}
	if err := b.SetLED(hal.LEDLine, hal.LEDOn); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("SetLED after Close = %v", err)
	}
	b.SetHook(true) // must not panic on the closed channel
	if _, err := b.OpenCapture(8000, 160); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("OpenCapture after Close = %v", err)
	}
	if _, err := b.OpenPlayback(8000, 160); !errors.Is(err, hal.ErrClosed) {
		t.Errorf("OpenPlayback after Close = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if b.Name() != "sim" {
		t.Errorf("Name() = %q", b.Name())
	}
}
