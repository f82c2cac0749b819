package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/wxacode/wxacode/jobs/runs"
)

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

// collect is Collect bounded by the configured timeout; failures are
// logged and answered with 503 (the data lives in Redis).
func (s *Server) collect(w http.ResponseWriter, r *http.Request, asJSON bool) (Snapshot, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	snap, err := s.Collect(ctx)
	if err != nil {
		s.fail(w, r, err, asJSON)
		return snap, false
	}
	return snap, true
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	msg := redactErr(err)
	s.cfg.Logger.Warn("dashboard: request failed", "path", r.URL.Path, "err", msg)
	if asJSON {
		writeJSON(w, http.StatusServiceUnavailable, apiError{msg})
		return
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

func (s *Server) serveAPIApps(w http.ResponseWriter, r *http.Request) {
	if snap, ok := s.collect(w, r, true); ok {
		writeJSON(w, http.StatusOK, struct {
			At    time.Time   `json:"at"`
			Apps  []AppStatus `json:"apps"`
			Lanes QueueStatus `json:"lanes"`
		}{snap.At, snap.Apps, snap.Lanes})
	}
}

func (s *Server) serveAPIRuns(w http.ResponseWriter, r *http.Request) {
	if snap, ok := s.collect(w, r, true); ok {
		writeJSON(w, http.StatusOK, struct {
			At   time.Time   `json:"at"`
			Runs []RunStatus `json:"runs"`
		}{snap.At, snap.Runs})
	}
}

func (s *Server) serveAPIRun(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	rs, err := s.CollectRun(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, runs.ErrNoRun):
		writeJSON(w, http.StatusNotFound, apiError{"no such run"})
	case err != nil:
		s.fail(w, r, err, true)
	default:
		writeJSON(w, http.StatusOK, rs)
	}
}
