package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/ratelimit"
)

// TestDashboardCommand serves `wxacode dashboard` with a bearer token from
// the environment: pages need it, health checks do not, /metrics carries
// the fleet and queue series, and the token never shows in --help.
func TestDashboardCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const token = "dash-token-0123456789"
	w := newWorld(t, "WXACODE_DASHBOARD_TOKEN="+token, "WXACODE_APPID=wxdash").withRedis()
	w.set("WXACODE_STORAGE_URL", "file://"+t.TempDir())
	rs := w.rs
	require.NoError(t, ratelimit.New(rs.Client(t), ratelimit.Config{}).SetCap(ctx, "wxdash", 3000, false))
	help := w.ok("dashboard", "--help")
	require.NotContains(t, help, token)
	require.Contains(t, help, "WXACODE_DASHBOARD_TOKEN: set")

	p := w.start("dashboard", "--listen", "127.0.0.1:0")
	base := "http://" + p.waitFor(`dashboard on http://(\S+)/`, 30*time.Second)
	call := func(path, tok string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/", "/api/apps", "/api/runs", "/asynq/", "/metrics"} {
		code, _ := call(p, "")
		require.Equal(t, 401, code, p)
		code, _ = call(p, "wrong")
		require.Equal(t, 401, code, p)
	}
	code, _ := call("/healthz", "")
	require.Equal(t, 200, code)
	code, _ = call("/readyz", "")
	require.Equal(t, 200, code)
	code, body := call("/metrics", token)
	require.Equal(t, 200, code)
	require.Contains(t, body, `wxacode_limiter_cap_per_minute{app="wxdash"} 3000`)
	require.Contains(t, body, "go_goroutines")
	code, body = call("/api/apps", token)
	require.Equal(t, 200, code)
	require.Contains(t, body, "wxdash")
	require.NotContains(t, body, token)
	p.stop(30 * time.Second)
}

// A non-loopback address without authentication is refused unless
// explicitly allowed.
func TestDashboardRefusesOpenNonLoopback(t *testing.T) {
	w := newWorld(t)
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		r := w.run("dashboard", "--listen", addr)
		require.Equal(t, 2, r.code, r)
		require.Contains(t, r.stderr, "refusing to serve without authentication", addr)
	}
}
