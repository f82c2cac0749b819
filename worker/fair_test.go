package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestBusyAppDoesNotStarveAnother fills the queue of an app capped at
// 60/min with far more jobs than it can run, and checks that a second app's
// jobs all finish in seconds on a worker with only 4 slots: jobs of the
// capped app hand their slot back instead of holding it.
func TestBusyAppDoesNotStarveAnother(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rdb := redistest.Start(t).Client(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{"wxbusy": "s1", "wxquiet": "s2"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	require.NoError(t, err)
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	lim := ratelimit.New(rdb, ratelimit.Config{})
	require.NoError(t, lim.SetCap(ctx, "wxbusy", 60, false))
	var apps []App
	for id, secret := range map[string]string{"wxbusy": "s1", "wxquiet": "s2"} {
		ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: id, Secret: secret, Client: client, Redis: rdb})
		require.NoError(t, err)
		apps = append(apps, App{AppID: id, Tokens: ts})
	}
	ledger := jobs.NewLedger(rdb, "")
	h, err := NewHandler(Deps{Redis: rdb, Client: client, Limiter: lim, Store: st, Ledger: ledger,
		Keys: storage.DefaultTemplate(), Apps: apps}, Config{Concurrency: 4, MaxHold: 500 * time.Millisecond})
	require.NoError(t, err)
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(rdb), jobs.EnqueueConfig{})
	enqueue := func(app string, n int) {
		for i := range n {
			task, opts, err := e.Task(jobs.Job{App: app, Params: code.Params{Scene: "s" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))}})
			require.NoError(t, err)
			_, err = asynq.NewClientFromRedisClient(rdb).Enqueue(task, opts...)
			require.NoError(t, err)
		}
	}
	enqueue("wxbusy", 300)
	enqueue("wxquiet", 40)
	server := NewServer(ctx, h)
	require.NoError(t, server.Start(h.Mux()))
	defer server.Shutdown()
	start := time.Now()
	for ctx.Err() == nil {
		tot, err := ledger.Totals(ctx, "wxquiet")
		require.NoError(t, err)
		if tot["stored"] == 40 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	busy, err := ledger.Totals(ctx, "wxbusy")
	require.NoError(t, err)
	t.Logf("quiet app: 40 codes in %s; busy app meanwhile stored %d of 300", took.Round(time.Millisecond), busy["stored"])
	require.NoError(t, ctx.Err(), "the quiet app's jobs were starved")
	// With slots held instead of handed back (MaxHold: time.Hour) this took 41 s.
	require.Less(t, took, 10*time.Second, "the quiet app waited behind the busy one")
	require.Less(t, busy["stored"], int64(40), "the busy app stayed under its cap")
	require.Zero(t, busy["failed"], "waiting for the cap is never a failure")
}

// TestHighPriorityServedFirst queues 200 bulk jobs and then 20 high ones
// for the same app: the high ones finish while most bulk work still waits.
func TestHighPriorityServedFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rdb := redistest.Start(t).Client(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{"wxP": "sP"}, RateLimit: -1})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	require.NoError(t, err)
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	lim := ratelimit.New(rdb, ratelimit.Config{})
	require.NoError(t, lim.SetCap(ctx, "wxP", 100000, true))
	ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: "wxP", Secret: "sP", Client: client, Redis: rdb})
	require.NoError(t, err)
	ledger := jobs.NewLedger(rdb, "")
	h, err := NewHandler(Deps{Redis: rdb, Client: client, Limiter: lim, Store: st, Ledger: ledger,
		Keys: storage.DefaultTemplate(), Apps: []App{{AppID: "wxP", Tokens: ts}}}, Config{Concurrency: 2})
	require.NoError(t, err)
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(rdb), jobs.EnqueueConfig{})
	cl := asynq.NewClientFromRedisClient(rdb)
	for i := range 220 {
		task, opts, err := e.Task(jobs.Job{App: "wxP", High: i >= 200, Params: code.Params{Scene: fmt.Sprintf("s%d", i)}})
		require.NoError(t, err)
		_, err = cl.Enqueue(task, opts...)
		require.NoError(t, err)
	}
	server := NewServer(ctx, h)
	require.NoError(t, server.Start(h.Mux()))
	defer server.Shutdown()
	highDone := func() int {
		n := 0
		for i := 200; i < 220; i++ {
			if o, ok, _ := ledger.Get(ctx, "wxP", jobs.Job{App: "wxP", Params: code.Params{Scene: fmt.Sprintf("s%d", i)}}.TaskID()); ok && o.Status == jobs.StatusStored {
				n++
			}
		}
		return n
	}
	for ctx.Err() == nil && highDone() < 20 {
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, ctx.Err())
	tot, err := ledger.Totals(ctx, "wxP")
	require.NoError(t, err)
	t.Logf("when the 20 high jobs were done, %d codes were stored in all", tot["stored"])
	require.Less(t, tot["stored"], int64(100), "bulk work did not go first")
}

// A feeder handed back by a stopping worker is not a failure and resumes
// within about a second.
func TestStoppingFeederIsNotAFailure(t *testing.T) {
	err := fmt.Errorf("feed: %w", runs.ErrStopping)
	require.False(t, IsFailure(err))
	require.True(t, IsFailure(errors.New("redis down")))
	h := &Handler{cfg: Config{}.withDefaults()}
	require.Equal(t, time.Second, h.retryDelay(3, err, nil))
}
