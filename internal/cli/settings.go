package cli

import (
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/scenes"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

// Every setting of wxacode, declared once: flag, variable (WXACODE_ and
// the flag name unless said otherwise), default (from the package that
// owns it), help text and validation. A command binds the ones it takes.
// README's configuration table is checked against these by a test.
var (
	// Global: persistent flags of every command.
	redisURL = withShow(config.String("redis-url", system.DefaultRedisURL,
		"Redis: redis://[user:pass@]host:port/db, rediss:// for TLS, ?master_name=NAME&addr=... for Sentinel, redis-cluster://host:port?addr=host2:port for Cluster"), system.RedactURL)
	redisCAFile   = config.String("redis-ca-file", "", "PEM file of the CA that signed the Redis server's certificate (rediss:// only)")
	redisCertFile = config.String("redis-cert-file", "", "PEM client certificate for Redis TLS client auth (with --redis-key-file)")
	redisKeyFile  = config.String("redis-key-file", "", "PEM private key of --redis-cert-file (must not be readable by others)")
	logLevel      = config.Choice("log-level", system.DefaultLogLevel, system.LogLevels, "log level: debug, info, warn, error")
	logFormat     = config.Choice("log-format", system.DefaultLogFormat, system.LogFormats, "log format: auto (text on a terminal, else JSON), text, json")

	// Apps.
	appID      = config.String("appid", "", "the mini-program's appid (one-app setup)")
	secret     = asSecret(config.String("secret", "", "the app secret (prefer --secret-file); never logged"))
	secretFile = config.String("secret-file", "", "file holding the app secret (must not be readable by others)")
	ratePerMin = withCheck(config.Int("rate-per-minute", ratelimit.DefaultPerMinute,
		"interface-B calls per minute for the app, fleet-wide (WeChat allows 5000)"), config.AtLeast(1))
	forceRate = config.Bool("force-rate", false, "allow --rate-per-minute above 5000")
	appsFile  = config.String("apps-file", "", "YAML file listing many apps (appid, secret_file or token source, rate_per_minute, weight)")

	// Storage, WeChat, scenes.
	storageURL = config.String("storage-url", storage.DefaultLocalDir,
		"where codes go: s3://bucket/prefix, file:///abs/dir or a directory (relative to the working directory); S3 credentials and endpoint from the standard AWS_* environment")
	s3PathStyle = config.Bool("s3-path-style", false, "path-style S3 addressing (MinIO and most self-hosted servers)")
	keyTemplate = withCheck(config.String("key-template", storage.DefaultKeyTemplate, "object key template (see README, Keys)"), checkKeyTemplate)
	png         = config.Bool("png", false, "store every code as PNG (WeChat returns JPEG unless transparent)")
	sourceDirs  = config.String("source-dirs", "", "comma-separated local directories from which campaigns may read file:// objects outside the store (default: none)")
	baseURL     = config.String("wechat-base-url", wechat.DefaultBaseURL, "WeChat API root (point it at a wxacode fake-wechat server to try things)")
	scenePrefix = config.String("scene-prefix", "", "prefix of issued short scenes, [0-9A-Za-z] (e.g. p for posters)")
	sceneLength = withCheck(config.Int("scene-length", scenes.DefaultLength, "base62 characters after the prefix in issued scenes (prefix + length <= 32)"), config.Between(1, 32))

	// Worker.
	workerDefaults     = worker.DefaultConfig()
	concurrency        = withCheck(config.Int("concurrency", workerDefaults.Concurrency, "jobs in flight in this process (about rate/s x p99 latency per app)"), config.AtLeast(1))
	shutdownTimeout    = withCheck(config.Duration("shutdown-timeout", workerDefaults.ShutdownTimeout, "on SIGTERM, how long jobs in flight may finish before they go back to the queue"), config.Positive)
	maxHold            = withCheck(config.Duration("max-hold", workerDefaults.MaxHold, "longest a job holds a slot waiting for its app's rate budget before it is handed back"), config.Positive)
	taskCheck          = withCheck(config.Duration("task-check-interval", workerDefaults.TaskCheckInterval, "how long the worker waits before it looks again after finding no job due (from half to one and a half of it): shorter starts due jobs sooner, each look costs a Redis script per lane"), config.Positive)
	maxAttempts        = withCheck(config.Int("max-attempts", workerDefaults.MaxAttempts, "tries for transient errors before a recorded final failure"), config.AtLeast(1))
	backoffBase        = withCheck(config.Duration("backoff-base", workerDefaults.BackoffBase, "first pause before a transient error's retry; it doubles (with jitter) up to --backoff-max"), config.Positive)
	backoffMax         = withCheck(config.Duration("backoff-max", workerDefaults.BackoffMax, "longest pause between retries of a transient error"), config.Positive)
	storageOutage      = config.Duration("storage-outage-limit", workerDefaults.StorageOutageLimit, "while storage is unreachable, jobs wait without using up tries for this long; then storage errors count as tries (negative: never)")
	configHold         = withCheck(config.Duration("config-hold", workerDefaults.ConfigHold, "how long an app is held after a configuration error, a spent token-endpoint quota or a fresh token WeChat rejects too"), config.Positive)
	ipDayHold          = withCheck(config.Duration("ip-rejected-day-hold", workerDefaults.IPRejectedDayHold, "how long an app is held after the token endpoint's 89506 (an admin rejected this IP: retry after 24 h)"), config.Positive)
	ipHourHold         = withCheck(config.Duration("ip-rejected-hour-hold", workerDefaults.IPRejectedHourHold, "how long an app is held after the token endpoint's 89507 (an admin rejected this IP: retry after 1 h)"), config.Positive)
	parkMaxBytes       = withCheck(config.Bytes("park-max-bytes", workerDefaults.ParkMaxBytes, "bytes of images per app kept in Redis because the store did not take them, fleet-wide; at the cap jobs wait without calling WeChat (-1: no cap)"), config.SizeOrNoLimit)
	force              = config.Bool("force", false, "regenerate codes whose objects already exist")
	checkQuota         = config.Bool("check-quota", true, "at start, ask WeChat for each app's interface B quota and rate limit and log them")
	capFromQuota       = withCheck(config.Float("cap-from-quota", 0, "at start, set each app's cap to this fraction of the rate limit WeChat reports, e.g. 0.96 (0: keep the configured cap)"), config.Fraction)
	preflightOn        = config.Bool("preflight", true, "at start, check the store (a probe object written and removed under "+storage.ProbePrefix+") and every app's token source (one stable_token call in normal mode, even with a cached token); any failure stops the process before an interface B call (exit 2 on a configuration problem)")
	schedulerPreflight = config.Bool("preflight", true, "at start, check that Redis answers and that every scheduled campaign can run (campaign validate's runnability checks; its app configured when apps are given), exit 2 naming file, campaign and cause; when the file is re-read, leave a campaign that fails them out of the schedule with a logged error. false: neither")
	metricsListen      = config.String("metrics-listen", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. :9090 (off if empty)")
	accountHold        = withCheck(config.Duration("account-hold", workerDefaults.AccountHold, "how long an app is held after an answer about its whole account (48001, 48004, 50002, 61007); 0: until 'wxacode holds release APP'"), config.NotNegative)
	heldRetry          = withCheck(config.Duration("held-retry", workerDefaults.HeldRetry, "longest a held app's job is handed back for before it looks at the hold again (how soon a release takes effect)"), config.Positive)
	cpuProfile         = config.String("cpuprofile", "", "write a CPU profile of this process to this file until it stops, for go tool pprof (off if empty)")

	// Campaigns and the scheduler.
	campaignsFile = config.String("campaigns-file", campaign.DefaultFile, "YAML file of campaign definitions")
	syncInterval  = withCheck(config.Duration("sync-interval", runs.DefaultSyncInterval, "how often the scheduler re-reads the campaigns file"), config.Positive)

	// Dashboard and the scene resolver.
	dashListen = config.String("listen", "127.0.0.1:8080", "address to serve on; a non-loopback address needs authentication")
	writable   = config.Bool("writable", false, "let the asynq dashboard change queues (pause, delete, archive): bulk actions on million-task queues block Redis")
	insecure   = config.Bool("insecure-no-auth", false, "serve without authentication on a non-loopback address (behind your own auth proxy only)")
	dashToken  = withCheck(asSecret(config.String("dashboard-token", "", "bearer token required on every page but health checks, 16 characters or more (prefer the environment)")), credential)
	dashUser   = config.String("dashboard-user", "", "basic-auth user (with --dashboard-password)")
	dashPass   = withCheck(asSecret(config.String("dashboard-password", "", "basic-auth password, 16 characters or more (prefer the environment)")), credential)
	sceneServe = config.Bool("serve-scenes", false, "also serve the public scene resolver GET /s/{scene} (no auth, rate-limited per client)")

	scenesListen  = config.String("listen", "127.0.0.1:8081", "address of the public resolver GET /s/{scene}")
	resolverDef   = scenes.DefaultHandlerConfig()
	resolverRate  = withCheck(noEnv(config.Float("rate", resolverDef.RatePerSecond, "requests per second allowed per client (0: no limit)")), config.AtLeastFloat(0))
	resolverBurst = withCheck(noEnv(config.Int("burst", resolverDef.Burst, "requests a client may make at once")), config.AtLeast(1))
	trustProxy    = noEnv(config.Bool("trust-proxy", false, "rate-limit by the last X-Forwarded-For entry (only behind one reverse proxy that sets it)"))

	// Every HTTP server the binary starts (see internal/httpserver).
	httpDef          = httpserver.DefaultConfig()
	httpReadHeader   = withCheck(config.Duration("http-read-header-timeout", httpDef.ReadHeaderTimeout, "longest a client may take to send a request's headers"), config.Positive)
	httpRead         = withCheck(config.Duration("http-read-timeout", httpDef.ReadTimeout, "longest a client may take to send a whole request"), config.Positive)
	httpWrite        = withCheck(config.Duration("http-write-timeout", httpDef.WriteTimeout, "longest a response may take to write"), config.Positive)
	httpIdle         = withCheck(config.Duration("http-idle-timeout", httpDef.IdleTimeout, "an idle keep-alive connection is closed after this"), config.Positive)
	httpMaxHeader    = withCheck(config.Int("http-max-header-bytes", httpDef.MaxHeaderBytes, "largest request header accepted (larger: 431)"), config.AtLeast(1))
	httpMaxConns     = withCheck(config.Int("http-max-conns", 0, "connections open at once; beyond it new ones get 503 and are closed (0: 4096, or the descriptor limit less 256 if lower; -1: no cap)"), config.AtLeast(-1))
	httpMaxPerClient = withCheck(config.Int("http-max-conns-per-client", httpDef.MaxConnsPerClient, "connections one client address (IPv6: one /64) holds at once; beyond it new ones get 503 and are closed (-1: no cap; not applied with --trust-proxy)"), config.AtLeast(-1))
	redisTimeout     = withCheck(config.Duration("redis-timeout", scenes.DefaultHandlerConfig().RedisTimeout, "longest a request waits for Redis before it is answered 503 with Retry-After"), config.Positive)

	// Enqueue.
	enqueueWorkers = withCheck(config.Int("enqueue-workers", jobs.DefaultEnqueueConfig().Workers, "parallel enqueuers (the Redis pool is sized to match)"), config.AtLeast(1))

	// gen.
	acBudget = withCheck(config.Int("ac-budget", 0, "the app's interface A+C budget for life, counted in Redis by every wxacode process and never reset (0 refuses A and C; with --no-limiter: this command's own)"), config.AtLeast(0))

	// healthcheck.
	healthTimeout = withCheck(config.Duration("timeout", 5*time.Second, "how long to wait for the answer"), config.Positive)
)

// credential refuses a dashboard token or password that was set but is
// blank (whitespace is trimmed): an operator who set one meant to have
// authentication. Length is checked by dashboard.Auth.Check.
func credential(s string) error {
	if s == "" {
		return errors.New("set but blank: unset it, or use at least 16 random characters, e.g. $(openssl rand -hex 32)")
	}
	return nil
}

func withShow[T any](s config.Spec[T], show func(string) string) config.Spec[T] {
	s.Show = show
	return s
}

func withCheck[T any](s config.Spec[T], check func(T) error) config.Spec[T] {
	s.Check = check
	return s
}

func withShorthand[T any](s config.Spec[T], short string) config.Spec[T] {
	s.Shorthand = short
	return s
}

func asSecret[T any](s config.Spec[T]) config.Spec[T] {
	s.Secret = true
	return s
}

func noEnv[T any](s config.Spec[T]) config.Spec[T] {
	s.Env = config.NoEnv
	return s
}

func checkKeyTemplate(s string) error {
	if _, err := storage.ParseKeyTemplate(s); err != nil {
		return errors.New("want a valid template: " + err.Error())
	}
	return nil
}

// appSettings binds the settings that name the apps.
func appSettings(fs *pflag.FlagSet, a *system.Apps) {
	appID.Bind(fs, &a.AppID)
	secret.Bind(fs, &a.Secret)
	secretFile.Bind(fs, &a.SecretFile)
	ratePerMin.Bind(fs, &a.Rate)
	forceRate.Bind(fs, &a.ForceRate)
	appsFile.Bind(fs, &a.File)
}

// storageSettings binds the settings of the store.
func storageSettings(fs *pflag.FlagSet, s *system.Storage) {
	storageURL.Bind(fs, &s.URL)
	s3PathStyle.Bind(fs, &s.PathStyle)
	keyTemplate.Bind(fs, &s.KeyTemplate)
	png.Bind(fs, &s.PNG)
}

// httpSettings binds the settings of the HTTP servers a command starts;
// perClient is the command's default per-client connection cap.
func httpSettings(fs *pflag.FlagSet, c *httpserver.Config, perClient int) {
	httpReadHeader.Bind(fs, &c.ReadHeaderTimeout)
	httpRead.Bind(fs, &c.ReadTimeout)
	httpWrite.Bind(fs, &c.WriteTimeout)
	httpIdle.Bind(fs, &c.IdleTimeout)
	httpMaxHeader.Bind(fs, &c.MaxHeaderBytes)
	httpMaxConns.Bind(fs, &c.MaxConns)
	per := httpMaxPerClient
	per.Default = perClient
	per.Bind(fs, &c.MaxConnsPerClient)
}

// sceneSettings binds the settings of issued short scenes.
func sceneSettings(fs *pflag.FlagSet, s *system.Scenes) {
	scenePrefix.Bind(fs, &s.Prefix)
	sceneLength.Bind(fs, &s.Length)
}

// systemSettings binds everything a worker-like command builds its
// system from (the global Redis and log settings are bound on the root).
func systemSettings(fs *pflag.FlagSet, s *system.Settings) {
	appSettings(fs, &s.Apps)
	storageSettings(fs, &s.Storage)
	sceneSettings(fs, &s.Scenes)
	baseURL.Bind(fs, &s.WeChatBaseURL)
	sourceDirs.Bind(fs, &s.SourceDirs)
}
