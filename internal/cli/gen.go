package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

func init() { register(newGenCmd) }

var (
	optScene     = noEnv(config.String("scene", "", "scene of the code (interface B; required there)"))
	optPath      = noEnv(config.String("path", "", "path with query (interfaces A and C; required there)"))
	optInterface = noEnv(config.Choice("interface", "b", []string{"b", "a", "c"}, "b (unlimited, scene), a or c (limited: path, within --ac-budget)"))
	optOut       = withShorthand(noEnv(config.String("output", "", "output file (default: standard output)")), "o")
	optNoLimiter = noEnv(config.Bool("no-limiter", false, "do not use Redis: no fleet-wide limiter, no shared token (the token is fetched in-process)"))
)

type genOpts struct {
	code               codeOpts
	apps               system.Apps
	baseURL            string
	scene, path, iface string
	out                string
	acBudget           int
	noLimiter          bool
	preflight          bool
}

func newGenCmd(e *env) *cobra.Command {
	var o genOpts
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate one code now, without the queue",
		Long: `gen makes one code now, without the queue: for trying a setup and for support.
Interface B waits on the fleet-wide limiter when Redis is reachable (--no-limiter
otherwise) and reports a rate-limit answer to it, exactly as the worker does.
An app held for the fleet (wxacode holds) is refused without a call; an answer
that holds the app (48001 and the other account-level codes, a token-endpoint
configuration error) holds it for the workers too. Interfaces A and C only within --ac-budget: WeChat allows 100,000 A+C codes per
account, ever; they are never a fallback for B. With an app secret it first checks
the secret with one stable_token call (--preflight), even when a token is cached.`,
		Example: `  wxacode gen --scene test1 --page pages/index/index -o test1.jpg
  wxacode gen --app wx0123456789abcdef --scene id=42 --no-limiter > code.jpg
  wxacode gen --interface a --path 'pages/index/index?id=1' --ac-budget 1 -o a.jpg`,
		Args: exactArgs(0, "no arguments (the scene goes in --scene)"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runGen(cmd.Context(), e, &o) },
	}
	fs := cmd.Flags()
	o.code.bind(fs)
	appSettings(fs, &o.apps)
	baseURL.Bind(fs, &o.baseURL)
	optScene.Bind(fs, &o.scene)
	optPath.Bind(fs, &o.path)
	optInterface.Bind(fs, &o.iface)
	acBudget.Bind(fs, &o.acBudget)
	optOut.Bind(fs, &o.out)
	optNoLimiter.Bind(fs, &o.noLimiter)
	preflightOn.Bind(fs, &o.preflight)
	return cmd
}

func runGen(ctx context.Context, e *env, o *genOpts) error {
	if err := o.checkArgs(); err != nil {
		return err
	}
	app, err := o.apps.Pick(o.code.app)
	if err != nil && (o.noLimiter || o.code.app == "") {
		return err
	}
	log, err2 := e.logger()
	if err2 != nil {
		return err2
	}
	var rdb redis.UniversalClient
	if !o.noLimiter {
		if rdb, err2 = e.redis.Open(ctx, 4); err2 != nil {
			return fmt.Errorf("%w (use --no-limiter to generate without Redis)", err2)
		}
		defer rdb.Close()
		if o.code.app != "" {
			// The app registry's entry wins; it may name an app the
			// apps file does not.
			app, err = o.apps.Resolve(ctx, rdb, o.code.app)
		}
	}
	if err != nil {
		return err
	}
	cfg := wechat.Config{BaseURL: o.baseURL, ACBudget: o.acBudget, Logger: log}
	if rdb != nil {
		cfg.ACCounter = wechat.NewRedisACCounter(rdb, "") // the app's A+C count, ever, fleet-wide
	}
	client := wechat.NewClient(cfg)
	if o.preflight && (app.Secret != "" || app.SecretFile != "") {
		// A token cached in Redis would hide a wrong secret: check it.
		if r := preflight.App(ctx, *app, client, nil); !r.OK {
			return preflight.Report{r}.Err()
		}
	}
	var reg *apphold.Registry
	if rdb != nil {
		reg = apphold.New(rdb, apphold.Config{})
		if h, held := reg.Held(ctx, app.AppID); held {
			return &heldError{h}
		}
	}
	var lim *ratelimit.Limiter
	ts, err := o.tokens(app, client, rdb, &lim)
	if err != nil {
		return err
	}
	img, err := o.generate(ctx, client, ts, lim, log, app.AppID)
	if err != nil {
		return holdAfter(ctx, reg, log, app.AppID, err)
	}
	return writeImage(o.out, e.stdout, e.stderr, img)
}

// checkArgs refuses what cannot make a code before anything is spent.
func (o *genOpts) checkArgs() error {
	switch {
	case o.iface == "b" && o.scene == "":
		return usagef("--scene is required for interface b (or give --interface a|c with --path)")
	case o.iface != "b" && o.path == "":
		return usagef("--path is required for interface %s", o.iface)
	case o.iface != "b" && o.acBudget <= 0:
		return usagef("--interface %s needs --ac-budget N: WeChat allows 100,000 A+C codes per account, ever, so gen spends none unless told how many", o.iface)
	}
	return nil
}

// tokens builds the app's token source, sharing tokens through Redis (and
// setting *lim to the fleet-wide limiter) unless --no-limiter (rdb nil).
func (o *genOpts) tokens(app *worker.AppConfig, client *wechat.Client, rdb redis.UniversalClient, lim **ratelimit.Limiter) (wechat.TokenSource, error) {
	if rdb == nil {
		if app.Token.RedisKey != "" {
			return nil, usagef("app %s takes its token from Redis: drop --no-limiter", app.AppID)
		}
		return app.TokenSource(client, nil)
	}
	*lim = ratelimit.New(rdb, ratelimit.Config{})
	return app.TokenSource(client, rdb)
}

func (o *genOpts) generate(ctx context.Context, client *wechat.Client, ts wechat.TokenSource, lim *ratelimit.Limiter, log *slog.Logger, app string) (*wechat.Image, error) {
	c := o.code
	switch o.iface {
	case "a", "c":
		tok, err := ts.Token(ctx)
		if err != nil {
			return nil, err
		}
		if o.iface == "a" {
			return client.GetQRCodeA(ctx, app, tok, wechat.QRCodeRequest{Path: o.path, Rendering: c.params().Rendering})
		}
		return client.CreateQRCodeC(ctx, app, tok, o.path, c.width)
	}
	j := c.job(app)
	j.App, j.Scene = app, o.scene
	if err := worker.Validate(j); err != nil {
		return nil, flagProblem(err)
	}
	var wait func(context.Context) error
	if lim != nil {
		wait = func(ctx context.Context) error { _, err := lim.Wait(ctx, app); return err }
	}
	t := worker.Turn{Client: client, Limiter: lim, Log: log}
	return t.Call(ctx, wait, app, ts, j.Params)
}

// heldError is gen refusing a held app: it sends nothing.
type heldError struct{ h apphold.Hold }

func (e *heldError) Error() string {
	return fmt.Sprintf("app %s is held for the fleet since %s (%s, errcode %d): %s; nothing was sent (wxacode holds release %s ends the hold)",
		e.h.App, e.h.Since.UTC().Format(time.RFC3339), e.h.Cause, e.h.Code, e.h.Reason, e.h.App)
}

// holdAfter records, as a worker would, the fleet-wide hold an answer calls
// for (worker.FleetHold, with the worker's default lengths), so the fleet
// stops too; it returns err.
func holdAfter(ctx context.Context, reg *apphold.Registry, log *slog.Logger, app string, err error) error {
	fh, d, ok := worker.FleetHold(err, worker.Config{})
	if reg == nil || !ok {
		return err
	}
	fh.App = app
	if _, first, rerr := reg.Hold(ctx, fh, d); rerr == nil && first {
		log.Error("ALERT: "+fh.Reason+": app held for the whole fleet (wxacode holds; release with wxacode holds release "+app+")",
			"cause", fh.Cause, "errcode", fh.Code, "err", err)
	}
	return err
}

func writeImage(path string, stdout, stderr io.Writer, img *wechat.Image) error {
	if path == "" {
		_, err := stdout.Write(img.Data)
		return err
	}
	if err := os.WriteFile(path, img.Data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %d bytes)\n", path, img.Format, len(img.Data))
	return nil
}

// flagProblem words a job's validation error in flags: gen and explain
// take one job from the command line, which has no line numbers.
func flagProblem(err error) error {
	var re *jobs.RowError
	if !errors.As(err, &re) {
		return err
	}
	flag := "--" + strings.ReplaceAll(strings.TrimPrefix(re.Field, "is_"), "_", "-")
	if re.Value == "" {
		return usagef("%s: %s", flag, re.Reason)
	}
	return usagef("%s %q: %s", flag, re.Value, re.Reason)
}
