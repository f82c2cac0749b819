package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
)

// TestFleetAndQueues scrapes the fleet collector and asynq's queue
// collector over a real redis-server holding a capped app in cooldown, a
// ledger, a campaign run and a queue, and checks each series' value.
func TestFleetAndQueues(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	lim := ratelimit.New(rdb, ratelimit.Config{})
	require.NoError(t, lim.SetCap(ctx, "wxa", 3000, false))
	for range 7 {
		_, err := lim.Wait(ctx, "wxa")
		require.NoError(t, err)
	}
	require.NoError(t, lim.ReportRateLimited(ctx, "wxa", 45009))
	led := jobs.NewLedger(rdb, "")
	require.NoError(t, led.AddEnqueued(ctx, "wxa", 5))
	require.NoError(t, led.Record(ctx, "wxa", jobs.Outcome{TaskID: "t1", Status: jobs.StatusStored, Scene: "s1"}))
	st := runs.NewStore(rdb, "")
	require.NoError(t, st.Create(ctx, runs.Run{ID: "run1", Campaign: "coupons", App: "wxa", Total: 4, State: runs.StateRunning, Created: time.Now()}))
	require.NoError(t, st.SetFed(ctx, "run1", 4))
	for row, s := range []jobs.Status{jobs.StatusStored, jobs.StatusSkipped, jobs.StatusFailed} {
		var f *runs.Failure
		if s == jobs.StatusFailed {
			f = &runs.Failure{Code: 41030}
		}
		_, err := st.Record(ctx, "run1", int64(row), s, make([]byte, 32), f)
		require.NoError(t, err)
	}
	_, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("x", nil), asynq.Queue(jobs.LaneBulk))
	require.NoError(t, err)

	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewFleet(metrics.FleetConfig{Limiter: lim, Ledger: led, Runs: st, Apps: []string{"wxb"}}))
	reg.MustRegister(metrics.Queues(asynq.NewInspectorFromRedisClient(rdb)))
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`wxacode_limiter_cap_per_minute{app="wxa"} 3000`,
		`wxacode_limiter_calls_last_minute{app="wxa"} 7`,
		`wxacode_limiter_cooldown_active{app="wxa"} 1`,
		`wxacode_limiter_rate_limited_last_hour{app="wxa"} 1`,
		`wxacode_limiter_cooldown_active{app="wxb"} 0`,
		`wxacode_ledger_jobs{app="wxa",status="enqueued"} 5`,
		`wxacode_ledger_jobs{app="wxa",status="stored"} 1`,
		`wxacode_run_rows{app="wxa",campaign="coupons",run="run1",status="stored"} 1`,
		`wxacode_run_rows{app="wxa",campaign="coupons",run="run1",status="failed"} 1`,
		`wxacode_run_rows{app="wxa",campaign="coupons",run="run1",status="in_flight"} 1`,
		`wxacode_run_rows_total{app="wxa",campaign="coupons",run="run1"} 4`,
		`wxacode_run_state{app="wxa",campaign="coupons",run="run1",state="running"} 1`,
		`asynq_queue_size{queue="wxacode-bulk"} 1`,
		`asynq_tasks_enqueued_total{queue="wxacode-bulk",state="pending"} 1`,
	} {
		require.Contains(t, body, want)
	}
	require.Regexp(t, `wxacode_limiter_effective_per_minute\{app="wxa"\} \d+`, body)
}
