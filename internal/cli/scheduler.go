package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/worker"
)

func init() { register(newSchedulerCmd) }

type schedulerOpts struct {
	file, metricsListen string
	sync                time.Duration
	http                httpserver.Config
}

func newSchedulerCmd(e *env) *cobra.Command {
	var o schedulerOpts
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Fire scheduled campaigns (safe to run more than one)",
		Long: `scheduler enqueues a fire task at each scheduled time of each campaign of the
campaigns file, which it re-reads every --sync-interval (an invalid file keeps the
last good schedule). Several schedulers may run: the worker that handles a fire task
claims (campaign, scheduled time) once, so a tick starts one run.`,
		Example: `  wxacode scheduler --campaigns-file /etc/wxacode/campaigns.yaml
  wxacode scheduler --metrics-listen :9091`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runScheduler(cmd.Context(), e, &o) },
	}
	fs := cmd.Flags()
	campaignsFile.Bind(fs, &o.file)
	syncInterval.Bind(fs, &o.sync)
	metricsListen.Bind(fs, &o.metricsListen)
	httpSettings(fs, &o.http, httpserver.DefaultMaxConnsPerClient)
	return cmd
}

func runScheduler(ctx context.Context, e *env, o *schedulerOpts) error {
	log, err := e.logger()
	if err != nil {
		return err
	}
	if _, err := campaign.Load(o.file); err != nil {
		return &system.ConfigError{Setting: "--campaigns-file (WXACODE_CAMPAIGNS_FILE)", Err: err}
	}
	opt, err := e.redis.ConnOpt()
	if err != nil {
		return err
	}
	if o.metricsListen != "" {
		if err := serveSchedulerOps(ctx, o.metricsListen, o.http, e.redis, log); err != nil {
			return err
		}
	}
	m, err := asynq.NewPeriodicTaskManager(asynq.PeriodicTaskManagerOpts{
		RedisConnOpt:               opt,
		PeriodicTaskConfigProvider: &runs.Schedule{Path: o.file, Log: log.Warn},
		SyncInterval:               o.sync,
		SchedulerOpts:              &asynq.SchedulerOpts{Logger: worker.AsynqLogger(log), LogLevel: asynq.WarnLevel},
	})
	if err != nil {
		return err
	}
	if err := m.Start(); err != nil {
		return fmt.Errorf("starting the scheduler: %w", err)
	}
	log.Info("scheduler started", "campaigns_file", o.file)
	<-ctx.Done()
	m.Shutdown()
	return nil
}

// serveSchedulerOps serves the scheduler's /metrics (Go runtime and
// process), /healthz and /readyz (Redis reachable) until ctx ends.
func serveSchedulerOps(ctx context.Context, addr string, hc httpserver.Config, r system.Redis, log *slog.Logger) error {
	rdb, err := r.Open(ctx, 2)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { rdb.Close() })
	bound, err := serveOps(ctx, addr, hc, metrics.Handler(metrics.NewRegistry()), rdb, log)
	if err != nil {
		return err
	}
	log.Info("metrics served", "url", "http://"+bound+"/metrics")
	return nil
}
