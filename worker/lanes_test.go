package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// laneRig is a worker handler for many apps on a real Redis and the fake
// WeChat (no rate limit of its own: the limiter's caps are what count).
type laneRig struct {
	rdb    *redis.Client
	lim    *ratelimit.Limiter
	ledger *jobs.Ledger
	h      *Handler
}

func newLaneRig(t *testing.T, apps []string, cfg Config) *laneRig {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	secrets := map[string]string{}
	for _, a := range apps {
		secrets[a] = "s-" + a
	}
	srv := httptest.NewServer(wechattest.New(wechattest.Options{Apps: secrets, RateLimit: -1}))
	t.Cleanup(srv.Close)
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	require.NoError(t, err)
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	r := &laneRig{rdb: rdb, lim: ratelimit.New(rdb, ratelimit.Config{}), ledger: jobs.NewLedger(rdb, "")}
	var as []App
	for _, a := range apps {
		ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: a, Secret: secrets[a], Client: client, Redis: rdb})
		require.NoError(t, err)
		as = append(as, App{AppID: a, Tokens: ts})
	}
	r.h, err = NewHandler(Deps{Redis: rdb, Client: client, Limiter: r.lim, Store: st, Ledger: r.ledger,
		Keys: storage.DefaultTemplate(), Apps: as}, cfg)
	require.NoError(t, err)
	return r
}

// enqueue puts n paced jobs of app through the Enqueuer, as wxacode enqueue
// does.
func (r *laneRig) enqueue(t *testing.T, app string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "s%05d\n", i)
	}
	rd, err := jobs.NewReader(strings.NewReader(b.String()), jobs.FormatLines, jobs.Job{App: app})
	require.NoError(t, err)
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(r.rdb), jobs.EnqueueConfig{Workers: 4, Pacer: Pacer(r.lim)})
	sum, err := e.Run(context.Background(), rd, Validate, func(re *jobs.RowError) { t.Errorf("rejected: %v", re) })
	require.NoError(t, err)
	require.EqualValues(t, n, sum.Enqueued)
}

func (r *laneRig) stored(t *testing.T, app string) int64 {
	tot, err := r.ledger.Totals(context.Background(), app)
	require.NoError(t, err)
	return tot["stored"]
}

// TestLanesFairness: one app with far more queued codes than its cap lets
// through in the test, and 20 small apps with 3 codes each queued after it,
// all in the one bulk lane. Pacing keeps the big app's backlog out of the
// lane's pending list, so every small app finishes within seconds while
// the big app runs near its cap and never above it.
func TestLanesFairness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const big, bigCap = "wxbig", 600 // 10 calls/s
	small := make([]string, 20)
	for i := range small {
		small[i] = fmt.Sprintf("wxsmall%02d", i)
	}
	r := newLaneRig(t, append([]string{big}, small...), Config{Concurrency: 20})
	require.NoError(t, r.lim.SetCap(ctx, big, bigCap, false))
	r.enqueue(t, big, 2000)
	for _, a := range small {
		r.enqueue(t, a, 3)
	}
	// The big app's codes paced beyond half a minute wait in the backlog
	// lane, out of the small apps' way.
	info, err := asynq.NewInspectorFromRedisClient(r.rdb).GetQueueInfo(jobs.LaneBacklog)
	require.NoError(t, err)
	require.InDelta(t, 2000-bigCap/60*jobs.BacklogAhead.Seconds(), info.Scheduled, 100, "the big app's backlog")
	server := NewServer(ctx, r.h)
	start := time.Now()
	require.NoError(t, server.Start(r.h.Mux()))
	defer server.Shutdown()

	done := map[string]time.Duration{}
	var firstBig time.Time // the big app's rate is measured from its first code: start-up is not pacing
	for ctx.Err() == nil && len(done) < len(small) {
		if firstBig.IsZero() && r.stored(t, big) > 0 {
			firstBig = time.Now()
		}
		for _, a := range small {
			if _, ok := done[a]; !ok && r.stored(t, a) == 3 {
				done[a] = time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, ctx.Err(), "small apps did not finish: %d of %d", len(done), len(small))
	delays := make([]time.Duration, 0, len(done))
	for _, d := range done {
		delays = append(delays, d)
	}
	slices.Sort(delays)
	worst := delays[len(delays)-1]
	for firstBig.IsZero() && ctx.Err() == nil {
		if r.stored(t, big) > 0 {
			firstBig = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Keep the big app running for a while to see its rate.
	time.Sleep(max(0, 12*time.Second-time.Since(start)))
	elapsed := time.Since(start)
	n := r.stored(t, big)
	rate := float64(n-1) / time.Since(firstBig).Seconds()
	t.Logf("20 small apps x 3 codes behind 2000 of a big app: slowest small app done after %s (median %s); big app %d codes in %s, %.1f/s after its first (cap %.1f/s)",
		worst.Round(time.Millisecond), delays[len(delays)/2].Round(time.Millisecond), n, elapsed.Round(time.Millisecond), rate, bigCap/60.0)
	require.Less(t, worst, 20*time.Second, "a small app waited behind the big app's backlog")
	require.LessOrEqual(t, float64(n), bigCap/60.0*elapsed.Seconds()+10, "the big app went over its cap")
	// A loose floor: this catches pacing at a fraction of the cap (a wrong
	// interval, jobs handed back in a loop), not a few percent, which is
	// what bench apps --fairness measures; CI runs this under -race
	// beside other packages on two cores.
	require.Greater(t, rate, 0.5*bigCap/60.0, "the big app ran far below its cap")
	tot, err := r.ledger.Totals(ctx, big)
	require.NoError(t, err)
	require.Zero(t, tot["failed"], "pacing and hand-backs are never failures")
}

// TestLegacyQueuesDrained: tasks left in the per-app queues of a release
// before lanes (pending and scheduled) are run by a new worker, with their
// TaskIDs.
func TestLegacyQueuesDrained(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := newLaneRig(t, []string{"wxold"}, Config{Concurrency: 4})
	cl := asynq.NewClientFromRedisClient(r.rdb)
	e := jobs.NewEnqueuer(nil, jobs.EnqueueConfig{})
	var ids []string
	for i, q := range []string{jobs.LegacyQueues("wxold")[0], jobs.LegacyQueues("wxold")[1], jobs.LegacyQueues("wxold")[0]} {
		j := jobs.Job{App: "wxold", High: i == 1, Params: code.Params{Scene: fmt.Sprintf("old%d", i)}}
		task, opts, err := e.Task(j)
		require.NoError(t, err)
		opts = append(opts, asynq.Queue(q)) // the last Queue option wins: the old layout
		if i == 2 {
			opts = append(opts, asynq.ProcessIn(time.Second))
		}
		_, err = cl.Enqueue(task, opts...)
		require.NoError(t, err)
		ids = append(ids, j.TaskID())
	}
	legacy, err := LegacyQueues(ctx, r.rdb)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"wxacode-wxold": 1, "wxacode-wxold-high": jobs.HighWeight}, legacy)
	server := NewServer(ctx, r.h)
	require.NoError(t, server.Start(r.h.Mux()))
	defer server.Shutdown()
	require.Eventually(t, func() bool { return r.stored(t, "wxold") == 3 }, 30*time.Second, 50*time.Millisecond)
	for _, id := range ids {
		o, ok, err := r.ledger.Get(ctx, "wxold", id)
		require.NoError(t, err)
		require.True(t, ok, id)
		require.Equal(t, jobs.StatusStored, o.Status)
	}
	require.NotContains(t, Queues(nil, false), "wxacode-wxold", "without legacy work no per-app queue is polled")
}

// TestScheduleCursor: consecutive reservations of one budget follow each
// other at the cap times the pace factor, fleet-wide; lanes and budgets
// have their own cursors.
func TestScheduleCursor(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	lim := ratelimit.New(rdb, ratelimit.Config{})
	require.NoError(t, lim.SetCap(ctx, "wxc", 600, false))
	p := Pacer(lim)
	s1, iv, err := p.Schedule(ctx, "wxc", false, 100)
	require.NoError(t, err)
	require.InDelta(t, float64(time.Minute)/(600*jobs.PaceFactor), float64(iv), float64(time.Microsecond))
	s2, _, err := p.Schedule(ctx, "wxc", false, 10)
	require.NoError(t, err)
	require.InDelta(t, float64(100*iv), float64(s2.Sub(s1)), float64(5*time.Millisecond), "the second batch starts where the first ended")
	h, _, err := p.Schedule(ctx, "wxc", true, 1)
	require.NoError(t, err)
	require.Less(t, h.Sub(s1), time.Second, "the high lane does not queue behind bulk work")
	o, _, err := p.Schedule(ctx, "wxother", false, 1)
	require.NoError(t, err)
	require.Less(t, o.Sub(s1), time.Second, "another app does not queue behind this one")
	ttl, err := rdb.PTTL(ctx, ratelimit.ScheduleKey("", "wxc", false)).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 10*time.Second+time.Minute-time.Second, "the cursor outlives its last slot by a minute")
}

// TestWaitingSeatsPerBudget: at most MaxWaiting jobs of a process wait in
// their slots for one budget; the next one that would wait is handed back
// at once, so an app behind its schedule cannot take every slot, while
// another budget still gets its own seats.
func TestWaitingSeatsPerBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := newLaneRig(t, []string{"wxseat", "wxother"}, Config{Concurrency: 8, MaxWaiting: 2, MaxHold: 10 * time.Second})
	require.Equal(t, 2, r.h.cfg.MaxWaiting)
	require.NoError(t, r.lim.SetCap(ctx, "wxseat", 60, false)) // one call a second
	for {                                                      // spend the burst: the next take must wait
		ok, _, err := r.lim.Take(ctx, "wxseat")
		require.NoError(t, err)
		if !ok {
			break
		}
		_, err = r.lim.Wait(ctx, "wxseat")
		require.NoError(t, err)
	}
	errs := make(chan error, 3)
	for i := range 3 {
		go func() { errs <- r.h.take(ctx, &job{id: fmt.Sprint("t", i)}, "wxseat") }()
	}
	first := <-errs
	var y *YieldError
	require.ErrorAs(t, first, &y, "the third waiter is handed back before the two seated ones get their slots")
	require.Contains(t, y.Reason, "enough jobs of this worker wait")
	require.NoError(t, r.h.take(ctx, &job{id: "o"}, "wxother"), "another budget has its own seats")
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	release, ok := r.h.seat("wxseat")
	require.True(t, ok, "seats come back when the waits end")
	release()
}

// The worker's asynq server looks again for due jobs after
// Config.TaskCheckInterval (default 500ms, not asynq's 1s: paced jobs due
// during a longer sleep miss their rate slots; BENCHMARKS.md).
func TestServerConfigTaskCheckInterval(t *testing.T) {
	require.Equal(t, 500*time.Millisecond, DefaultConfig().TaskCheckInterval)
	h := &Handler{cfg: Config{TaskCheckInterval: 250 * time.Millisecond}.withDefaults(), log: slog.New(slog.DiscardHandler)}
	cfg := h.serverConfig(Queues(nil, false))
	require.Equal(t, 250*time.Millisecond, cfg.TaskCheckInterval)
	require.Equal(t, ForwardInterval, cfg.DelayedTaskCheckInterval)
}
