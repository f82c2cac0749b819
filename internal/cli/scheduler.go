package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/preflight"
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
	preflight           bool
	apps                system.Apps
	store               system.Storage
	dirs                string
}

func newSchedulerCmd(e *env) *cobra.Command {
	var o schedulerOpts
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Fire scheduled campaigns (safe to run more than one)",
		Long: `scheduler enqueues a fire task at each scheduled time of each campaign of the
campaigns file, which it re-reads every --sync-interval (an invalid file keeps the
last good schedule). Several schedulers may run: the worker that handles a fire task
claims (campaign, scheduled time) once, so a tick starts one run.

At start it checks that Redis answers, that the campaigns file is valid, and that
each scheduled campaign can run (wxacode campaign validate's runnability checks, and
that its app is configured when WXACODE_APPID or WXACODE_APPS_FILE is given); any
failure stops it, naming the file, the campaign and the cause (exit 2 for a
configuration problem, 1 if Redis is unreachable). A campaign that stops passing
those checks when the file is re-read is left out of the schedule with a logged
error; the others keep theirs. --preflight=false skips both (for tests of sub-minute
schedules).`,
		Example: `  wxacode scheduler --campaigns-file /etc/wxacode/campaigns.yaml
  wxacode scheduler --metrics-listen :9091`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runScheduler(cmd.Context(), e, &o) },
	}
	fs := cmd.Flags()
	campaignsFile.Bind(fs, &o.file)
	syncInterval.Bind(fs, &o.sync)
	metricsListen.Bind(fs, &o.metricsListen)
	schedulerPreflight.Bind(fs, &o.preflight)
	appID.Bind(fs, &o.apps.AppID)
	appsFile.Bind(fs, &o.apps.File)
	storageURL.Bind(fs, &o.store.URL)
	sourceDirs.Bind(fs, &o.dirs)
	httpSettings(fs, &o.http, httpserver.DefaultMaxConnsPerClient)
	return cmd
}

// check returns what stops a scheduled campaign from running: Runnable's
// problems and, when apps are configured, an app they do not list.
func (o *schedulerOpts) check(d campaign.Definition) []error {
	errs := d.Runnable(time.Now(), nil, append(system.SplitDirs(o.dirs), o.store.LocalDir()))
	if o.apps.AppID != "" || o.apps.File != "" {
		if err := o.apps.Known(d.App); err != nil {
			errs = append(errs, &campaign.FieldError{Campaign: d.Name, Field: "app", Reason: err.Error()})
		}
	}
	return errs
}

// startChecks checks, before the scheduler starts: Redis answers, the apps
// setting (if any) reads, and every scheduled campaign passes check. Each
// failure is logged; the error is a *preflight.Error naming them all.
func (o *schedulerOpts) startChecks(ctx context.Context, e *env, f *campaign.File, log *slog.Logger) error {
	restore := system.QuietRedis(log) // the report says what Redis did
	row, rdb := system.RedisCheck(ctx, e.redis, 2)
	restore()
	if rdb != nil {
		rdb.Close()
	}
	rep := preflight.Report{row}
	if o.apps.AppID != "" || o.apps.File != "" {
		rep = append(rep, system.AppsCheck(o.apps))
	}
	for _, d := range f.Campaigns {
		if d.CronSpec() == "" {
			continue // fired by hand, never by the scheduler
		}
		r := preflight.Result{Check: "campaign", Target: o.file + " " + d.Name, OK: true, Detail: "runnable, schedule " + d.Schedule}
		if errs := o.check(d); len(errs) > 0 {
			r = preflight.Result{Check: "campaign", Target: o.file + " " + d.Name, Config: true, Detail: errors.Join(errs...).Error(),
				Advice: "fix the campaign, or give it no schedule (wxacode campaign validate lists every problem)"}
		}
		rep = append(rep, r)
	}
	for _, r := range rep.Failed() {
		log.Error("preflight failed", "check", r.Check, "target", r.Target, "cause", r.Detail, "advice", r.Advice)
	}
	return rep.Err()
}

func runScheduler(ctx context.Context, e *env, o *schedulerOpts) error {
	log, err := e.logger()
	if err != nil {
		return err
	}
	f, err := campaign.Load(o.file)
	if err != nil {
		return &system.ConfigError{Setting: "--campaigns-file (WXACODE_CAMPAIGNS_FILE)", Err: err}
	}
	var check func(campaign.Definition) []error
	if o.preflight {
		if err := o.startChecks(ctx, e, f, log); err != nil {
			return err
		}
		check = o.check
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
		PeriodicTaskConfigProvider: &runs.Schedule{Path: o.file, Log: log.Warn, Check: check, Error: log.Error},
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
