//go:build cgo

package main

// The ALSA driver end to end, without a sound card: the pc board (the sim
// panel with ALSA sound on "default") and an ALSA configuration of the
// test's own (ALSA_CONFIG_PATH) that makes "default" a pair of raw files
// through alsa-lib's file plugin, or leaves it undefined (a missing device).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"deskphone/config"
	"deskphone/phone"
	"deskphone/phone/event"
	"deskphone/phone/media"
)

// alsaConfig points alsa-lib at a configuration of the test's own.
func alsaConfig(t *testing.T, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "asound.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALSA_CONFIG_PATH", path)
}

// The pc board opens with the alsa driver from its profile: the phone gets
// its routes, and a missing device is a start-up warning naming it, not a
// boot failure. (No lab needed.)
func TestOpenPCBoard(t *testing.T) {
	alsaConfig(t, "pcm.other { type null }\n")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := config.Default()
	cfg.Board = "pc"
	b, _, simp, err := openBoard(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if simp == nil {
		t.Error("the pc board has no sim panel")
	}
	rt, ok := b.Sound().(phone.AudioRouter)
	if !ok {
		t.Fatalf("the pc board's sound %T has no routes", b.Sound())
	}
	if got := rt.AudioRoutes(); !slices.Equal(got, []string{"handset", "headset", "speaker"}) {
		t.Errorf("routes %v, want the profile's handset, headset, speaker", got)
	}
	for _, want := range []string{`capture device \"default\" (handset route): open: No such file or directory (Unknown PCM default) (SDK code -1302)`,
		`playback device \"default\" (handset route): open: No such file or directory (Unknown PCM default) (SDK code -1321)`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log:\n%s\nwant a warning with %s", logs.String(), want)
		}
	}
}

// A board whose sound device is missing still boots and registers; a call
// reports onError -1302 and -1321 naming the device and ALSA's reason, goes
// on, and the phone calls again afterwards.
func TestALSAMissingDevice(t *testing.T) {
	kam := kamailio(t)
	farEnd(t, kam, "1002", "auto", 440)
	alsaConfig(t, "# no PCM named default here: the pc board's device is missing\npcm.other { type null }\n")
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Board = "pc"
	u := startPhone(t, cfg)
	u.registered()

	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id, _ := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	for _, want := range []struct {
		code  int
		words string
	}{{phone.ErrMicStartFail, `microphone failed to start: alsa: capture device "default" (handset route)`},
		{phone.ErrSpeakerStartFail, `speaker failed to start: alsa: playback device "default" (handset route)`}} {
		e := u.waitEvent(event.Error, 10*time.Second, func(d any) bool {
			return field(d, "errCode") == float64(want.code)
		})
		if msg, _ := field(e.Data, "errMsg").(string); !strings.Contains(msg, want.words) || !strings.Contains(msg, "Unknown PCM default") {
			t.Errorf("onError %d says %q: want it to name the device (%s) and ALSA's reason", want.code, msg, want.words)
		}
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	// Once per device and call, though the call opens them more than once
	// (its route is set again when it is answered).
	errs := 0
	for _, e := range u.eventsSince(0) {
		if e.Name == event.Error {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("%d onError events for one call with both devices missing, want 2:\n%s", errs, u.eventLog())
	}

	// The phone goes on: another call is set up and ended.
	out = u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id, _ = out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
}

// A call carries sound both ways through alsa-lib: the phone captures a
// 1 kHz tone from a raw file (the file plugin's infile) and baresip hears
// it; baresip's 440 Hz is played into another raw file.
func TestALSAFileCall(t *testing.T) {
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	dir := t.TempDir()
	mic, spk := filepath.Join(dir, "mic.raw"), filepath.Join(dir, "speaker.raw")
	writeRawTone(t, mic, 8000, 1000, 30*time.Second)
	alsaConfig(t, fmt.Sprintf(`pcm.!default {
	type asym
	capture.pcm { type file; slave.pcm { type null }; file "/dev/null"; infile %q; format raw }
	playback.pcm { type file; slave.pcm { type null }; file %q; format raw }
}
`, mic, spk))
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	cfg.Board = "pc"
	u := startPhone(t, cfg)
	u.registered()

	out := u.must("POST", "/v1/call", map[string]string{"to": "1002"})
	id, _ := out["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	// Until the speaker's file holds 2 s of sound (the device paces it).
	waitFor(t, 20*time.Second, func() bool { st, err := os.Stat(spk); return err == nil && st.Size() > 2*2*8000 },
		func() string { return "the speaker's file never reached 2 s of audio" })
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)
	u.mu.Lock()
	for _, e := range u.events {
		if e.Name == event.Error {
			t.Errorf("onError during the call: %v", e.Data)
		}
	}
	u.mu.Unlock()

	// The median over 100 ms windows: a late packet's gap breaks the tone's
	// phase, which a level over the whole file would count against it.
	heard := readRawFile(t, spk)
	lv440, lv1k := windowLevel(heard[8000/2:], 440), windowLevel(heard[8000/2:], 1000)
	t.Logf("the phone played (%d samples): 440 Hz level %.3f, 1000 Hz %.3f (medians of 100 ms)", len(heard), lv440, lv1k)
	if lv440 < 0.05 || lv440 < 5*lv1k {
		t.Errorf("the speaker's file does not carry baresip's 440 Hz (440: %.3f, 1000: %.3f)", lv440, lv1k)
	}
	var recs []string
	waitFor(t, 10*time.Second, func() bool { recs, _ = far.Recordings(); return len(recs) > 0 },
		func() string { return "baresip wrote no recording" })
	lv := toneIn(t, recs[len(recs)-1], 1000, 440)
	t.Logf("baresip heard: 1000 Hz level %.3f, 440 Hz %.3f", lv[0], lv[1])
	if lv[0] < 0.05 || lv[0] < 5*lv[1] {
		t.Errorf("baresip did not hear the 1 kHz captured through ALSA (1000: %.3f, 440: %.3f)", lv[0], lv[1])
	}
}

// windowLevel is the median level of freq in 100 ms windows of 8 kHz audio.
func windowLevel(s []int16, freq float64) float64 {
	var lv []float64
	for ; len(s) >= 800; s = s[800:] {
		lv = append(lv, media.ToneLevel(s[:800], 8000, freq))
	}
	if len(lv) == 0 {
		return 0
	}
	slices.Sort(lv)
	return lv[len(lv)/2]
}

func writeRawTone(t *testing.T, path string, rate int, freq float64, d time.Duration) {
	t.Helper()
	n := int(d.Seconds() * float64(rate))
	b := make([]byte, 2*n)
	for i := range n {
		v := int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readRawFile(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}
