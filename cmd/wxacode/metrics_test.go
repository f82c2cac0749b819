package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestWorkerMetrics runs a small job set through a worker serving
// --metrics-listen and checks that /metrics exposes the worker's series
// with the values the run must have produced, and that /readyz follows
// Redis.
func TestWorkerMetrics(t *testing.T) {
	const scenes, bad = 100, 5
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, _ := smallWorld(t, wechattest.Options{})
	w.ok("enqueue", "--app", e2eApp, writeE2EInput(t, w.dir, scenes, bad))

	p := w.start("worker", "--concurrency", "10", "--metrics-listen", "127.0.0.1:0", "--log-format", "json")
	addr := p.waitFor(`"metrics served","url":"http://([^/"]+)/metrics"`, 30*time.Second)
	waitAllDone(t, ctx, w.rs, scenes)
	// One more job meets a 45009: the worker reports it and pauses the app.
	w.fake.BurstRateLimit(e2eApp, 1)
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "more.txt"), []byte("one-more\n"), 0o600))
	w.ok("enqueue", "--app", e2eApp, "--page", "pages/coupon/index", "more.txt")
	var body string
	require.Eventually(t, func() bool {
		body = get(t, "http://"+addr+"/metrics", 200)
		// The job then waits out the pause (seconds) on the limiter.
		return strings.Contains(body, `wxacode_rate_limited_total{app="`+e2eApp+`",errcode="45009"} 1`) &&
			strings.Contains(body, `wxacode_limiter_wait_seconds_count{budget="`+e2eApp+`"}`)
	}, 30*time.Second, 100*time.Millisecond)
	stored := ledgerTotals(t, ctx, w.rs)["stored"]
	for _, want := range []string{
		`wxacode_wechat_calls_total{app="` + e2eApp + `",errcode="0"} ` + itoa(stored),
		`wxacode_wechat_calls_total{app="` + e2eApp + `",errcode="41030"} ` + itoa(bad),
		`wxacode_wechat_calls_total{app="` + e2eApp + `",errcode="45009"} 1`,
		`wxacode_rate_limited_total{app="` + e2eApp + `",errcode="45009"} 1`,
		`wxacode_wechat_call_duration_seconds_count{app="` + e2eApp + `"} ` + itoa(stored+bad+1),
		`wxacode_limiter_wait_seconds_count{budget="` + e2eApp + `"}`,
		`wxacode_stores_total{app="` + e2eApp + `",result="ok"} ` + itoa(stored),
		`wxacode_stored_bytes_total{app="` + e2eApp + `"}`,
		`wxacode_jobs_total{app="` + e2eApp + `",outcome="stored"} ` + itoa(stored),
		`wxacode_jobs_total{app="` + e2eApp + `",outcome="failed"} ` + itoa(bad),
		// The preflight's check of the secret, then the one fetch of the run.
		`wxacode_token_fetches_total{app="` + e2eApp + `",endpoint="/cgi-bin/stable_token",result="ok"} 2`,
		`wxacode_store_held{cause=""} 0`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, e2eSecret)
	require.NotContains(t, body, wechattest.TokenPrefix)
	require.Equal(t, "ok\n", get(t, "http://"+addr+"/readyz", 200))
	require.NoError(t, w.rs.Pause())
	get(t, "http://"+addr+"/readyz", 503)
	require.NoError(t, w.rs.Resume())
	p.stop(time.Minute)
	// go-redis's own complaints while Redis was paused went through slog.
	for _, l := range p.lines() {
		require.True(t, json.Valid([]byte(l)), "a log line of another format: %s", l)
	}
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, string(b))
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
