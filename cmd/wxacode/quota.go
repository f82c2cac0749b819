package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

// oneApp is what a one-off WeChat call needs: Redis (shared token), a
// client and one app's token source.
type oneApp struct {
	rdb    redis.UniversalClient
	client *wechat.Client
	app    worker.App
}

func (c *common) oneAppFlags(fs *flag.FlagSet, app *string) {
	c.redisFlags(fs)
	c.appFlags(fs)
	c.wechatFlags(fs)
	fs.StringVar(app, "app", "", "appid to ask about (default: the only configured app)")
}

// openOneApp connects Redis and builds the app's token source. Close rdb
// when done.
func (c *common) openOneApp(ctx context.Context, appid string) (*oneApp, error) {
	cfgs, err := c.appConfigs()
	if err != nil {
		return nil, err
	}
	var cfg *worker.AppConfig
	for i := range cfgs {
		if cfgs[i].AppID == appid || (appid == "" && len(cfgs) == 1) {
			cfg = &cfgs[i]
		}
	}
	if cfg == nil {
		return nil, fmt.Errorf("--app %q: not a configured app (give --app with one of the apps file's appids)", appid)
	}
	log, err := newLogger(io.Discard, "error", "text")
	if err != nil {
		return nil, err
	}
	rdb, err := c.openRedis(ctx, 2)
	if err != nil {
		return nil, err
	}
	client := wechat.NewClient(wechat.Config{BaseURL: c.baseURL, Logger: log})
	ts, err := cfg.TokenSource(client, rdb)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &oneApp{rdb: rdb, client: client, app: worker.App{AppID: cfg.AppID, Tokens: ts}}, nil
}

// runQuota prints interface B's daily quota and rate limit as WeChat
// reports them, and optionally sets the app's cap from the rate limit.
func runQuota(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var app string
	var fraction float64
	fs := flagSet("quota", "quota [--app APPID] [--set-cap FRACTION]", stderr)
	c.oneAppFlags(fs, &app)
	fs.Float64Var(&fraction, "set-cap", 0, "set the app's fleet-wide cap to this fraction of WeChat's rate limit, e.g. 0.96 (0: only print)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fraction < 0 || fraction > 1 {
		return errors.New("--set-cap: want a fraction between 0 and 1")
	}
	a, err := c.openOneApp(ctx, app)
	if err != nil {
		return err
	}
	defer a.rdb.Close()
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
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
	return nil
}

// runRID prints what WeChat recorded about a failed call's rid.
func runRID(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var app string
	fs := flagSet("rid", "rid [--app APPID] RID", stderr)
	c.oneAppFlags(fs, &app)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("rid: give one rid (the suffix of a failure's errmsg, shown by wxacode status and explain)")
	}
	a, err := c.openOneApp(ctx, app)
	if err != nil {
		return err
	}
	defer a.rdb.Close()
	info, err := a.client.RID(ctx, a.app.Tokens, fs.Arg(0))
	if err != nil {
		return err
	}
	printRID(stdout, fs.Arg(0), info)
	return nil
}

func printRID(w io.Writer, rid string, info wechat.RIDInfo) {
	fmt.Fprintf(w, "rid %s\n  invoked   %s (took %d ms) from %s\n  request   %s\n  body      %s\n  response  %s\n",
		rid, info.Invoked().Format(time.RFC3339), info.CostInMS, info.ClientIP, info.RequestURL, info.RequestBody, info.ResponseBody)
}
