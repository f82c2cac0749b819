package worker

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
)

// App is one mini-program the worker serves.
type App struct {
	AppID string
	// Tokens gives the app's access token; required.
	Tokens wechat.TokenSource
	// Weight is the app's queue weight against other apps. Default 1.
	Weight int
}

// Deps are the long-lived parts a worker joins together. All are required
// except Logger.
type Deps struct {
	Redis   redis.UniversalClient
	Client  *wechat.Client
	Limiter *ratelimit.Limiter
	Store   storage.Store
	Ledger  *jobs.Ledger
	Keys    *storage.KeyTemplate
	// Apps is a fixed set of apps, used when AppSet is nil.
	Apps []App
	// AppSet, if set, is the worker's apps, looked up for each job (the
	// app registry: apps change without a restart); Apps is then unused.
	AppSet AppSet
	Logger *slog.Logger
	// Runs is the campaign runs' ledger; nil without campaigns.
	Runs *runs.Store
	// Feeder feeds campaign runs; nil: this worker runs no feeders.
	Feeder *runs.Feeder
	// Metrics receives the worker's series; nil records none.
	Metrics *metrics.Worker
}

// Config tunes the worker. Every zero value takes the default shown.
type Config struct {
	// Concurrency is the number of jobs in flight in this process. Default
	// 100: at 80 calls/s and ~1 s worst-case latency an app needs about 80.
	Concurrency int
	// ShutdownTimeout is how long a stopping worker lets jobs in flight
	// finish before asynq puts them back in the queue. Default 30s; keep it
	// above the p99 job time (limiter hold + API call + upload).
	ShutdownTimeout time.Duration
	// MaxHold is the longest a job holds a worker slot waiting for the
	// limiter; beyond it the job is handed back to asynq as a non-failure,
	// so that one app at its cap cannot occupy every slot. Default 2s.
	MaxHold time.Duration
	// MaxWaiting is the most of this process's jobs that wait in their
	// slot for one rate budget at a time; beyond it a job that would have
	// to wait is handed back at once. Without it, an app behind its
	// schedule (a pile of due jobs) fills every slot with jobs waiting up
	// to MaxHold for its cap (80/s x 2 s is 160 slots), and the other apps'
	// jobs get none. Default Concurrency/4 (at least 1): an app's cap needs
	// only a few waiting at once.
	MaxWaiting int
	// TaskCheckInterval is how long asynq's processor sleeps (from half to
	// one and a half of it) after a poll that found every lane empty; it
	// takes no job meanwhile. Paced jobs become due one by one, so a lane
	// is often empty for a moment while an app has work: the sleep then
	// delays the jobs due during it, and rate slots nobody is there to
	// take are lost (at asynq's 1s a fleet held about 0.7 of its cap,
	// at 500ms 0.9, at 250ms all of it; BENCHMARKS.md). Each idle poll
	// costs one script per lane: 500ms keeps an idle worker near 45 Redis
	// operations a second. Default 500ms.
	TaskCheckInterval time.Duration
	// MaxAttempts bounds tries for transient errors before a recorded final
	// failure. Default 8 (with BackoffBase 2s, BackoffMax 5m: ~10 minutes).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential backoff with jitter.
	// Defaults 2s and 5m.
	BackoffBase, BackoffMax time.Duration
	// StoreAttempts is how often a put is tried within one run before the
	// image is parked in Redis for the next run. Default 3.
	StoreAttempts int
	// StorageOutageLimit bounds how long storage errors that mean the
	// store is unreachable or overloaded (storage.IsUnavailable) hand jobs
	// back as non-failures instead of using up their MaxAttempts. Once this
	// process has seen storage unavailable for longer than that without a
	// success, such errors count as transient again (tries, then a recorded
	// failure), so that a store that never comes back (a wrong endpoint)
	// ends in recorded failures. Default 1h; negative: they never count.
	StorageOutageLimit time.Duration
	// ConfigHold is how long an app with a configuration error (bad secret,
	// IP whitelist), a spent token-endpoint quota or a freshly fetched token
	// WeChat rejects too is held. Default 5m.
	ConfigHold time.Duration
	// IPRejectedDayHold is how long an app is held after the token endpoint
	// answered 89506 (an administrator rejected this IP; WeChat says retry
	// after 24 h). Default 24h.
	IPRejectedDayHold time.Duration
	// IPRejectedHourHold is the same for 89507 (retry after 1 h). Default 1h.
	IPRejectedHourHold time.Duration
	// AccountHold is how long an app is held after an account-level answer
	// of interface B (48001, 48004, 50002, 61007: every call of the app gets
	// the same). Default 0: until an operator releases it (wxacode holds
	// release APP); WeChat lifts none of these by itself.
	AccountHold time.Duration
	// HeldRetry is the longest a held app's job is handed back for before
	// it looks at the hold again, so that a release (or the hold's end) is
	// noticed within about that. Default 1m.
	HeldRetry time.Duration
	// Holds is the fleet's app holds; nil: the hash KeyPrefix+"holds" on
	// Deps.Redis, read at most every 2 s.
	Holds *apphold.Registry
	// Force regenerates codes whose objects already exist. Default false.
	Force bool
	// PNG stores every code as PNG (WeChat returns JPEG unless hyaline).
	PNG bool
	// ParkTTL is how long an unstored image is kept in Redis. Default 24h.
	ParkTTL time.Duration
	// ParkMaxBytes caps the bytes of unstored images parked in Redis per
	// app, fleet-wide: at the cap, jobs that would call WeChat are handed
	// back as non-failures until the store takes the parked ones (the cap
	// can be passed by one image per job in flight). Default
	// DefaultParkMaxBytes (256 MiB, about 5,000 codes of 50 KB); negative:
	// no cap.
	ParkMaxBytes int64
	// KeyPrefix prefixes the worker's own Redis keys. Default "wxacode:".
	KeyPrefix string
}

// DefaultParkMaxBytes is Config.ParkMaxBytes's default: 256 MiB per app.
const DefaultParkMaxBytes = 256 << 20

func (c Config) withDefaults() Config {
	c.Concurrency = cmp.Or(c.Concurrency, 100)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, 30*time.Second)
	c.MaxHold = cmp.Or(c.MaxHold, 2*time.Second)
	c.MaxWaiting = cmp.Or(c.MaxWaiting, max(1, c.Concurrency/4))
	c.TaskCheckInterval = cmp.Or(c.TaskCheckInterval, 500*time.Millisecond)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 8)
	c.BackoffBase = cmp.Or(c.BackoffBase, 2*time.Second)
	c.BackoffMax = cmp.Or(c.BackoffMax, 5*time.Minute)
	c.StoreAttempts = cmp.Or(c.StoreAttempts, 3)
	c.StorageOutageLimit = cmp.Or(c.StorageOutageLimit, time.Hour)
	c.ConfigHold = cmp.Or(c.ConfigHold, 5*time.Minute)
	c.IPRejectedDayHold = cmp.Or(c.IPRejectedDayHold, 24*time.Hour)
	c.IPRejectedHourHold = cmp.Or(c.IPRejectedHourHold, time.Hour)
	c.HeldRetry = cmp.Or(c.HeldRetry, time.Minute)
	c.ParkTTL = cmp.Or(c.ParkTTL, 24*time.Hour)
	c.ParkMaxBytes = cmp.Or(c.ParkMaxBytes, DefaultParkMaxBytes)
	c.KeyPrefix = cmp.Or(c.KeyPrefix, "wxacode:")
	return c
}

// Mux routes scene jobs to h and feed tasks to the feeder (if any).
func (h *Handler) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(jobs.TaskType, h)
	if h.deps.Feeder != nil {
		mux.Handle(runs.FeedTaskType, h.deps.Feeder)
		mux.Handle(runs.FireTaskType, asynq.HandlerFunc(h.deps.Feeder.Fire))
	}
	return mux
}

// NewServer returns the asynq server for the handler: the lanes (and
// the feed queue, and the per-app queues of an older release that still
// hold tasks, see LegacyQueues), our retry policy, and a ledger record for
// tasks asynq itself gives up on. Start it with Start(h.Mux()) and stop it
// with Shutdown; it does not catch signals.
func NewServer(ctx context.Context, h *Handler) *asynq.Server {
	legacy, err := LegacyQueues(ctx, h.deps.Redis)
	if err != nil {
		h.log.Warn("could not look for per-app queues of an older release: not draining them now", "err", err)
	}
	for q := range legacy {
		h.log.Info("draining a per-app queue of an older release", "queue", q)
	}
	return asynq.NewServerFromRedisClient(h.deps.Redis, h.serverConfig(Queues(legacy, h.deps.Feeder != nil)))
}

// serverConfig is NewServer's asynq configuration.
func (h *Handler) serverConfig(queues map[string]int) asynq.Config {
	cfg := h.cfg
	return asynq.Config{
		Concurrency: cfg.Concurrency,
		Queues:      queues,
		// Paced jobs become due one by one; asynq moves them to pending
		// on this tick, so it bounds how bursty due work is (MaxHold
		// should exceed it). Its cost (two scripts per queue per tick)
		// does not grow with the number of apps.
		DelayedTaskCheckInterval: ForwardInterval,
		TaskCheckInterval:        cfg.TaskCheckInterval,
		IsFailure:                IsFailure,
		RetryDelayFunc:           h.retryDelay,
		ErrorHandler:             asynq.ErrorHandlerFunc(h.onError),
		ShutdownTimeout:          cfg.ShutdownTimeout,
		Logger:                   slogAdapter{h.log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
	}
}
