package wechattest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// The /_fake/ endpoints drive a fake running in another process.

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Stats())
}

// handleConfig applies a JSON subset of Options, e.g. {"p_reset":0.01,
// "rate_limit":100}. Maps are merged; other fields present replace. With
// ?replace=1 the body is the whole of the options: fields absent take
// their defaults (and maps are cleared).
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var perr error
	s.Update(func(o *Options) {
		next := o.clone() // a failed patch leaves no partial merge behind
		if r.URL.Query().Get("replace") == "1" {
			next = Options{Now: o.Now}
		}
		if perr = json.Unmarshal(body, &next); perr == nil {
			*o = next
		}
	})
	if perr != nil {
		http.Error(w, "bad options: "+perr.Error(), http.StatusBadRequest)
		return
	}
	writeOK(w)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	appid := r.URL.Query().Get("appid")
	if appid == "" {
		http.Error(w, "appid required", http.StatusBadRequest)
		return
	}
	if r.URL.Query().Get("keep") == "1" {
		s.RevokeTokensKeepStable(appid)
	} else {
		s.RevokeTokens(appid)
	}
	writeOK(w)
}

func (s *Server) handleBurst(w http.ResponseWriter, r *http.Request) {
	appid := r.URL.Query().Get("appid")
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if appid == "" || err != nil || n < 0 {
		http.Error(w, "appid and n ≥ 0 required", http.StatusBadRequest)
		return
	}
	s.BurstRateLimit(appid, n)
	writeOK(w)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
}
