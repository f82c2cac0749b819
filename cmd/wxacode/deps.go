package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

// appConfigs returns the configured apps: WXACODE_APPS_FILE, or the one app
// of WXACODE_APPID with its secret and rate.
func (c *common) appConfigs() ([]worker.AppConfig, error) {
	if c.appsFile != "" {
		if c.appID != "" {
			return nil, errors.New("give either --apps-file or --appid, not both")
		}
		return worker.LoadApps(c.appsFile)
	}
	if c.appID == "" {
		return nil, errors.New("no app configured: set WXACODE_APPID and WXACODE_SECRET_FILE (or WXACODE_APPS_FILE)")
	}
	a := worker.AppConfig{AppID: c.appID, Secret: c.secret, SecretFile: c.secretFile, RatePerMinute: c.rate, ForceRate: c.forceRate}
	if err := a.Check(); err != nil {
		return nil, err
	}
	return []worker.AppConfig{a}, nil
}

// system is everything a worker (or gen) needs, built from settings.
type system struct {
	rdb     redis.UniversalClient
	deps    worker.Deps
	limiter *ratelimit.Limiter
	log     *slog.Logger
	// reg holds this process's series (the worker's, Go runtime, process).
	reg *prometheus.Registry
}

func (s *system) Close() error {
	if s.rdb != nil {
		return s.rdb.Close()
	}
	return nil
}

// buildSystem connects Redis and storage, builds the WeChat client, the
// limiter (with each app's cap written to Redis), and every app's token
// source. poolSize sizes the Redis pool.
func buildSystem(ctx context.Context, c *common, poolSize int, logw io.Writer) (*system, error) {
	log, err := newLogger(logw, c.logLevel, c.logFormat)
	if err != nil {
		return nil, err
	}
	apps, err := c.appConfigs()
	if err != nil {
		return nil, err
	}
	rdb, err := c.openRedis(ctx, poolSize)
	if err != nil {
		return nil, err
	}
	s := &system{rdb: rdb, log: log, reg: metrics.NewRegistry()}
	if err := s.wire(ctx, c, apps); err != nil {
		rdb.Close()
		return nil, err
	}
	return s, nil
}

func (s *system) wire(ctx context.Context, c *common, apps []worker.AppConfig) error {
	store, err := storage.Open(ctx, c.storageURL, storage.Options{S3PathStyle: c.s3Path})
	if err != nil {
		return fmt.Errorf("WXACODE_STORAGE_URL: %w", err)
	}
	keys, err := storage.ParseKeyTemplate(cmpStr(c.keyTmpl, storage.DefaultKeyTemplate))
	if err != nil {
		return fmt.Errorf("WXACODE_KEY_TEMPLATE: %w", err)
	}
	m, err := metrics.NewWorker(s.reg)
	if err != nil {
		return err
	}
	client := wechat.NewClient(wechat.Config{BaseURL: c.baseURL, Logger: s.log, OnTokenFetch: m.TokenFetch})
	s.limiter = ratelimit.New(s.rdb, ratelimit.Config{Logger: s.log})
	s.deps = worker.Deps{Redis: s.rdb, Client: client, Limiter: s.limiter, Store: store,
		Ledger: jobs.NewLedger(s.rdb, ""), Keys: keys, Logger: s.log, Runs: runs.NewStore(s.rdb, ""), Metrics: m}
	s.deps.Feeder = &runs.Feeder{Runs: s.deps.Runs, Client: asynq.NewClientFromRedisClient(s.rdb),
		Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}), Store: store, KeyOf: worker.KeyOf(keys, c.png),
		Validate: worker.Validate, Log: s.log, OnStart: s.setShare}
	scenes, err := c.scene.open(s.rdb)
	if err != nil {
		return err
	}
	s.deps.Feeder.Scenes = issuer(scenes)
	for _, a := range apps {
		ts, err := a.TokenSource(client, s.rdb)
		if err != nil {
			return err
		}
		if err := s.limiter.SetCap(ctx, a.AppID, a.Rate(), a.ForceRate); err != nil {
			return err
		}
		s.deps.Apps = append(s.deps.Apps, worker.App{AppID: a.AppID, Tokens: ts, Weight: a.Weight})
	}
	return nil
}

// setShare caps a campaign whose rate_share is below 1 at that share of its
// app's current cap (its jobs take from both budgets).
func (s *system) setShare(ctx context.Context, def campaign.Definition) error {
	share := def.RateShareOrDefault()
	if share >= 1 {
		return nil
	}
	st, err := s.limiter.State(ctx, def.App)
	if err != nil {
		return err
	}
	return s.limiter.SetCap(ctx, jobs.BudgetKey(def.App, def.Name), max(1, int(float64(st.CapPerMinute)*share)), false)
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
