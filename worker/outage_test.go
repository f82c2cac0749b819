package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/chaos"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// s3Rig is a handler storing into gofakes3 through a chaos proxy that can
// take storage down, with real Redis and the fake WeChat.
type s3Rig struct {
	h      *Handler
	fake   *wechattest.Server
	store  storage.Store
	proxy  *chaos.Proxy
	ledger *jobs.Ledger
	reg    *prometheus.Registry
	logs   *syncbuf.Buffer
	yields atomic.Int32 // runs handed back, counted by the mux of serve
}

// setupS3 builds an s3Rig. wrap, if not nil, wraps the store the handler
// uses; middleware goes in front of gofakes3 (e.g. to answer 403).
func setupS3(t *testing.T, cfg Config, wrap func(*s3Rig, storage.Store) storage.Store, middleware ...func(http.Handler) http.Handler) *s3Rig {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{testApp: testSecret}})
	wsrv := httptest.NewServer(fake)
	t.Cleanup(wsrv.Close)
	s3srv := storagetest.StartGoFakeS3(t, false, middleware...)
	p, err := chaos.NewProxy(strings.TrimPrefix(s3srv.Endpoint, "http://"))
	require.NoError(t, err)
	t.Cleanup(p.Close)
	if len(middleware) == 0 {
		s3srv.CreateBucket(t, "codes")
	}
	opts := s3srv.Options()
	opts.S3Endpoint = "http://" + p.Addr()
	st, err := storage.Open(context.Background(), s3srv.URL("codes", ""), opts)
	require.NoError(t, err)
	r := &s3Rig{fake: fake, store: st, proxy: p, ledger: jobs.NewLedger(rdb, ""), reg: prometheus.NewRegistry(), logs: &syncbuf.Buffer{}}
	var used storage.Store = st
	if wrap != nil {
		used = wrap(r, st)
	}
	client := wechat.NewClient(wechat.Config{BaseURL: wsrv.URL})
	ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: testApp, Secret: testSecret, Client: client, Redis: rdb})
	require.NoError(t, err)
	m, err := metrics.NewWorker(r.reg)
	require.NoError(t, err)
	r.h, err = NewHandler(Deps{Redis: rdb, Client: client, Limiter: ratelimit.New(rdb, ratelimit.Config{}), Store: used,
		Ledger: r.ledger, Keys: storage.DefaultTemplate(), Apps: []App{{AppID: testApp, Tokens: ts}}, Metrics: m,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, cfg)
	require.NoError(t, err)
	// Short waits, so that an outage of a few seconds spans many runs.
	r.h.outageWait = outageWait{step: 200 * time.Millisecond, base: 60 * time.Millisecond, max: 200 * time.Millisecond}
	return r
}

// serve runs the handler in a real asynq server that looks for due
// retries every 50 ms, and enqueues one job per scene.
func (r *s3Rig) serve(t *testing.T, scenes ...string) {
	t.Helper()
	cfg := r.h.serverConfig(Queues(nil, false))
	cfg.DelayedTaskCheckInterval, cfg.TaskCheckInterval = 50*time.Millisecond, 50*time.Millisecond
	srv := asynq.NewServerFromRedisClient(r.h.deps.Redis, cfg)
	mux := asynq.NewServeMux()
	mux.HandleFunc(jobs.TaskType, func(ctx context.Context, tk *asynq.Task) error {
		err := r.h.ProcessTask(ctx, tk)
		var y *YieldError
		if errors.As(err, &y) {
			r.yields.Add(1)
		}
		return err
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	cl := asynq.NewClientFromRedisClient(r.h.deps.Redis)
	e := jobs.NewEnqueuer(cl, jobs.EnqueueConfig{})
	for _, s := range scenes {
		tk, opts, err := e.Task(jobs.Job{App: testApp, Params: code.Params{Scene: s}})
		require.NoError(t, err)
		_, err = cl.Enqueue(tk, opts...)
		require.NoError(t, err)
	}
}

func (r *s3Rig) totals(t *testing.T) jobs.Totals {
	t.Helper()
	tot, err := r.ledger.Totals(context.Background(), testApp)
	require.NoError(t, err)
	return tot
}

// unavailableSeconds reads wxacode_storage_unavailable_seconds.
func (r *s3Rig) unavailableSeconds(t *testing.T) float64 {
	t.Helper()
	families, err := r.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "wxacode_storage_unavailable_seconds" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	require.Fail(t, "no wxacode_storage_unavailable_seconds")
	return 0
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting: "+what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// downAfterStat takes storage down right after the first Stat answers, so
// that a job checks the object, calls WeChat, and then cannot store.
type downAfterStat struct {
	storage.Store
	down func()
	once sync.Once
}

func (d *downAfterStat) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := d.Store.Stat(ctx, key)
	d.once.Do(d.down)
	return info, err
}

// TestStorageOutageWaitsWithoutUsingTries takes S3 down after the first
// job called WeChat and keeps it down while jobs are handed back many more
// times than MaxAttempts allows tries: no job fails. Once S3 is back every
// job is stored, each with exactly one WeChat call (the first one's image
// was parked), and the outage was logged once, not per job.
func TestStorageOutageWaitsWithoutUsingTries(t *testing.T) {
	cfg := Config{Concurrency: 1, MaxAttempts: 2, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		StoreAttempts: 1, ShutdownTimeout: 5 * time.Second}
	r := setupS3(t, cfg, func(r *s3Rig, st storage.Store) storage.Store {
		return &downAfterStat{Store: st, down: r.proxy.Down}
	})
	scenes := []string{"o1", "o2", "o3", "o4", "o5"}
	r.serve(t, scenes...)

	waitFor(t, time.Minute, "jobs handed back during the outage, or a failure", func() bool {
		return r.yields.Load() >= 12 || r.totals(t)["failed"] > 0
	})
	require.Zero(t, r.totals(t)["failed"], "a job failed while storage was down")
	require.Equal(t, int64(1), r.fake.Stats().Calls[testApp], "only the first job reached WeChat")
	require.Positive(t, r.unavailableSeconds(t), "the outage shows in the metric")
	parked, err := r.h.parked(context.Background(), jobs.Job{App: testApp, Params: code.Params{Scene: "o1"}}.TaskID())
	require.NoError(t, err)
	require.NotNil(t, parked, "the first job's image is parked")

	require.NoError(t, r.proxy.Up())
	waitFor(t, time.Minute, "all jobs stored", func() bool { return r.totals(t)["stored"] == int64(len(scenes)) })
	tot := r.totals(t)
	require.Zero(t, tot["failed"])
	require.Equal(t, int64(len(scenes)), r.fake.Stats().Calls[testApp], "one WeChat call per job")
	for _, s := range scenes {
		o, ok, err := r.ledger.Get(context.Background(), testApp, jobs.Job{App: testApp, Params: code.Params{Scene: s}}.TaskID())
		require.NoError(t, err)
		require.True(t, ok)
		data, _, err := r.store.Get(context.Background(), o.Key)
		require.NoError(t, err)
		c, err := wechattest.DecodeImage(data)
		require.NoError(t, err)
		require.Equal(t, s, c.Scene)
	}
	require.Zero(t, r.unavailableSeconds(t), "the metric is back to 0")
	require.Equal(t, 1, r.logs.Count("storage unavailable: jobs wait"), "one warning for the outage")
	require.Equal(t, 1, r.logs.Count("storage available again"), "one line when it ends")
}

// TestStorageOutageLimitEndsInRecordedFailure keeps S3 down past a tiny
// StorageOutageLimit: storage errors count as tries again, and the job
// ends as a recorded failure without any WeChat call.
func TestStorageOutageLimitEndsInRecordedFailure(t *testing.T) {
	cfg := Config{Concurrency: 1, MaxAttempts: 2, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		StoreAttempts: 1, ShutdownTimeout: 5 * time.Second, StorageOutageLimit: time.Millisecond}
	r := setupS3(t, cfg, nil)
	r.proxy.Down()
	r.serve(t, "lim")

	waitFor(t, time.Minute, "a recorded failure, or many runs handed back", func() bool {
		return r.totals(t)["failed"] == 1 || r.yields.Load() > 5
	})
	require.Equal(t, int32(1), r.yields.Load(), "only the run that began the outage was handed back")
	o, ok, err := r.ledger.Get(context.Background(), testApp, jobs.Job{App: testApp, Params: code.Params{Scene: "lim"}}.TaskID())
	require.NoError(t, err)
	require.True(t, ok)
	require.Contains(t, o.Reason, "gave up after 2 tries")
	require.Contains(t, o.Reason, "connection refused")
	require.Zero(t, r.fake.Stats().Calls[testApp])
	require.Equal(t, 1, r.logs.Count("longer than the outage limit"))
}

// forbid answers 403 AccessDenied to requests of method ("": all), and
// passes the others on (a HEAD for a missing key then gets 404).
func forbid(method string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if method != "" && r.Method != method {
				if r.Method == http.MethodHead {
					http.NotFound(w, r)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			if r.Method != http.MethodHead {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			}
		})
	}
}

// TestStorageFailed checks the decision for one storage error: hand back
// (with the outage's delay) or return the error for the transient path.
func TestStorageFailed(t *testing.T) {
	invalid := fmt.Errorf("checking k: %w", &storage.KeyError{Key: "k"})
	refused := fmt.Errorf("checking k: %w", syscall.ECONNREFUSED)
	newHandler := func(limit time.Duration) *Handler {
		return &Handler{cfg: Config{StorageOutageLimit: limit}.withDefaults(), log: slog.New(slog.DiscardHandler), outageWait: defaultOutageWait}
	}
	ctx := context.Background()
	j := &job{id: "t"}

	h := newHandler(0)
	require.Equal(t, time.Hour, h.cfg.StorageOutageLimit, "default")
	require.Same(t, invalid, h.storageFailed(ctx, j, invalid), "not an outage: transient")
	var y *YieldError
	require.ErrorAs(t, h.storageFailed(ctx, j, refused), &y, "an outage: handed back")
	require.False(t, IsFailure(y))
	require.GreaterOrEqual(t, y.After, 5*time.Second)
	require.LessOrEqual(t, y.After, 10*time.Second)
	require.Contains(t, y.Reason, "connection refused")

	h.outage.since = time.Now().Add(-50 * time.Minute)
	require.ErrorAs(t, h.storageFailed(ctx, j, refused), &y, "within the limit")
	require.GreaterOrEqual(t, y.After, 30*time.Second)
	require.LessOrEqual(t, y.After, time.Minute)
	h.outage.since = time.Now().Add(-61 * time.Minute)
	require.Same(t, refused, h.storageFailed(ctx, j, refused), "past the limit: transient")

	h.storageAnswered(storage.ErrNotFound)
	require.True(t, h.outage.since.IsZero(), "an answer ends the outage")
	require.ErrorAs(t, h.storageFailed(ctx, j, refused), &y, "a new outage is waited out again")

	h = newHandler(-1)
	h.outage.since = time.Now().Add(-100 * time.Hour)
	require.ErrorAs(t, h.storageFailed(ctx, j, refused), &y, "negative limit: never counted")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.Same(t, refused, newHandler(0).storageFailed(cctx, j, refused), "a cancelled job is not handed back")
}

// TestOutageWait checks the delays: 5-10 s at first, doubling every 30 s
// of outage, never above a minute.
func TestOutageWait(t *testing.T) {
	for _, c := range []struct {
		lasted   time.Duration
		min, max time.Duration
	}{
		{0, 5 * time.Second, 10 * time.Second},
		{29 * time.Second, 5 * time.Second, 10 * time.Second},
		{30 * time.Second, 10 * time.Second, 20 * time.Second},
		{60 * time.Second, 20 * time.Second, 40 * time.Second},
		{90 * time.Second, 30 * time.Second, time.Minute},
		{100 * time.Hour, 30 * time.Second, time.Minute},
	} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := defaultOutageWait.after(c.lasted)
			require.GreaterOrEqual(t, d, c.min, "after %s", c.lasted)
			require.LessOrEqual(t, d, c.max, "after %s", c.lasted)
			seen[d] = true
		}
		require.Greater(t, len(seen), 1, "no jitter after %s", c.lasted)
	}
}
