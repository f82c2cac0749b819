package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
)

// Config describes a dashboard. Only Redis is required.
type Config struct {
	// Redis is where asynq, the limiter, the ledger and the runs live.
	// Required.
	Redis redis.UniversalClient
	// AsynqRedis is how asynqmon opens its own connections (it takes a
	// connection option, not a client, and closes what it opens). Nil:
	// derived from Redis when it is a *redis.Client or *redis.ClusterClient;
	// a Sentinel (failover) client needs asynq.RedisFailoverClientOpt here,
	// and New fails without it.
	AsynqRedis asynq.RedisConnOpt
	// Limiter reads each app's cap, rate and cooldowns. Nil: a Limiter on
	// Redis with the default key prefix.
	Limiter *ratelimit.Limiter
	// Runs holds the campaign runs. Nil: runs.NewStore(Redis, "").
	Runs *runs.Store
	// Ledger holds per-app outcome totals. Nil: jobs.NewLedger(Redis, "").
	Ledger *jobs.Ledger
	// Store names manifest and failures files and is pinged by /readyz.
	// Nil: /readyz checks Redis only and files are shown by key.
	Store storage.Store
	// Apps are the configured apps; the page shows them merged with the
	// apps the ledger has seen and the apps of the listed runs.
	Apps []string
	// AppNames, if set, lists more configured apps each time the page is
	// read (the app registry). Nil: Apps only.
	AppNames func(ctx context.Context) ([]string, error)
	// TokenState reports an app's access token by state (never the token).
	// Nil: no token column.
	TokenState func(ctx context.Context, app string) (TokenStatus, error)
	// ACUsed reports how many interface A+C codes were sent for an app,
	// ever (WeChat allows 100,000 per account). Nil: no A+C column.
	ACUsed func(ctx context.Context, app string) (int, error)
	// LiveWorkers counts the live workers serving an app (their
	// heartbeats, jobs.Serving). Nil: not shown.
	LiveWorkers func(ctx context.Context, app string) (int64, error)
	// Workers lists the live workers' own states (jobs.Serving.Workers),
	// from which the page shows the stores they hold. Nil: not shown.
	Workers func(ctx context.Context) ([]jobs.WorkerState, error)
	// Holds is the fleet's app holds. Nil: apphold.New(Redis, default key).
	Holds *apphold.Registry
	// Auth protects everything but /healthz, /readyz and Extra. The zero
	// value serves openly: callers decide whether that is allowed
	// (CheckListen).
	Auth Auth
	// Writable lets asynqmon change queues (pause, delete, run, archive).
	// False (the default): its mutating API answers 405.
	Writable bool
	// Metrics is served at /metrics behind auth. Nil: 404.
	Metrics http.Handler
	// Extra handlers are mounted on the given patterns (net/http.ServeMux
	// syntax, e.g. "/s/") without auth, like /healthz. New fails if a
	// pattern conflicts with the dashboard's own routes.
	Extra map[string]http.Handler
	// Refresh is how often the page reloads itself. Zero or negative: 5s.
	Refresh time.Duration
	// Failures is how many of the latest failures are shown per run. Zero
	// or negative: 10.
	Failures int
	// MaxRuns is how many runs (newest first) the page and /api/runs show.
	// Zero or negative: 20.
	MaxRuns int
	// Timeout bounds the Redis reads behind one page or API answer. Zero
	// or negative: 10s.
	Timeout time.Duration
	// ReadyTimeout bounds each check of /readyz. Zero or negative: 2s.
	ReadyTimeout time.Duration
	// Logger receives request failures. Nil: slog.Default().
	Logger *slog.Logger
}

// Auth is the dashboard's credentials. Either, both or neither may be set.
type Auth struct {
	// User and Password enable HTTP basic auth; set both or neither.
	User, Password string
	// BearerToken enables "Authorization: Bearer <token>".
	BearerToken string
}

// configured reports whether any credential would be asked for.
func (a Auth) configured() bool { return a.basic() || a.BearerToken != "" }

func (a Auth) basic() bool { return a.User != "" && a.Password != "" }

// TokenStatus is what the page shows of an app's access token: whether one
// is cached, how long it has left, and why the last fetch failed.
type TokenStatus struct {
	Cached    bool
	ExpiresIn time.Duration
	Error     string
}

// tokenJSON is TokenStatus on the wire, its lifetime in seconds.
type tokenJSON struct {
	Cached    bool    `json:"cached"`
	ExpiresIn float64 `json:"expires_in_seconds"`
	Error     string  `json:"error,omitempty"`
}

// MarshalJSON writes the lifetime in seconds.
func (t TokenStatus) MarshalJSON() ([]byte, error) {
	return json.Marshal(tokenJSON{t.Cached, t.ExpiresIn.Seconds(), t.Error})
}

// UnmarshalJSON reads what MarshalJSON writes (for clients of the API).
func (t *TokenStatus) UnmarshalJSON(b []byte) error {
	var v tokenJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = TokenStatus{Cached: v.Cached, ExpiresIn: time.Duration(v.ExpiresIn * float64(time.Second)), Error: v.Error}
	return nil
}

// ErrConfig is wrapped in every error New returns for a bad Config.
var ErrConfig = errors.New("dashboard: bad config")

func (c Config) withDefaults() Config {
	c.Refresh = cmp.Or(max(c.Refresh, 0), 5*time.Second)
	c.Failures = cmp.Or(max(c.Failures, 0), 10)
	c.MaxRuns = cmp.Or(max(c.MaxRuns, 0), 20)
	c.Timeout = cmp.Or(max(c.Timeout, 0), 10*time.Second)
	c.ReadyTimeout = cmp.Or(max(c.ReadyTimeout, 0), 2*time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Limiter == nil {
		c.Limiter = ratelimit.New(c.Redis, ratelimit.Config{Logger: c.Logger})
	}
	if c.Runs == nil {
		c.Runs = runs.NewStore(c.Redis, "")
	}
	if c.Holds == nil {
		c.Holds = apphold.New(c.Redis, apphold.Config{})
	}
	if c.Ledger == nil {
		c.Ledger = jobs.NewLedger(c.Redis, "")
	}
	return c
}
