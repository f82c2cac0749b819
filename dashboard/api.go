package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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
	q, err := appQuery(r)
	if err != nil {
		if asJSON {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return Snapshot{}, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	snap, err := s.CollectPage(ctx, q)
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
			At         time.Time   `json:"at"`
			Apps       []AppStatus `json:"apps"`
			AppsPage   AppsPage    `json:"apps_page"`
			Lanes      QueueStatus `json:"lanes"`
			StoreHolds []StoreHold `json:"store_holds"`
		}{snap.At, snap.Apps, snap.AppsPage, snap.Lanes, snap.StoreHolds})
	}
}

// appQuery reads the query parameters q, page and per_page (1 to
// MaxPerPage); a malformed one is an error naming it.
func appQuery(r *http.Request) (AppQuery, error) {
	v := r.URL.Query()
	q := AppQuery{Q: v.Get("q")}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &q.Page, 1 << 30}, {"per_page", &q.PerPage, MaxPerPage}} {
		raw := v.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > p.max {
			return q, fmt.Errorf("%s: want a whole number from 1 to %d, got %q", p.name, p.max, raw)
		}
		*p.dst = n
	}
	if len(q.Q) > 64 {
		return q, fmt.Errorf("q: at most 64 characters (an appid is at most 64)")
	}
	return q, nil
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
