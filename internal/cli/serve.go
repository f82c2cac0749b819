package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/httpserver"
)

// serveOps serves /metrics, /healthz and /readyz on addr until ctx ends.
// /readyz answers 503 while Redis does not answer a PING within 2 s. It
// returns once listening; a listen error is returned, a later serve error
// is logged.
func serveOps(ctx context.Context, addr string, hc httpserver.Config, metrics http.Handler, rdb redis.UniversalClient, log *slog.Logger) (string, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := rdb.Ping(pctx).Err(); err != nil {
			http.Error(w, "redis: not reachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv, err := httpserver.Listen(addr, mux, hc, log)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	go func() {
		if err := srv.Run(ctx); err != nil {
			log.Error("metrics server", "err", err)
		}
	}()
	return srv.Addr(), nil
}

// listenAndServe serves h on addr under hc until ctx ends, then shuts down
// within httpserver.ShutdownGrace; ready gets the bound address. flag
// names the setting of addr in errors.
func listenAndServe(ctx context.Context, flag, addr string, hc httpserver.Config, h http.Handler, log *slog.Logger, ready func(string)) error {
	httpserver.RaiseFileLimit()
	srv, err := httpserver.Listen(addr, h, hc, log)
	if err != nil {
		return fmt.Errorf("--%s %s: %w", flag, addr, err)
	}
	ready(srv.Addr())
	return srv.Run(ctx)
}
