package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/worker"
)

type workerOpts struct {
	common
	concurrency     int
	shutdownTimeout time.Duration
	maxHold         time.Duration
	maxAttempts     int
	storageOutage   time.Duration
	force           bool
	metricsListen   string
	checkQuota      bool
	capFromQuota    float64
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o workerOpts
	fs := flagSet("worker", "worker [flags]", stderr)
	o.redisFlags(fs)
	o.appFlags(fs)
	o.storageFlags(fs)
	o.wechatFlags(fs)
	o.scene.flags(fs)
	intFlag(fs, &o.concurrency, "concurrency", 100, "jobs in flight in this process (about rate/s x p99 latency per app)")
	durFlag(fs, &o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long jobs in flight may finish before they go back to the queue")
	durFlag(fs, &o.maxHold, "max-hold", 2*time.Second, "longest a job holds a slot waiting for its app's rate budget before it is handed back")
	intFlag(fs, &o.maxAttempts, "max-attempts", 8, "tries for transient errors before a recorded final failure")
	durFlag(fs, &o.storageOutage, "storage-outage-limit", time.Hour, "while storage is unreachable, jobs wait without using up tries for this long; then storage errors count as tries (negative: never)")
	boolFlag(fs, &o.force, "force", false, "regenerate codes whose objects already exist")
	boolFlag(fs, &o.checkQuota, "check-quota", true, "at start, ask WeChat for each app's interface B quota and rate limit and log them")
	fs.Float64Var(&o.capFromQuota, "cap-from-quota", 0, "at start, set each app's cap to this fraction of the rate limit WeChat reports, e.g. 0.96 (0: keep the configured cap)")
	strFlag(fs, &o.metricsListen, "metrics-listen", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. :9090 (off if empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sys, err := buildSystem(ctx, &o.common, o.concurrency+16, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	if o.metricsListen != "" {
		addr, err := serveOps(ctx, o.metricsListen, metrics.Handler(sys.reg), sys.rdb, sys.log)
		if err != nil {
			return err
		}
		sys.log.Info("metrics served", "url", "http://"+addr+"/metrics")
	}
	if o.checkQuota || o.capFromQuota > 0 {
		checkQuotas(ctx, sys, o.capFromQuota)
	}
	cfg := worker.Config{Concurrency: o.concurrency, ShutdownTimeout: o.shutdownTimeout, MaxHold: o.maxHold,
		MaxAttempts: o.maxAttempts, StorageOutageLimit: o.storageOutage, Force: o.force, PNG: o.png}
	return serveWorker(ctx, sys, cfg)
}

// serveWorker runs the asynq server until ctx ends (SIGINT/SIGTERM), then
// stops taking jobs and lets those in flight finish within the shutdown
// timeout; unfinished ones go back to the queue, nothing is lost.
func serveWorker(ctx context.Context, sys *system, cfg worker.Config) error {
	h, err := worker.NewHandler(sys.deps, cfg)
	if err != nil {
		return err
	}
	srv := worker.NewServer(h)
	if err := srv.Start(h.Mux()); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	apps := make([]string, 0, len(sys.deps.Apps))
	for _, a := range sys.deps.Apps {
		apps = append(apps, a.AppID)
	}
	sys.log.Info("worker started", "apps", apps, "concurrency", cfg.Concurrency)
	<-ctx.Done()
	sys.log.Info("worker stopping: finishing jobs in flight")
	if sys.deps.Feeder != nil {
		sys.deps.Feeder.Stop() // feeders hand their runs back at once
	}
	srv.Shutdown()
	sys.log.Info("worker stopped")
	return nil
}

// checkQuotas logs each app's quota as WeChat reports it (and sets caps
// from it when asked), in the background: a slow or failing lookup never
// delays the worker.
func checkQuotas(ctx context.Context, sys *system, fraction float64) {
	for _, a := range sys.deps.Apps {
		go func() {
			qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			r, err := worker.CheckQuota(qctx, sys.deps.Client, sys.limiter, a, fraction)
			worker.LogQuota(sys.log, r, err)
		}()
	}
}
