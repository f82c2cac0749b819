package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/worker"
)

func init() { register(newWorkerCmd) }

type workerOpts struct {
	sys           system.Settings
	cfg           worker.Config
	metricsListen string
	http          httpserver.Config
	checkQuota    bool
	preflight     bool
	capFromQuota  float64
	cpuProfile    string
}

func newWorkerCmd(e *env) *cobra.Command {
	var o workerOpts
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run jobs: limiter, token, interface B, storage, ledger",
		Long: `worker is the asynq server. For each job it skips the code if its object already
exists with the same parameters (no WeChat call; --force regenerates), waits on the
fleet-wide limiter, gets the shared token, calls interface B, stores the image and
records the outcome. It also feeds campaign runs. On SIGTERM it stops taking jobs,
lets those in flight finish within --shutdown-timeout and puts the rest back.

Before taking any job it checks the store (a probe object written and removed) and
every app's token source (one stable_token call in normal mode, so a wrong secret
shows even when a token is cached); a failure stops it, naming the store or app, the
cause and what to do (exit 2 for a configuration problem). See 'wxacode doctor'.

With no --storage-url the codes go to ./` + storage.DefaultLocalDir + ` under the working directory.`,
		Example: `  WXACODE_APPID=wx0123456789abcdef WXACODE_SECRET_FILE=/run/secrets/wx wxacode worker
  wxacode worker --apps-file apps.yaml --concurrency 200 --metrics-listen :9090`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.sys.Redis, o.sys.Log = e.redis, e.log
			return runWorker(cmd.Context(), &o, e)
		},
	}
	fs := cmd.Flags()
	systemSettings(fs, &o.sys)
	concurrency.Bind(fs, &o.cfg.Concurrency)
	shutdownTimeout.Bind(fs, &o.cfg.ShutdownTimeout)
	maxHold.Bind(fs, &o.cfg.MaxHold)
	taskCheck.Bind(fs, &o.cfg.TaskCheckInterval)
	maxAttempts.Bind(fs, &o.cfg.MaxAttempts)
	backoffBase.Bind(fs, &o.cfg.BackoffBase)
	backoffMax.Bind(fs, &o.cfg.BackoffMax)
	storageOutage.Bind(fs, &o.cfg.StorageOutageLimit)
	configHold.Bind(fs, &o.cfg.ConfigHold)
	ipDayHold.Bind(fs, &o.cfg.IPRejectedDayHold)
	ipHourHold.Bind(fs, &o.cfg.IPRejectedHourHold)
	parkMaxBytes.Bind(fs, &o.cfg.ParkMaxBytes)
	accountHold.Bind(fs, &o.cfg.AccountHold)
	heldRetry.Bind(fs, &o.cfg.HeldRetry)
	force.Bind(fs, &o.cfg.Force)
	checkQuota.Bind(fs, &o.checkQuota)
	preflightOn.Bind(fs, &o.preflight)
	capFromQuota.Bind(fs, &o.capFromQuota)
	metricsListen.Bind(fs, &o.metricsListen)
	cpuProfile.Bind(fs, &o.cpuProfile)
	httpSettings(fs, &o.http, httpserver.DefaultMaxConnsPerClient)
	return cmd
}

func runWorker(ctx context.Context, o *workerOpts, e *env) error {
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	sys, err := system.Build(ctx, o.sys, o.cfg.Concurrency+16, e.stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	if o.preflight {
		if err := sys.Preflight(ctx, true).Err(); err != nil {
			return err
		}
	}
	if o.metricsListen != "" {
		addr, err := serveOps(ctx, o.metricsListen, o.http, metrics.Handler(sys.Registry), sys.Redis, sys.Log)
		if err != nil {
			return err
		}
		sys.Log.Info("metrics served", "url", "http://"+addr+"/metrics")
	}
	if o.checkQuota || o.capFromQuota > 0 {
		checkQuotas(ctx, sys, o.capFromQuota)
	}
	o.cfg.PNG = o.sys.Storage.PNG
	return serveWorker(ctx, sys, o.cfg)
}

// serveWorker runs the asynq server until ctx ends (SIGINT/SIGTERM), then
// stops taking jobs and lets those in flight finish within the shutdown
// timeout; unfinished ones go back to the queue, nothing is lost.
func serveWorker(ctx context.Context, sys *system.System, cfg worker.Config) error {
	h, err := worker.NewHandler(sys.Deps, cfg)
	if err != nil {
		return err
	}
	srv := worker.NewServer(ctx, h)
	if err := srv.Start(h.Mux()); err != nil {
		return fmt.Errorf("starting the asynq server: %w", err)
	}
	// Follow the app registry, and publish the apps served, so producers
	// can warn about work no live worker serves; the heartbeats go when the
	// worker stops.
	hbCtx, stopBeats := context.WithCancel(ctx)
	beats := make(chan struct{})
	go func() {
		defer close(beats)
		jobs.NewServing(sys.Redis, "").RunFunc(hbCtx, jobs.WorkerID(), sys.Apps.Names, func() jobs.WorkerState {
			cause, since := h.StoreHold()
			return jobs.WorkerState{StoreHeld: cause, StoreHeldSince: since}
		}, sys.Log)
	}()
	go sys.Apps.Run(hbCtx)
	defer func() { stopBeats(); <-beats }()
	sys.Log.Info("worker started", "apps", appsShown(sys.Apps.Names()), "concurrency", cfg.Concurrency)
	<-ctx.Done()
	sys.Log.Info("worker stopping: finishing jobs in flight")
	if sys.Deps.Feeder != nil {
		sys.Deps.Feeder.Stop() // feeders hand their runs back at once
	}
	srv.Shutdown()
	sys.Log.Info("worker stopped")
	return nil
}

// checkQuotas logs each app's quota as WeChat reports it (and sets caps
// from it when asked), in the background: a slow or failing lookup never
// delays the worker.
func checkQuotas(ctx context.Context, sys *system.System, fraction float64) {
	for _, id := range sys.StaticApps() {
		go func() {
			qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			a, err := sys.Apps.Lookup(qctx, id)
			if err != nil {
				sys.Log.Warn("could not check the app's quota", "app", id, "err", err)
				return
			}
			r, err := worker.CheckQuota(qctx, sys.Deps.Client, sys.Limiter, a, fraction)
			worker.LogQuota(sys.Log, r, err)
		}()
	}
}

// maxAppsShown bounds the appids named in the start line.
const maxAppsShown = 50

// appsShown is the apps for the start line: all of a few, the count and
// the first of many.
func appsShown(ids []string) any {
	if len(ids) <= maxAppsShown {
		return ids
	}
	return fmt.Sprintf("%d apps: %v ...", len(ids), ids[:maxAppsShown])
}

// startCPUProfile profiles the process into path until stop is called
// (the worker stops it on its way out, after SIGTERM).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
