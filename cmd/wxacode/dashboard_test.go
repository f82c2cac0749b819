package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/ratelimit"
)

// TestDashboardCommand serves `wxacode dashboard` with a bearer token from
// the environment: pages need it, health checks do not, /metrics carries
// the fleet and queue series, and the token never shows in --help.
func TestDashboardCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs := redistest.Start(t)
	const token = "dash-token-0123456789"
	t.Setenv("WXACODE_REDIS_URL", rs.URL())
	t.Setenv("WXACODE_STORAGE_URL", "file://"+t.TempDir())
	t.Setenv("WXACODE_DASHBOARD_TOKEN", token)
	t.Setenv("WXACODE_APPID", "wxdash")
	require.NoError(t, ratelimit.New(rs.Client(t), ratelimit.Config{}).SetCap(ctx, "wxdash", 3000, false))

	var o dashboardOpts
	var help strings.Builder
	fs := o.flags(&help)
	require.NoError(t, fs.Parse([]string{"--listen", "127.0.0.1:0"}))
	fs.Usage()
	require.NotContains(t, help.String(), token)

	sctx, stop := context.WithCancel(ctx)
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serveDashboard(sctx, &o, io.Discard, func(a string) { addrc <- a }) }()
	base := "http://" + <-addrc
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
	stop()
	require.NoError(t, <-done)
}

// A non-loopback address without authentication is refused unless
// explicitly allowed.
func TestDashboardRefusesOpenNonLoopback(t *testing.T) {
	t.Setenv("WXACODE_DASHBOARD_TOKEN", "")
	t.Setenv("WXACODE_DASHBOARD_USER", "")
	t.Setenv("WXACODE_DASHBOARD_PASSWORD", "")
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		err := run(context.Background(), []string{"dashboard", "--listen", addr}, io.Discard, io.Discard)
		require.ErrorContains(t, err, "refusing to serve without authentication", addr)
	}
}
