// Package demo runs the whole of wxacode on embedded defaults, for a fresh
// machine with only Go: an in-process Redis (miniredis) unless a Redis is
// given, the fake WeChat server on a loopback port, a local directory, a
// worker and the dashboard; it enqueues demo scenes, works them with a
// progress bar and ends with where the images are and a summary.
package demo

import (
	"cmp"
	"context"
	"sync/atomic"

	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/progress"
	"github.com/wxacode/wxacode/internal/system"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/dashboard"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

// The demo app the fake WeChat server knows.
const (
	App    = "wxd000000000000001"
	Secret = "demo-secret-not-a-real-one"
)

// Defaults of Options.
const (
	DefaultRate     = 1500
	DefaultScenes   = 1000
	DefaultDir      = "wxacode-demo"
	DefaultLogLevel = "error"
)

// Options configure a demo. Every zero value takes its default.
type Options struct {
	// Redis is the Redis to use. Default URL "": an in-process miniredis.
	Redis system.Redis
	// LogLevel of the demo's own logs (text). Default DefaultLogLevel.
	LogLevel string
	// Rate is the demo app's cap per minute. Default DefaultRate (the fake
	// allows 5000/min).
	Rate int
	// Scenes is how many demo scenes to generate. Default DefaultScenes.
	Scenes int
	// Dir is the local directory of the codes. Default DefaultDir.
	Dir string
	// Stdout receives the story of the demo, Stderr its logs.
	Stdout, Stderr io.Writer
}

// Run runs the demo until every job has an outcome (at most 10 minutes)
// or ctx ends, then prints where the codes are and a summary. It fails if
// a part cannot start.
func Run(ctx context.Context, o Options) error {
	o.LogLevel = cmp.Or(o.LogLevel, DefaultLogLevel)
	o.Rate, o.Scenes, o.Dir = cmp.Or(o.Rate, DefaultRate), cmp.Or(o.Scenes, DefaultScenes), cmp.Or(o.Dir, DefaultDir)
	d := &demo{opts: &o, stdout: o.Stdout, stderr: o.Stderr}
	defer d.close()
	return d.run(ctx)
}

type demo struct {
	opts           *Options
	settings       system.Settings
	stdout, stderr io.Writer
	closers        []func()
	fake           *wechattest.Server
}

func (d *demo) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func (d *demo) run(ctx context.Context) error {
	start := time.Now()
	if err := d.startParts(); err != nil {
		return err
	}
	sys, err := system.Build(ctx, d.settings, 64, d.stderr)
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { sys.Close() })
	enq, err := d.enqueue(ctx, sys)
	if err != nil {
		return err
	}
	h, err := worker.NewHandler(sys.Deps, worker.Config{Concurrency: 40, MaxHold: 5 * time.Second})
	if err != nil {
		return err
	}
	srv := worker.NewServer(ctx, h)
	if err := srv.Start(h.Mux()); err != nil {
		return err
	}
	if err := d.serveDashboard(sys); err != nil {
		srv.Shutdown()
		return err
	}
	werr := d.watch(ctx, sys, enq)
	srv.Shutdown()
	if werr != nil {
		return werr
	}
	return d.report(ctx, sys, time.Since(start))
}

// startParts starts the in-process Redis (if none is configured) and the
// fake WeChat server, and fills in the settings that point at them.
func (d *demo) startParts() error {
	o := d.opts
	st := &d.settings
	st.Redis, st.Log = o.Redis, system.Log{Level: o.LogLevel, Format: "text"}
	if st.Redis.URL == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return err
		}
		d.closers = append(d.closers, mr.Close)
		st.Redis = system.Redis{URL: "redis://" + mr.Addr() + "/0"}
	}
	d.fake = wechattest.New(wechattest.Options{
		Apps:          map[string]string{App: Secret},
		Pages:         []string{"pages/index/index", "pages/coupon/index"},
		LatencyMedian: 40 * time.Millisecond, LatencyP99: 300 * time.Millisecond,
		PSystemError: 0.01, PBadGateway: 0.005,
	})
	fakeURL, err := d.serve(d.fake)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	st.Storage.URL, st.WeChatBaseURL = "file://"+abs, fakeURL
	st.Apps = system.Apps{AppID: App, Secret: Secret, Rate: o.Rate}
	return nil
}

// serve serves h on a free loopback port until the demo ends and returns
// its URL.
func (d *demo) serve(h http.Handler) (string, error) {
	srv, err := httpserver.Listen("127.0.0.1:0", h, httpserver.Unlimited, nil)
	if err != nil {
		return "", err
	}
	d.closers = append(d.closers, func() { srv.Close() })
	return "http://" + srv.Addr(), nil
}

// demoScenes writes the demo input: coupon scenes, a few rows whose page
// is not published (WeChat answers 41030) and a few invalid scenes.
func (d *demo) demoScenes() (string, int, error) {
	f, err := os.CreateTemp("", "wxacode-demo-*.csv")
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	d.closers = append(d.closers, func() { os.Remove(f.Name()) })
	fmt.Fprintln(f, "scene,page")
	bad := 0
	for i := 1; i <= d.opts.Scenes; i++ {
		switch {
		case i%250 == 0:
			fmt.Fprintf(f, "cpn=%d,pages/unpublished/index\n", i) // 41030 from WeChat
		case i%333 == 0:
			fmt.Fprintf(f, "%q,\n", fmt.Sprintf("bad scene %d", i)) // space: rejected before enqueue
			bad++
		default:
			fmt.Fprintf(f, "cpn=%d,pages/coupon/index\n", i)
		}
	}
	return f.Name(), bad, nil
}

func (d *demo) enqueue(ctx context.Context, sys *system.System) (int64, error) {
	path, _, err := d.demoScenes()
	if err != nil {
		return 0, err
	}
	in, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r, err := jobs.NewReader(in, jobs.FormatCSV, jobs.Job{App: App})
	if err != nil {
		return 0, err
	}
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(sys.Redis), jobs.EnqueueConfig{Workers: 8, Pacer: worker.Pacer(sys.Limiter)})
	sum, err := e.Run(ctx, r, worker.Validate, func(re *jobs.RowError) {
		fmt.Fprintf(d.stdout, "rejected before enqueue: %v\n", re)
	})
	if err != nil {
		return 0, err
	}
	if err := sys.Deps.Ledger.AddEnqueued(ctx, App, sum.Enqueued); err != nil {
		return 0, err
	}
	fmt.Fprintf(d.stdout, "enqueued %d jobs (%d duplicate, %d rejected) for app %s at %d/min\n",
		sum.Enqueued, sum.Duplicate, sum.Rejected, App, d.opts.Rate)
	return sum.Enqueued + sum.Duplicate, nil
}

// serveDashboard serves the dashboard (read-only, no auth: loopback only)
// on a free loopback port while the demo runs.
func (d *demo) serveDashboard(sys *system.System) error {
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewFleet(metrics.FleetConfig{Limiter: sys.Limiter, Ledger: sys.Deps.Ledger, Runs: sys.Deps.Runs, Apps: []string{App}}))
	opt, err := d.settings.Redis.ConnOpt()
	if err != nil {
		return err
	}
	dash, err := dashboard.New(dashboard.Config{Redis: sys.Redis, AsynqRedis: opt, Limiter: sys.Limiter, Runs: sys.Deps.Runs, Ledger: sys.Deps.Ledger,
		Store: sys.Deps.Store, Apps: []string{App}, TokenState: system.TokenState(sys.Redis), ACUsed: system.ACUsed(sys.Redis), Metrics: metrics.Handler(reg)})
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { dash.Close() })
	url, err := d.serve(dash.Handler())
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "dashboard while the demo runs: %s/ (asynq dashboard, read-only: %s/asynq/)\n", url, url)
	return nil
}

// watch shows the progress until every job has an outcome.
func (d *demo) watch(ctx context.Context, sys *system.System, total int64) error {
	start := time.Now()
	var done atomic.Int64
	stop := progress.Start(ctx, d.stdout, false, func() (int64, int64, string) {
		return done.Load(), total, "codes: " + progress.Rate(done.Load(), total, start)
	})
	defer stop()
	deadline := time.After(10 * time.Minute)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		tot, err := sys.Deps.Ledger.Totals(ctx, App)
		if err != nil {
			return err
		}
		done.Store(tot["stored"] + tot["skipped"] + tot["failed"])
		if done.Load() >= total {
			stop()
			fmt.Fprintf(d.stdout, "all %d jobs have an outcome after %s\n", total, time.Since(start).Round(100*time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("demo: jobs did not finish within 10 minutes")
		case <-t.C:
		}
	}
}

func (d *demo) report(ctx context.Context, sys *system.System, took time.Duration) error {
	fmt.Fprintf(d.stdout, "\ndone in %s. Codes are in %s/%s/\n", took.Round(time.Second), d.opts.Dir, App)
	insp := asynq.NewInspectorFromRedisClient(sys.Redis)
	if err := system.PrintStatus(ctx, d.stdout, sys.Deps.Ledger, sys.Deps.Runs, insp, 5); err != nil {
		return err
	}
	st := d.fake.Stats()
	tot, _ := sys.Deps.Ledger.Totals(ctx, App)
	calls := st.Calls[App]
	if stored := tot["stored"]; stored > 0 {
		fmt.Fprintf(d.stdout, "\nWeChat interface-B calls: %d for %d stored codes (%.3f calls per code; the fake injects -1 and 502 errors)\n",
			calls, stored, float64(calls)/float64(stored))
	}
	fmt.Fprintln(d.stdout, "Run it again: every code is already stored, so no WeChat call is made (all skipped).")
	return nil
}
