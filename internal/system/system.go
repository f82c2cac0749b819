package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/dashboard"
	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/scenes"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
	"github.com/wxacode/wxacode/worker/appreg"
)

// Settings are everything a worker (or gen, or a campaign run) is built
// from.
type Settings struct {
	Redis   Redis
	Log     Log
	Apps    Apps
	Storage Storage
	Scenes  Scenes
	// WeChatBaseURL is the WeChat API root. Default "": wechat's default.
	WeChatBaseURL string
	// SourceDirs lists, comma-separated, the local directories campaigns
	// may read file:// objects from outside the store. Default "": none.
	SourceDirs string
}

// Dirs returns SourceDirs as a list.
func (st Settings) Dirs() []string { return SplitDirs(st.SourceDirs) }

// SplitDirs splits a comma-separated list of directories.
func SplitDirs(s string) []string {
	var dirs []string
	for _, d := range strings.Split(s, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// System is what a worker (or gen, or a campaign run) needs, built from
// settings. Close it when done.
type System struct {
	Redis   redis.UniversalClient
	Deps    worker.Deps
	Limiter *ratelimit.Limiter
	Log     *slog.Logger
	// Registry holds this process's series (the worker's, Go runtime,
	// process).
	Registry *prometheus.Registry

	// Apps are the apps served, following the app registry; run Apps.Run
	// to follow changes.
	Apps *appreg.Set

	apps     []worker.AppConfig // the static ones, for the preflight
	storeURL string
}

// StaticApps lists the appids of the apps file or the one-app setup (not
// the registry's), in their order.
func (s *System) StaticApps() []string {
	ids := make([]string, len(s.apps))
	for i, a := range s.apps {
		ids[i] = a.AppID
	}
	return ids
}

// Close closes the Redis connection.
func (s *System) Close() error { return s.Redis.Close() }

// Build connects Redis and storage, builds the WeChat client, the limiter
// (with each app's cap written to Redis) and every app's token source,
// logging to logw. poolSize sizes the Redis pool. Bad settings are a
// *ConfigError.
func Build(ctx context.Context, st Settings, poolSize int, logw io.Writer) (*System, error) {
	log, err := st.Log.New(logw)
	if err != nil {
		return nil, err
	}
	apps, _, err := st.Apps.static()
	if err != nil {
		return nil, err
	}
	rdb, err := st.Redis.Open(ctx, poolSize)
	if err != nil {
		return nil, err
	}
	s := &System{Redis: rdb, Log: log, Registry: metrics.NewRegistry(), apps: apps, storeURL: st.Storage.Shown()}
	if err := s.wire(ctx, st); err != nil {
		rdb.Close()
		return nil, err
	}
	return s, nil
}

func (s *System) wire(ctx context.Context, st Settings) error {
	store, keys, err := st.Storage.Open(ctx)
	var ce *ConfigError
	if err != nil && !errors.As(err, &ce) {
		// The directory cannot be created or opened: say why, as the
		// preflight would.
		return preflight.Report{preflight.StoreFailure(st.Storage.Shown(), err)}.Err()
	}
	if err != nil {
		return err
	}
	m, err := metrics.NewWorker(s.Registry)
	if err != nil {
		return err
	}
	client := wechat.NewClient(wechat.Config{BaseURL: st.WeChatBaseURL, Logger: s.Log, OnTokenFetch: m.TokenFetch})
	s.Limiter = ratelimit.New(s.Redis, ratelimit.Config{Logger: s.Log})
	s.Deps = worker.Deps{Redis: s.Redis, Client: client, Limiter: s.Limiter, Store: store,
		Ledger: jobs.NewLedger(s.Redis, ""), Keys: keys, Logger: s.Log, Runs: runs.NewStore(s.Redis, ""), Metrics: m}
	sc, err := st.Scenes.Open(s.Redis)
	if err != nil {
		return err
	}
	s.Deps.Feeder = &runs.Feeder{Runs: s.Deps.Runs, Client: asynq.NewClientFromRedisClient(s.Redis),
		Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{Pacer: worker.Pacer(s.Limiter)}), Store: store, KeyOf: worker.KeyOf(keys, st.Storage.PNG),
		Validate: worker.Validate, Log: s.Log, Scenes: Issuer(sc), OnStart: runs.RateShare(s.capOf, s.setCap), SourceDirs: st.Dirs()}
	return s.wireApps(ctx, st.Apps, client)
}

// wireApps makes the app set: the static apps' caps are written now (as
// before the registry), every token source is made on its app's first job.
// No app at all (nothing static, an empty registry) is the ConfigError of
// Apps.Configs.
func (s *System) wireApps(ctx context.Context, a Apps, client *wechat.Client) error {
	build := func(ctx context.Context, c worker.AppConfig) (worker.App, error) {
		ts, err := c.TokenSource(client, s.Redis)
		if err != nil {
			return worker.App{}, err
		}
		if err := s.Limiter.SetCap(ctx, c.AppID, c.Rate(), c.ForceRate); err != nil {
			return worker.App{}, err
		}
		return worker.App{AppID: c.AppID, Tokens: ts, Weight: c.Weight}, nil
	}
	set, err := a.Set(ctx, s.Redis, s.Log, build)
	if err != nil {
		return err
	}
	if len(set.List()) == 0 {
		if _, err := a.Configs(); err != nil {
			return err
		}
		return &ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: errors.New("no app configured: the apps file lists none and the app registry has none (wxacode apps add)")}
	}
	for _, c := range s.apps {
		if err := s.Limiter.SetCap(ctx, c.AppID, c.Rate(), c.ForceRate); err != nil {
			return err
		}
	}
	s.Apps, s.Deps.AppSet = set, set
	return nil
}

func (s *System) capOf(ctx context.Context, app string) (int, error) {
	st, err := s.Limiter.State(ctx, app)
	return st.CapPerMinute, err
}

func (s *System) setCap(ctx context.Context, key string, perMinute int) error {
	return s.Limiter.SetCap(ctx, key, perMinute, false)
}

// Preflight checks the store (a probe object written and removed) and,
// with apps, every app's token source (one stable_token call in normal
// mode per app, whatever is cached), logging each failure with its cause
// and advice. It makes no interface B call. The report's Err is nil when
// all passed.
func (s *System) Preflight(ctx context.Context, apps bool) preflight.Report {
	rep := preflight.Report{preflight.Store(ctx, s.storeURL, s.Deps.Store)}
	if apps {
		rep = append(rep, preflight.Apps(ctx, s.apps, s.Deps.Client, s.Redis)...)
	}
	for _, r := range rep.Failed() {
		s.Log.Error("preflight failed", "check", r.Check, "target", r.Target, "cause", r.Detail, "advice", r.Advice)
	}
	return rep
}

// Storage are the settings of the store.
type Storage struct {
	// URL is s3://bucket/prefix, file:///dir or a directory path (relative
	// to the working directory). Default "": storage.DefaultLocalDir.
	URL string
	// PathStyle selects path-style S3 addressing.
	PathStyle bool
	// KeyTemplate names objects. Default "": storage.DefaultKeyTemplate.
	KeyTemplate string
	// PNG stores every code as PNG.
	PNG bool
}

// LocalDir is the store's directory when it is local (absolute), "" for S3.
func (s Storage) LocalDir() string {
	u := cmpOr(s.URL, storage.DefaultLocalDir)
	if strings.HasPrefix(u, "s3://") {
		return ""
	}
	u = strings.TrimPrefix(u, "file://")
	abs, err := filepath.Abs(u)
	if err != nil {
		return ""
	}
	return abs
}

// Shown is the store's URL for messages, without credentials.
func (s Storage) Shown() string { return RedactURL(cmpOr(s.URL, storage.DefaultLocalDir)) }

// Open opens the store and parses the key template; a bad URL or template
// is a *ConfigError.
func (s Storage) Open(ctx context.Context) (storage.Store, *storage.KeyTemplate, error) {
	store, err := storage.Open(ctx, cmpOr(s.URL, storage.DefaultLocalDir), storage.Options{S3PathStyle: s.PathStyle})
	var ue *storage.URLError
	if errors.As(err, &ue) {
		return nil, nil, &ConfigError{Setting: "--storage-url (WXACODE_STORAGE_URL)", Err: err}
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), "storage: ") { // the storage package's own errors say so already
			err = fmt.Errorf("storage: %w", err)
		}
		return nil, nil, err
	}
	keys, err := storage.ParseKeyTemplate(cmpOr(s.KeyTemplate, storage.DefaultKeyTemplate))
	if err != nil {
		return nil, nil, &ConfigError{Setting: "--key-template (WXACODE_KEY_TEMPLATE)", Err: err}
	}
	return store, keys, nil
}

// Scenes are the settings of issued short scenes.
type Scenes struct {
	// Prefix starts every issued scene. Default "".
	Prefix string
	// Length is the number of base62 characters after it. Default 0:
	// scenes.DefaultLength.
	Length int
}

// Open returns the scene store on rdb; bad settings are a *ConfigError.
func (s Scenes) Open(rdb redis.UniversalClient) (*scenes.Store, error) {
	st, err := scenes.New(rdb, scenes.Config{Prefix: s.Prefix, Length: s.Length})
	if err != nil {
		return nil, &ConfigError{Setting: "--scene-prefix, --scene-length", Err: err}
	}
	return st, nil
}

// Issuer adapts a scene store for the readers and the feeder.
func Issuer(st *scenes.Store) jobs.SceneIssuer {
	return jobs.SceneIssuer{
		Check:     func(p []byte) error { _, err := scenes.Canonical(p); return err },
		IssueMany: st.IssueMany,
	}
}

// ACUsed reads each app's count of interface A+C codes sent, ever, for the
// dashboard.
func ACUsed(rdb redis.UniversalClient) func(context.Context, string) (int, error) {
	c := wechat.NewRedisACCounter(rdb, "")
	return c.Used
}

// TokenState reads each app's shared stable token state (never the token)
// for the dashboard.
func TokenState(rdb redis.UniversalClient) func(context.Context, string) (dashboard.TokenStatus, error) {
	return func(ctx context.Context, app string) (dashboard.TokenStatus, error) {
		st, err := wechat.ReadSharedTokenState(ctx, rdb, "", app)
		if err != nil || !st.Cached {
			return dashboard.TokenStatus{}, err
		}
		return dashboard.TokenStatus{Cached: true, ExpiresIn: time.Until(st.ExpiresAt)}, nil
	}
}
