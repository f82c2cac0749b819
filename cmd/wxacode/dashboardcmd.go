package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/dashboard"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/scenes"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

type dashboardOpts struct {
	common
	listen             string
	writable, insecure bool
	auth               dashboard.Auth
	serveScenes        bool
}

func (o *dashboardOpts) flags(stderr io.Writer) *flag.FlagSet {
	fs := flagSet("dashboard", "dashboard [flags]", stderr)
	o.redisFlags(fs)
	o.storageFlags(fs)
	strFlag(fs, &o.appsFile, "apps-file", "", "YAML file of the apps (only their appids are used, to list them before they have jobs)")
	strFlag(fs, &o.appID, "appid", "", "the one app of a one-app setup (listed before it has jobs)")
	strFlag(fs, &o.listen, "listen", "127.0.0.1:8080", "address to serve on; a non-loopback address needs authentication")
	boolFlag(fs, &o.writable, "writable", false, "let the asynq dashboard change queues (pause, delete, archive): bulk actions on million-task queues block Redis")
	boolFlag(fs, &o.insecure, "insecure-no-auth", false, "serve without authentication on a non-loopback address (behind your own auth proxy only)")
	strFlag(fs, &o.auth.BearerToken, "dashboard-token", "", "bearer token required on every page but health checks (prefer the environment)")
	hideDefault(fs, "dashboard-token", func(string) string { return "(set)" })
	strFlag(fs, &o.auth.User, "dashboard-user", "", "basic-auth user (with --dashboard-password)")
	strFlag(fs, &o.auth.Password, "dashboard-password", "", "basic-auth password (prefer the environment)")
	hideDefault(fs, "dashboard-password", func(string) string { return "(set)" })
	boolFlag(fs, &o.serveScenes, "serve-scenes", false, "also serve the public scene resolver GET /s/{scene} (no auth, rate-limited per client)")
	o.scene.flags(fs)
	return fs
}

// runDashboard serves the campaign and app page, the JSON API, the asynq
// dashboard, /metrics and health checks until ctx ends.
func runDashboard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o dashboardOpts
	if err := o.flags(stderr).Parse(args); err != nil {
		return err
	}
	return serveDashboard(ctx, &o, stderr, func(addr string) {
		fmt.Fprintf(stdout, "dashboard on http://%s/ (asynq at /asynq/, metrics at /metrics)\n", addr)
	})
}

// serveDashboard builds and serves the dashboard; ready gets the bound
// address. It refuses a non-loopback address without authentication
// unless --insecure-no-auth.
func serveDashboard(ctx context.Context, o *dashboardOpts, logw io.Writer, ready func(addr string)) error {
	if err := dashboard.CheckListen(o.listen, o.auth, o.insecure); err != nil {
		return err
	}
	log, err := newLogger(logw, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	rdb, err := o.openRedis(ctx, 8)
	if err != nil {
		return err
	}
	defer rdb.Close()
	srv, err := o.build(ctx, rdb, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	if o.writable {
		log.Warn("dashboard is writable: bulk actions (delete/archive/run all) on queues of millions of tasks block Redis for seconds and can orphan tasks; never delete asynq keys by hand")
	}
	return listenAndServe(ctx, o.listen, srv.Handler(), log, ready)
}

func (o *dashboardOpts) build(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) (*dashboard.Server, error) {
	store, err := storage.Open(ctx, o.storageURL, storage.Options{S3PathStyle: o.s3Path})
	if err != nil {
		return nil, fmt.Errorf("WXACODE_STORAGE_URL: %w", err)
	}
	apps, err := o.appNames()
	if err != nil {
		return nil, err
	}
	lim := ratelimit.New(rdb, ratelimit.Config{Logger: log})
	led, rs := jobs.NewLedger(rdb, ""), runs.NewStore(rdb, "")
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewFleet(metrics.FleetConfig{Limiter: lim, Ledger: led, Runs: rs, Apps: apps}))
	reg.MustRegister(metrics.Queues(asynq.NewInspectorFromRedisClient(rdb)))
	opt, err := o.redisConnOpt()
	if err != nil {
		return nil, err
	}
	extra := map[string]http.Handler{}
	if o.serveScenes {
		st, err := o.scene.open(rdb)
		if err != nil {
			return nil, err
		}
		extra["/s/"] = scenes.Handler(st, scenes.HandlerConfig{Logger: log})
	}
	return dashboard.New(dashboard.Config{Extra: extra,
		Redis: rdb, AsynqRedis: opt, Limiter: lim, Runs: rs, Ledger: led, Store: store, Apps: apps,
		TokenState: tokenState(rdb), Auth: o.auth, Writable: o.writable, Metrics: metrics.Handler(reg), Logger: log,
	})
}

// appNames lists the configured apps without reading their secrets.
func (o *dashboardOpts) appNames() ([]string, error) {
	if o.appsFile == "" {
		if o.appID == "" {
			return nil, nil
		}
		return []string{o.appID}, nil
	}
	cfgs, err := worker.LoadApps(o.appsFile)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cfgs))
	for i, a := range cfgs {
		names[i] = a.AppID
	}
	return names, nil
}

// tokenState reads each app's shared stable token state (never the token).
func tokenState(rdb redis.UniversalClient) func(context.Context, string) (dashboard.TokenStatus, error) {
	return func(ctx context.Context, app string) (dashboard.TokenStatus, error) {
		st, err := wechat.ReadSharedTokenState(ctx, rdb, "", app)
		if err != nil || !st.Cached {
			return dashboard.TokenStatus{}, err
		}
		return dashboard.TokenStatus{Cached: true, ExpiresIn: time.Until(st.ExpiresAt)}, nil
	}
}

// listenAndServe serves h on addr until ctx ends, then shuts down within
// 10 s.
func listenAndServe(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready(ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
