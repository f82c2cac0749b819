package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/dashboard"
	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/scenes"
	"github.com/wxacode/wxacode/worker"
	"github.com/wxacode/wxacode/worker/appreg"
)

func init() { register(newDashboardCmd) }

type dashboardOpts struct {
	apps               system.Apps
	storage            system.Storage
	scenes             system.Scenes
	listen             string
	writable, insecure bool
	auth               dashboard.Auth
	serveScenes        bool
	http               httpserver.Config
	redisTimeout       time.Duration
}

func newDashboardCmd(e *env) *cobra.Command {
	var o dashboardOpts
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve the campaign and app page, the JSON API, the asynq dashboard and /metrics",
		Long: `dashboard serves the app and campaign page (/), its JSON under /api/, the asynq
dashboard under /asynq/ (read-only unless --writable), /metrics, /healthz and /readyz.
Everything but the health checks needs --dashboard-token (bearer) or
--dashboard-user and --dashboard-password (basic auth); a non-loopback address is
refused without them unless --insecure-no-auth. At start it checks that Redis answers
(its data is all there): if not, it stops with the cause (exit 1; 2 for a malformed
setting).`,
		Example: `  WXACODE_DASHBOARD_TOKEN=$(openssl rand -hex 24) wxacode dashboard --listen 0.0.0.0:8080
  wxacode dashboard --serve-scenes`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveDashboard(cmd.Context(), e, &o, func(addr string) {
				fmt.Fprintf(e.stdout, "dashboard on http://%s/ (asynq at /asynq/, metrics at /metrics)\n", addr)
			})
		},
	}
	fs := cmd.Flags()
	storageSettings(fs, &o.storage)
	appsFile.Bind(fs, &o.apps.File)
	appID.Bind(fs, &o.apps.AppID)
	dashListen.Bind(fs, &o.listen)
	writable.Bind(fs, &o.writable)
	insecure.Bind(fs, &o.insecure)
	dashToken.Bind(fs, &o.auth.BearerToken)
	dashUser.Bind(fs, &o.auth.User)
	dashPass.Bind(fs, &o.auth.Password)
	sceneServe.Bind(fs, &o.serveScenes)
	sceneSettings(fs, &o.scenes)
	httpSettings(fs, &o.http, httpserver.DefaultMaxConnsPerClient)
	redisTimeout.Bind(fs, &o.redisTimeout)
	return cmd
}

// serveDashboard builds and serves the dashboard; ready gets the bound
// address. It refuses a non-loopback address without authentication
// unless --insecure-no-auth.
func serveDashboard(ctx context.Context, e *env, o *dashboardOpts, ready func(addr string)) error {
	if err := dashboard.CheckListen(o.listen, o.auth, o.insecure); err != nil {
		return usagef("%v", err)
	}
	log, err := e.logger()
	if err != nil {
		return err
	}
	restore := system.QuietRedis(log) // the preflight says what Redis did
	row, rdb := system.RedisCheck(ctx, e.redis, 8)
	restore()
	if rdb == nil { // the dashboard's data is all in Redis
		log.Error("preflight failed", "check", row.Check, "target", row.Target, "cause", row.Detail, "advice", row.Advice)
		return preflight.Report{row}.Err()
	}
	defer rdb.Close()
	srv, err := o.build(ctx, e, rdb, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	if o.writable {
		log.Warn("dashboard is writable: bulk actions (delete/archive/run all) on queues of millions of tasks block Redis for seconds and can orphan tasks; never delete asynq keys by hand")
	}
	return listenAndServe(ctx, "listen", o.listen, o.http, srv.Handler(), log, ready)
}

func (o *dashboardOpts) build(ctx context.Context, e *env, rdb redis.UniversalClient, log *slog.Logger) (*dashboard.Server, error) {
	store, _, err := o.storage.Open(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := o.apps.Names()
	if err != nil {
		return nil, err
	}
	registered, err := registryNames(ctx, rdb, o.apps, log)
	if err != nil {
		return nil, err
	}
	lim := ratelimit.New(rdb, ratelimit.Config{Logger: log})
	led, rs := jobs.NewLedger(rdb, ""), runs.NewStore(rdb, "")
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewFleet(metrics.FleetConfig{Limiter: lim, Ledger: led, Runs: rs, Apps: apps}))
	reg.MustRegister(metrics.Queues(asynq.NewInspectorFromRedisClient(rdb)))
	reg.MustRegister(metrics.Holds(apphold.New(rdb, apphold.Config{})))
	opt, err := e.redis.ConnOpt()
	if err != nil {
		return nil, err
	}
	extra := map[string]http.Handler{}
	if o.serveScenes {
		st, err := o.scenes.Open(rdb)
		if err != nil {
			return nil, err
		}
		extra["/s/"] = scenes.Handler(st, scenes.HandlerConfig{Logger: log, RedisTimeout: o.redisTimeout})
	}
	return dashboard.New(dashboard.Config{Extra: extra,
		Redis: rdb, AsynqRedis: opt, Limiter: lim, Runs: rs, Ledger: led, Store: store, Apps: apps, AppNames: registered,
		TokenState: system.TokenState(rdb), ACUsed: system.ACUsed(rdb), LiveWorkers: jobs.NewServing(rdb, "").Live, Workers: jobs.NewServing(rdb, "").Workers, Auth: o.auth, Writable: o.writable, Metrics: metrics.Handler(reg), Logger: log,
	})
}

// registryNames lists the app registry's apps for the dashboard, reading
// the registry again only when its version moved (one GET a refresh).
func registryNames(ctx context.Context, rdb redis.UniversalClient, apps system.Apps, log *slog.Logger) (func(context.Context) ([]string, error), error) {
	var defaults worker.AppDefaults
	if apps.File != "" {
		f, err := worker.LoadAppsFile(apps.File)
		if err != nil {
			return nil, &system.ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
		}
		defaults = f.Defaults
	}
	set := appreg.NewSet(appreg.SetConfig{Registry: appreg.New(rdb, ""), Defaults: defaults, Log: log,
		Build: func(context.Context, worker.AppConfig) (worker.App, error) {
			return worker.App{}, errors.New("dashboard: builds no app")
		}})
	if _, err := set.Refresh(ctx); err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]string, error) {
		_, err := set.Refresh(ctx)
		return set.Names(), err
	}, nil
}
