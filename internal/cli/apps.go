package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/worker"
	"github.com/wxacode/wxacode/worker/appreg"
)

func init() { register(newAppsCmd) }

var (
	optTokenRedisKey = noEnv(config.String("token-redis-key", "", "Redis key another system keeps the app's access token in (e.g. platform:token:wx0123456789abcdef)"))
	optTokenURL      = noEnv(config.String("token-url", "", "URL whose GET returns the app's access token (plain or {\"access_token\":...})"))
	optTokenCommand  = noEnv(config.String("token-command", "", "command printing the app's access token, split on spaces (no shell)"))
	optAppSecretFile = noEnv(config.String("secret-file", "", "file holding the app secret on every worker (must not be readable by others); the registry keeps the path, never the secret"))
	optAppSecret     = asSecret(noEnv(config.String("secret", "", "refused: the registry never holds a secret (use --secret-file or a token source)")))
	optAppTokenMode  = noEnv(config.Choice("token-mode", "", []string{"", "stable", "client_credential"}, "stable (default) or client_credential, for --secret-file"))
	optAppRate       = withCheck(noEnv(config.Int("rate-per-minute", 0, "the app's fleet-wide cap per minute (0: the apps file's defaults, else "+fmt.Sprint(ratelimit.DefaultPerMinute)+")")), config.AtLeast(0))
	optAppWeight     = withCheck(noEnv(config.Int("weight", 0, "the app's weight against the others (0: the apps file's defaults, else 1)")), config.AtLeast(0))
	optAppForceRate  = noEnv(config.Bool("force-rate", false, "allow --rate-per-minute above 5000"))
	optAppsQuery     = noEnv(config.String("q", "", "list only apps whose appid contains this"))
)

func newAppsCmd(e *env) *cobra.Command {
	return group("apps", "Add, change, remove and list apps at run time (the app registry in Redis)",
		`apps manages the app registry: apps kept in Redis beside those of WXACODE_APPS_FILE
(or WXACODE_APPID). Workers, gen, enqueue, campaigns, the scheduler and the dashboard
see an app added, changed or removed within a few seconds, without a restart: each
process reads the registry's version counter (one GET every 2 s) and reloads the
registry only when it moved. An app of the registry wins over the apps file's app of
the same appid. The registry never holds a secret: an app gives a secret file (its
path, present on every worker) or an external token source; with none, the apps
file's defaults: template gives it. Removing an app holds its queued jobs (handed back,
not failed) until it is added again.`,
		`  wxacode apps add wx0123456789abcdef --token-redis-key platform:token:wx0123456789abcdef
  wxacode apps list --q wx01
  wxacode apps remove wx0123456789abcdef`,
		appsAddCmd(e), appsRemoveCmd(e), appsListCmd(e), appsShowCmd(e))
}

type appsAddOpts struct {
	apps               system.Apps
	cfg                worker.AppConfig
	command, secretLit string
}

func appsAddCmd(e *env) *cobra.Command {
	var o appsAddOpts
	cmd := &cobra.Command{
		Use:   "add APPID",
		Short: "Add an app to the registry, or change one (workers pick it up without a restart)",
		Long: `add writes the app to the registry with at most one token source: --token-redis-key,
--token-url, --token-command or --secret-file (a path on the workers; the secret
itself never goes into Redis, and --secret is refused). With none, the apps file's
defaults: token source is used, {appid} replaced. The app is checked as the workers
will (appid, one token source, rate) and its cap is written to the limiter at once.`,
		Example: `  wxacode apps add wx0123456789abcdef --token-redis-key platform:token:wx0123456789abcdef --rate-per-minute 3000
  wxacode apps add wx0123456789abcdef --secret-file /run/secrets/wx0123456789abcdef
  wxacode apps add wx0123456789abcdef --apps-file platform.yaml`,
		Args: exactArgs(1, "one APPID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.cfg.AppID = args[0]
			return runAppsAdd(cmd.Context(), e, &o)
		},
	}
	fs := cmd.Flags()
	appsFile.Bind(fs, &o.apps.File)
	optTokenRedisKey.Bind(fs, &o.cfg.Token.RedisKey)
	optTokenURL.Bind(fs, &o.cfg.Token.URL)
	optTokenCommand.Bind(fs, &o.command)
	optAppSecretFile.Bind(fs, &o.cfg.SecretFile)
	optAppSecret.Bind(fs, &o.secretLit)
	optAppTokenMode.Bind(fs, &o.cfg.TokenMode)
	optAppRate.Bind(fs, &o.cfg.RatePerMinute)
	optAppWeight.Bind(fs, &o.cfg.Weight)
	optAppForceRate.Bind(fs, &o.cfg.ForceRate)
	return cmd
}

func runAppsAdd(ctx context.Context, e *env, o *appsAddOpts) error {
	if o.secretLit != "" {
		return usagef("--secret: %v", appreg.ErrLiteralSecret)
	}
	o.cfg.Token.Command = strings.Fields(o.command)
	var defaults worker.AppDefaults
	if o.apps.File != "" {
		f, err := worker.LoadAppsFile(o.apps.File)
		if err != nil {
			return &system.ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
		}
		defaults = f.Defaults
	}
	eff := defaults.Apply(o.cfg)
	if err := eff.Check(); err != nil {
		if !defaults.HasTokenSource() {
			err = fmt.Errorf("%w (or give the apps file a defaults: token source)", err)
		}
		return usagef("%v", err)
	}
	rdb, err := e.redis.Open(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	reg := appreg.New(rdb, "")
	old, had, err := reg.Get(ctx, o.cfg.AppID)
	if err != nil {
		return err
	}
	v, err := reg.Put(ctx, o.cfg)
	if err != nil {
		return err
	}
	if err := ratelimit.New(rdb, ratelimit.Config{}).SetCap(ctx, eff.AppID, eff.Rate(), eff.ForceRate); err != nil {
		return err
	}
	verb := "added"
	if had && !old.Removed {
		verb = "changed"
	}
	fmt.Fprintf(e.stdout, "app %s %s (registry version %d): %s, %d/min, weight %d; running workers serve it within a few seconds\n",
		eff.AppID, verb, v, tokenShown(eff), eff.Rate(), cmp.Or(eff.Weight, 1))
	return nil
}

func appsRemoveCmd(e *env) *cobra.Command {
	var apps system.Apps
	cmd := &cobra.Command{
		Use:     "remove APPID",
		Short:   "Remove an app: its queued jobs are held (handed back, not failed) until it is added again",
		Example: `  wxacode apps remove wx0123456789abcdef`,
		Args:    exactArgs(1, "one APPID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rdb, err := e.redis.Open(ctx, 2)
			if err != nil {
				return err
			}
			defer rdb.Close()
			reg := appreg.New(rdb, "")
			e0, had, err := reg.Get(ctx, args[0])
			if err != nil {
				return err
			}
			if (!had || e0.Removed) && apps.Known(args[0]) != nil {
				return usagef("app %s is not in the app registry (wxacode apps list) nor in the configuration", args[0])
			}
			_, v, err := reg.Remove(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "app %s removed (registry version %d): its queued jobs are held, not failed, until 'wxacode apps add %s'\n", args[0], v, args[0])
			return nil
		},
	}
	appsFile.Bind(cmd.Flags(), &apps.File)
	appID.Bind(cmd.Flags(), &apps.AppID)
	return cmd
}

// appRow is one app as apps list and show print it.
type appRow struct {
	cfg     worker.AppConfig
	from    string
	removed bool
}

// appRows merges the configuration's apps with the registry's (which
// win), sorted by appid.
func appRows(ctx context.Context, rdb redis.UniversalClient, apps system.Apps) ([]appRow, error) {
	var static []worker.AppConfig
	var defaults worker.AppDefaults
	if apps.File != "" {
		f, err := worker.LoadAppsFile(apps.File)
		if err != nil {
			return nil, &system.ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
		}
		static, defaults = f.Apps, f.Defaults
	} else if apps.AppID != "" {
		static = []worker.AppConfig{{AppID: apps.AppID}}
	}
	all, _, err := appreg.New(rdb, "").All(ctx)
	if err != nil {
		return nil, err
	}
	rows := map[string]appRow{}
	for _, c := range static {
		rows[c.AppID] = appRow{cfg: c, from: "file"}
	}
	for id, en := range all {
		from := "registry"
		if _, ok := rows[id]; ok {
			from = "registry (over file)"
		}
		rows[id] = appRow{cfg: defaults.Apply(en.AppConfig), from: from, removed: en.Removed}
	}
	out := make([]appRow, 0, len(rows))
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		out = append(out, rows[id])
	}
	return out, nil
}

func appsListCmd(e *env) *cobra.Command {
	var apps system.Apps
	var q string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the apps: the configuration's and the registry's, with rate, weight and token source (never a secret)",
		Example: `  wxacode apps list
  wxacode apps list --q wx01 --apps-file platform.yaml`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rdb, err := e.redis.Open(ctx, 2)
			if err != nil {
				return err
			}
			defer rdb.Close()
			rows, err := appRows(ctx, rdb, apps)
			if err != nil {
				return err
			}
			printApps(e.stdout, rows, q)
			return nil
		},
	}
	appsFile.Bind(cmd.Flags(), &apps.File)
	appID.Bind(cmd.Flags(), &apps.AppID)
	optAppsQuery.Bind(cmd.Flags(), &q)
	return cmd
}

func printApps(w io.Writer, rows []appRow, q string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APPID\tFROM\tSTATE\tRATE/MIN\tWEIGHT\tTOKEN")
	shown, removed := 0, 0
	for _, r := range rows {
		if !strings.Contains(r.cfg.AppID, q) {
			continue
		}
		state := "active"
		if r.removed {
			state, removed = "removed", removed+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", r.cfg.AppID, r.from, state, r.cfg.Rate(), cmp.Or(r.cfg.Weight, 1), tokenShown(r.cfg))
		shown++
	}
	tw.Flush()
	fmt.Fprintf(w, "%d apps (%d removed) of %d\n", shown, removed, len(rows))
}

func appsShowCmd(e *env) *cobra.Command {
	var apps system.Apps
	cmd := &cobra.Command{
		Use:     "show APPID",
		Short:   "Show one app's settings and where they come from (never a secret)",
		Example: `  wxacode apps show wx0123456789abcdef`,
		Args:    exactArgs(1, "one APPID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rdb, err := e.redis.Open(ctx, 2)
			if err != nil {
				return err
			}
			defer rdb.Close()
			rows, err := appRows(ctx, rdb, apps)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(rows, func(r appRow) bool { return r.cfg.AppID == args[0] })
			if i < 0 {
				return usagef("app %s is not configured: apps come from %s", args[0], apps.From())
			}
			return printApp(e.stdout, rows[i])
		},
	}
	appsFile.Bind(cmd.Flags(), &apps.File)
	appID.Bind(cmd.Flags(), &apps.AppID)
	return cmd
}

func printApp(w io.Writer, r appRow) error {
	state := "active"
	if r.removed {
		state = "removed (its jobs are held until it is added again)"
	}
	_, err := fmt.Fprintf(w, "appid:           %s\nfrom:            %s\nstate:           %s\nrate_per_minute: %d\nweight:          %d\ntoken:           %s\n",
		r.cfg.AppID, r.from, state, r.cfg.Rate(), cmp.Or(r.cfg.Weight, 1), tokenShown(r.cfg))
	return err
}

// tokenShown names an app's token source, never a secret.
func tokenShown(c worker.AppConfig) string {
	switch {
	case c.Token.RedisKey != "":
		return "redis_key " + c.Token.RedisKey
	case c.Token.URL != "":
		return "url " + system.RedactURL(c.Token.URL)
	case len(c.Token.Command) > 0:
		return "command " + c.Token.Command[0]
	case c.SecretFile != "":
		return "secret_file " + c.SecretFile + " (" + cmp.Or(c.TokenMode, "stable") + ")"
	case c.Secret != "":
		return "secret (in the configuration, not shown)"
	}
	return "secret from WXACODE_SECRET / WXACODE_SECRET_FILE"
}
