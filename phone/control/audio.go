package control

import "net/http"

// routeAudio adds the audio device functions (the SDK's names in the
// comments): volumes, route and music.
func (s *Server) routeAudio() {
	p := s.phone
	s.mux.HandleFunc("GET /v1/audio", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.AudioState()) })
	// getAudioCaptureVolume / setAudioCaptureVolume
	s.mux.HandleFunc("GET /v1/audio/capture-volume", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"volume": p.AudioCaptureVolume()})
	})
	s.mux.HandleFunc("POST /v1/audio/capture-volume", s.volume(p.SetAudioCaptureVolume))
	// getAudioPlayOutVolume / setAudioPlayOutVolume
	s.mux.HandleFunc("GET /v1/audio/playout-volume", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"volume": p.AudioPlayOutVolume()})
	})
	s.mux.HandleFunc("POST /v1/audio/playout-volume", s.volume(p.SetAudioPlayOutVolume))
	// setAudioRoute
	s.mux.HandleFunc("POST /v1/audio/route", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Route string `json:"route"`
		}
		if decode(w, r, &req) {
			writeResult(w, p.SetAudioRoute(req.Route), okBody)
		}
	})
	// startPlayMusic / stopPlayMusic
	s.mux.HandleFunc("POST /v1/music/start", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Path string `json:"path"`
		}
		if decode(w, r, &req) {
			writeResult(w, p.StartPlayMusic(req.Path), okBody)
		}
	})
	s.mux.HandleFunc("POST /v1/music/stop", func(w http.ResponseWriter, _ *http.Request) { writeResult(w, p.StopPlayMusic(), okBody) })
}

// volume adapts a volume setter: {"volume": 0-100}, required.
func (s *Server) volume(set func(int) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Volume *int `json:"volume"`
		}
		if !decode(w, r, &req) {
			return
		}
		if req.Volume == nil {
			writeError(w, http.StatusBadRequest, 400, "give {\"volume\": N} with N from 0 (silent) to 100 (unchanged)")
			return
		}
		writeResult(w, set(*req.Volume), okBody)
	}
}
