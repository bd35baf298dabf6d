package control_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"deskphone/hal/wav"
	"deskphone/phone"
)

func TestAudioAPI(t *testing.T) {
	h := newHarness(t, "", nil, nil)
	var vol struct{ Volume int }
	h.ok("GET", "/v1/audio/capture-volume", "", &vol)
	if vol.Volume != 100 {
		t.Errorf("capture volume %d at start, want 100", vol.Volume)
	}
	h.ok("POST", "/v1/audio/capture-volume", `{"volume":40}`, nil)
	h.ok("POST", "/v1/audio/playout-volume", `{"volume":0}`, nil)
	h.ok("GET", "/v1/audio/playout-volume", "", &vol)
	if vol.Volume != 0 {
		t.Errorf("play-out volume %d, want 0", vol.Volume)
	}
	if e := h.fails("POST", "/v1/audio/capture-volume", `{"volume":101}`, http.StatusBadRequest, 400); !strings.Contains(e.Message, "0 (silent) to 100") {
		t.Errorf("volume 101: %q, want the range", e.Message)
	}
	if e := h.fails("POST", "/v1/audio/playout-volume", `{}`, http.StatusBadRequest, 400); !strings.Contains(e.Message, "volume") {
		t.Errorf("no volume: %q, want to be told to give one", e.Message)
	}
	h.ok("POST", "/v1/audio/route", `{"route":"Speakerphone"}`, nil)
	if e := h.fails("POST", "/v1/audio/route", `{"route":"car"}`, http.StatusBadRequest, 400); !strings.Contains(e.Message, "handset") {
		t.Errorf("route car: %q, want the board's routes", e.Message)
	}
	path := filepath.Join(t.TempDir(), "m.wav")
	w, err := wav.Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 800)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h.ok("POST", "/v1/music/start", `{"path":"`+path+`"}`, nil)
	var st phone.AudioState
	h.ok("GET", "/v1/audio", "", &st)
	if st.CaptureVolume != 40 || st.PlayOutVolume != 0 || st.Route != "speaker" || st.Music != path || len(st.Routes) == 0 {
		t.Errorf("GET /v1/audio = %+v", st)
	}
	h.ok("POST", "/v1/music/stop", "", nil)
	h.fails("POST", "/v1/music/start", `{"path":"/nonexistent.wav"}`, http.StatusBadRequest, 400)
	var after phone.AudioState // omitempty: a fresh value
	h.ok("GET", "/v1/audio", "", &after)
	if after.Music != "" {
		t.Errorf("music %q after stop", after.Music)
	}
}
