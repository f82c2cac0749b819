package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/dashboard"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

const (
	demoApp    = "wxd000000000000001"
	demoSecret = "demo-secret-not-a-real-one"
)

type demoOpts struct {
	common
	scenes int
	dir    string
	keep   bool
}

// runDemo runs the whole system on embedded defaults: miniredis (unless
// WXACODE_REDIS_URL is set), the fake WeChat server, a local directory, a
// worker, and the asynq dashboard, then prints where the codes are.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o demoOpts
	fs := flagSet("demo", "demo [flags]", stderr)
	strFlag(fs, &o.redisURL, "redis-url", "", "Redis to use; empty runs an in-process Redis (miniredis)")
	intFlag(fs, &o.rate, "rate-per-minute", 1500, "the demo app's rate (the fake allows 5000/min)")
	fs.IntVar(&o.scenes, "scenes", 1000, "how many demo scenes to generate")
	fs.StringVar(&o.dir, "dir", "wxacode-demo", "local directory for the codes")
	strFlag(fs, &o.logLevel, "log-level", "error", "log level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.logFormat = "text"
	d := &demo{opts: &o, stdout: stdout, stderr: stderr}
	defer d.close()
	return d.run(ctx)
}

type demo struct {
	opts           *demoOpts
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
	sys, err := buildSystem(ctx, &d.opts.common, 64, d.stderr)
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { sys.Close() })
	enq, err := d.enqueue(ctx, sys)
	if err != nil {
		return err
	}
	h, err := worker.NewHandler(sys.deps, worker.Config{Concurrency: 40, MaxHold: 5 * time.Second})
	if err != nil {
		return err
	}
	srv := worker.NewServer(h)
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
	if o.redisURL == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return err
		}
		d.closers = append(d.closers, mr.Close)
		o.redisURL = "redis://" + mr.Addr() + "/0"
	}
	d.fake = wechattest.New(wechattest.Options{
		Apps:          map[string]string{demoApp: demoSecret},
		Pages:         []string{"pages/index/index", "pages/coupon/index"},
		LatencyMedian: 40 * time.Millisecond, LatencyP99: 300 * time.Millisecond,
		PSystemError: 0.01, PBadGateway: 0.005,
	})
	fake := httptest.NewServer(d.fake)
	d.closers = append(d.closers, fake.Close)
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	o.storageURL, o.baseURL = "file://"+abs, fake.URL
	o.appID, o.secret = demoApp, demoSecret
	return nil
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
	for i := 1; i <= d.opts.scenes; i++ {
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

func (d *demo) enqueue(ctx context.Context, sys *system) (int64, error) {
	path, _, err := d.demoScenes()
	if err != nil {
		return 0, err
	}
	in, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r, err := jobs.NewReader(in, jobs.FormatCSV, jobs.Job{App: demoApp})
	if err != nil {
		return 0, err
	}
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(sys.rdb), jobs.EnqueueConfig{Workers: 8})
	sum, err := e.Run(ctx, r, worker.Validate, func(re *jobs.RowError) {
		fmt.Fprintf(d.stdout, "rejected before enqueue: %v\n", re)
	})
	if err != nil {
		return 0, err
	}
	if err := sys.deps.Ledger.AddEnqueued(ctx, demoApp, sum.Enqueued); err != nil {
		return 0, err
	}
	fmt.Fprintf(d.stdout, "enqueued %d jobs (%d duplicate, %d rejected) for app %s at %d/min\n",
		sum.Enqueued, sum.Duplicate, sum.Rejected, demoApp, d.opts.rate)
	return sum.Enqueued + sum.Duplicate, nil
}

// serveDashboard serves the dashboard (read-only, no auth: loopback only)
// on a free loopback port while the demo runs.
func (d *demo) serveDashboard(sys *system) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewFleet(metrics.FleetConfig{Limiter: sys.limiter, Ledger: sys.deps.Ledger, Runs: sys.deps.Runs, Apps: []string{demoApp}}))
	opt, err := d.opts.redisConnOpt()
	if err != nil {
		l.Close()
		return err
	}
	dash, err := dashboard.New(dashboard.Config{Redis: sys.rdb, AsynqRedis: opt, Limiter: sys.limiter, Runs: sys.deps.Runs, Ledger: sys.deps.Ledger,
		Store: sys.deps.Store, Apps: []string{demoApp}, TokenState: tokenState(sys.rdb), Metrics: metrics.Handler(reg)})
	if err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{Handler: dash.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	d.closers = append(d.closers, func() { srv.Close(); dash.Close() })
	fmt.Fprintf(d.stdout, "dashboard while the demo runs: http://%s/ (asynq dashboard, read-only: http://%s/asynq/)\n", l.Addr(), l.Addr())
	return nil
}

// watch shows a progress bar until every job has an outcome.
func (d *demo) watch(ctx context.Context, sys *system, total int64) error {
	start := time.Now()
	tty := isTerminal(d.stdout)
	deadline := time.After(10 * time.Minute)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		tot, err := sys.deps.Ledger.Totals(ctx, demoApp)
		if err != nil {
			return err
		}
		done := tot["stored"] + tot["skipped"] + tot["failed"]
		line := bar(done, total, float64(done)/time.Since(start).Seconds())
		if tty {
			fmt.Fprintf(d.stdout, "\r%s", line)
		} else if int(time.Since(start).Seconds())%10 == 0 || done >= total {
			fmt.Fprintln(d.stdout, line)
		}
		if done >= total {
			if tty {
				fmt.Fprintln(d.stdout)
			}
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

func (d *demo) report(ctx context.Context, sys *system, took time.Duration) error {
	fmt.Fprintf(d.stdout, "\ndone in %s. Codes are in %s/%s/\n", took.Round(time.Second), d.opts.dir, demoApp)
	insp := asynq.NewInspectorFromRedisClient(sys.rdb)
	if err := printStatus(ctx, d.stdout, sys.deps.Ledger, insp, 5); err != nil {
		return err
	}
	st := d.fake.Stats()
	tot, _ := sys.deps.Ledger.Totals(ctx, demoApp)
	calls := st.Calls[demoApp]
	if stored := tot["stored"]; stored > 0 {
		fmt.Fprintf(d.stdout, "\nWeChat interface-B calls: %d for %d stored codes (%.3f calls per code; the fake injects -1 and 502 errors)\n",
			calls, stored, float64(calls)/float64(stored))
	}
	fmt.Fprintln(d.stdout, "Run it again: every code is already stored, so no WeChat call is made (all skipped).")
	return nil
}
