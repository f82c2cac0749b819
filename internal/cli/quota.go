package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

func init() {
	register(newQuotaCmd)
	register(newRIDCmd)
}

var optSetCap = withCheck(noEnv(config.Float("set-cap", 0, "set the app's fleet-wide cap to this fraction of WeChat's rate limit, e.g. 0.96 (0: only print)")), config.Fraction)

// oneApp is what a one-off WeChat call needs: Redis (shared token), a
// client and one app's token source.
type oneApp struct {
	rdb    redis.UniversalClient
	client *wechat.Client
	app    worker.App
}

// oneAppOpts are the settings of a one-off WeChat call.
type oneAppOpts struct {
	apps    system.Apps
	baseURL string
	app     string
}

func (o *oneAppOpts) bind(fs *pflag.FlagSet) {
	appSettings(fs, &o.apps)
	baseURL.Bind(fs, &o.baseURL)
	optApp.Bind(fs, &o.app)
}

// open connects Redis and builds the app's token source (appid "": the
// only configured app). Close rdb when done.
func (o *oneAppOpts) open(ctx context.Context, e *env, appid string) (*oneApp, error) {
	cfg, err := o.apps.Pick(appid)
	if err != nil {
		return nil, err
	}
	log, err := e.logger()
	if err != nil {
		return nil, err
	}
	rdb, err := e.redis.Open(ctx, 2)
	if err != nil {
		return nil, err
	}
	client := wechat.NewClient(wechat.Config{BaseURL: o.baseURL, Logger: log})
	ts, err := cfg.TokenSource(client, rdb)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &oneApp{rdb: rdb, client: client, app: worker.App{AppID: cfg.AppID, Tokens: ts}}, nil
}

func newQuotaCmd(e *env) *cobra.Command {
	var o oneAppOpts
	var fraction float64
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Print interface B's daily quota and rate limit as WeChat reports them (--set-cap to cap from it)",
		Long: `quota asks WeChat (openapi/quota/get) about interface B for the app: today's limit,
used and remaining calls, and the rate limit; --set-cap 0.96 sets the fleet-wide cap
to that fraction of the rate limit. It also prints how many interface A+C codes
wxacode has sent for the app, ever (counted in Redis by every process).`,
		Example: `  wxacode quota --app wx0123456789abcdef
  wxacode quota --app wx0123456789abcdef --set-cap 0.96`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runQuota(cmd.Context(), e, &o, fraction) },
	}
	o.bind(cmd.Flags())
	optSetCap.Bind(cmd.Flags(), &fraction)
	return cmd
}

// runQuota prints interface B's daily quota and rate limit as WeChat
// reports them, and optionally sets the app's cap from the rate limit.
func runQuota(ctx context.Context, e *env, o *oneAppOpts, fraction float64) error {
	a, err := o.open(ctx, e, o.app)
	if err != nil {
		return err
	}
	defer a.rdb.Close()
	log, err := e.logger()
	if err != nil {
		return err
	}
	stdout := e.stdout
	lim := ratelimit.New(a.rdb, ratelimit.Config{Logger: log})
	r, err := worker.CheckQuota(ctx, a.client, lim, a.app, fraction)
	if err != nil {
		return err
	}
	q := r.Quota
	fmt.Fprintf(stdout, "app %s, %s\n", a.app.AppID, wechat.EndpointUnlimited)
	fmt.Fprintf(stdout, "  today: used %d of %d (remain %d)\n", q.Used, q.DailyLimit, q.Remain)
	if q.PerMinute() > 0 {
		fmt.Fprintf(stdout, "  rate limit: %d calls per %d s (%.0f/min)\n", q.CallCount, q.RefreshSecond, q.PerMinute())
	} else {
		fmt.Fprintln(stdout, "  rate limit: not reported by WeChat (documented: 5000/min)")
	}
	st, err := lim.State(ctx, a.app.AppID)
	if err == nil {
		fmt.Fprintf(stdout, "  fleet-wide cap: %d/min (effective %.0f/min)\n", st.CapPerMinute, st.EffectivePerMinute)
	}
	if r.CapSetTo > 0 {
		fmt.Fprintf(stdout, "  cap set to %d/min (%.2f of WeChat's limit)\n", r.CapSetTo, fraction)
	}
	if used, err := wechat.NewRedisACCounter(a.rdb, "").Used(ctx, a.app.AppID); err == nil {
		fmt.Fprintf(stdout, "interface A+C, ever: %d codes sent by wxacode (WeChat allows 100,000 per account; %d left)\n", used, max(0, 100000-used))
	}
	return nil
}

func newRIDCmd(e *env) *cobra.Command {
	var o oneAppOpts
	cmd := &cobra.Command{
		Use:   "rid RID",
		Short: "Look up what WeChat recorded about a failed call's rid",
		Long: `rid asks WeChat (openapi/rid/get) what it recorded about a call: time, cost, request,
body and answer, with the access token redacted. Every recorded failure keeps its rid
(wxacode status and explain show it).`,
		Example: "  wxacode rid 0691c5a1-1b23f8e6-21c9a7f3 --app wx0123456789abcdef",
		Args:    exactArgs(1, "one RID (the suffix of a failure's errmsg, shown by wxacode status and explain)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := o.open(ctx, e, o.app)
			if err != nil {
				return err
			}
			defer a.rdb.Close()
			info, err := a.client.RID(ctx, a.app.Tokens, args[0])
			if err != nil {
				return err
			}
			printRID(e.stdout, args[0], info)
			return nil
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

func printRID(w io.Writer, rid string, info wechat.RIDInfo) {
	fmt.Fprintf(w, "rid %s\n  invoked   %s (took %d ms) from %s\n  request   %s\n  body      %s\n  response  %s\n",
		rid, info.Invoked().Format(time.RFC3339), info.CostInMS, info.ClientIP, info.RequestURL, info.RequestBody, info.ResponseBody)
}
