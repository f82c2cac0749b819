package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/worker"
)

// campaignProvider gives asynq's PeriodicTaskManager one entry per
// scheduled campaign, read from the campaigns file at every sync, so edits
// take effect without a restart. An invalid file keeps the last good one.
type campaignProvider struct {
	path string
	log  func(msg string, args ...any)
	last []*asynq.PeriodicTaskConfig
}

func (p *campaignProvider) GetConfigs() ([]*asynq.PeriodicTaskConfig, error) {
	f, err := campaign.Load(p.path)
	if err != nil {
		p.log("campaigns file invalid: keeping the previous schedule", "err", err)
		return p.last, nil
	}
	var out []*asynq.PeriodicTaskConfig
	for _, d := range f.Campaigns {
		if d.CronSpec() == "" {
			continue
		}
		task, err := runs.FireTask(d)
		if err != nil {
			return nil, err
		}
		out = append(out, &asynq.PeriodicTaskConfig{Cronspec: d.CronSpec(), Task: task})
	}
	p.last = out
	return out, nil
}

// runScheduler enqueues a fire task at each campaign's scheduled times.
// Several schedulers may run: the worker that handles a fire task claims
// (campaign, scheduled time) once, so a tick starts one run.
func runScheduler(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var file string
	var sync time.Duration
	fs := flagSet("scheduler", "scheduler [flags]", stderr)
	c.redisFlags(fs)
	strFlag(fs, &file, "campaigns-file", "campaigns.yaml", "YAML file of campaign definitions (re-read at every sync)")
	durFlag(fs, &sync, "sync-interval", 30*time.Second, "how often the campaigns file is re-read")
	var metricsListen string
	strFlag(fs, &metricsListen, "metrics-listen", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. :9090 (off if empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	if metricsListen != "" {
		if err := serveSchedulerOps(ctx, metricsListen, &c, log); err != nil {
			return err
		}
	}
	if _, err := campaign.Load(file); err != nil {
		return err
	}
	opt, err := c.redisConnOpt()
	if err != nil {
		return err
	}
	m, err := asynq.NewPeriodicTaskManager(asynq.PeriodicTaskManagerOpts{
		RedisConnOpt:               opt,
		PeriodicTaskConfigProvider: &campaignProvider{path: file, log: log.Warn},
		SyncInterval:               sync,
		SchedulerOpts:              &asynq.SchedulerOpts{Logger: worker.AsynqLogger(log), LogLevel: asynq.WarnLevel},
	})
	if err != nil {
		return err
	}
	if err := m.Start(); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	log.Info("scheduler started", "campaigns_file", file)
	<-ctx.Done()
	m.Shutdown()
	return nil
}

// serveSchedulerOps serves the scheduler's /metrics (Go runtime and
// process), /healthz and /readyz (Redis reachable) until ctx ends.
func serveSchedulerOps(ctx context.Context, addr string, c *common, log *slog.Logger) error {
	rdb, err := c.openRedis(ctx, 2)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { rdb.Close() })
	bound, err := serveOps(ctx, addr, metrics.Handler(metrics.NewRegistry()), rdb, log)
	if err != nil {
		return err
	}
	log.Info("metrics served", "url", "http://"+bound+"/metrics")
	return nil
}
