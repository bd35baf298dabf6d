package provision

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"deskphone/config"
)

// Codes of POST /v1/provision's errors, in the control API's {"code",
// "message"} answer.
const (
	CodeNotConfigured = -10409 // HTTP 409: no provisioning.url and no DHCP option 66
	CodeRefused       = -10422 // HTTP 422: the provisioned file is not a valid configuration
	CodeUnreachable   = -10502 // HTTP 502: the server is down, refused the TLS check, or has no file
	CodeFailed        = -10500 // HTTP 500: e.g. the local file is broken or the store cannot be written
)

// requestTimeout keeps an on-demand fetch within the control API's
// WriteTimeout (30 s).
const requestTimeout = 25 * time.Second

// ServeHTTP is POST /v1/provision: fetch now, validate, store; the answer
// says whether the configuration changed and that it applies at the next
// restart.
func (p *Provisioner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	res, err := p.Fetch(ctx)
	var cerr *config.Error
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, struct {
			Status string `json:"status"`
			Result
		}{"success", res})
	case errors.Is(err, ErrNotConfigured):
		writeError(w, http.StatusConflict, CodeNotConfigured, err.Error())
	case errors.Is(err, ErrUnreachable):
		writeError(w, http.StatusBadGateway, CodeUnreachable, err.Error())
	case errors.As(err, &cerr) && refusedFile(cerr, p.path):
		writeError(w, http.StatusUnprocessableEntity, CodeRefused, "provisioned configuration refused, the previous one stays:\n"+err.Error())
	default:
		writeError(w, http.StatusInternalServerError, CodeFailed, err.Error())
	}
}

// refusedFile reports whether a config error concerns the provisioned file
// (or what the merge lacks), not only the local file's own lines.
func refusedFile(e *config.Error, localPath string) bool {
	for _, pr := range e.Problems {
		if pr.File != localPath || pr.Line == 0 {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}
