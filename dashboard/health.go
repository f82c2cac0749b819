package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// serveReadyz pings Redis and the store, each within ReadyTimeout, and
// answers 503 naming each one that failed.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	var failed []string
	check := func(name string, ping func(context.Context) error) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		if err := ping(ctx); err != nil {
			failed = append(failed, name+": "+redactErr(err))
		}
	}
	check("redis", func(ctx context.Context) error { return s.cfg.Redis.Ping(ctx).Err() })
	if s.cfg.Store != nil {
		check("storage", s.cfg.Store.Ping)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(failed, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}
