package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

type genOpts struct {
	common
	app, scene, page, env, iface, path, out string
	width, acBudget                         int
	hyaline, noLimiter                      bool
}

// runGen makes one code now, without the queue: for trying a setup and for
// support. Interface B goes through the fleet-wide limiter; A and C only
// within --ac-budget (WeChat allows 100,000 A+C codes per account, ever).
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o genOpts
	fs := flagSet("gen", "gen --app APPID --scene S [--page P] [--interface b|a|c] [-o FILE]", stderr)
	o.redisFlags(fs)
	o.appFlags(fs)
	o.wechatFlags(fs)
	fs.StringVar(&o.app, "app", "", "appid (default --appid)")
	fs.StringVar(&o.scene, "scene", "", "scene (interface B)")
	fs.StringVar(&o.page, "page", "", "page (interface B)")
	fs.StringVar(&o.path, "path", "", "path with query (interfaces A and C)")
	fs.StringVar(&o.env, "env-version", "", "release, trial or develop")
	fs.IntVar(&o.width, "width", 0, "width in pixels (280-1280)")
	fs.BoolVar(&o.hyaline, "hyaline", false, "transparent background")
	fs.StringVar(&o.iface, "interface", "b", "b (unlimited, scene), a or c (limited: path)")
	intFlag(fs, &o.acBudget, "ac-budget", 0, "how many interface A/C codes this command may spend (0 refuses A and C)")
	fs.StringVar(&o.out, "o", "", "output file (default: stdout)")
	fs.BoolVar(&o.noLimiter, "no-limiter", false, "do not use Redis: no fleet-wide limiter, no shared token (the token is fetched in-process)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	img, err := o.generate(ctx, stderr)
	if err != nil {
		return err
	}
	return writeImage(o.out, stdout, img)
}

func (o *genOpts) generate(ctx context.Context, stderr io.Writer) (*wechat.Image, error) {
	apps, err := o.appConfigs()
	if err != nil {
		return nil, err
	}
	var app *worker.AppConfig
	for i := range apps {
		if apps[i].AppID == o.app || len(apps) == 1 && o.app == "" {
			app = &apps[i]
		}
	}
	if app == nil {
		return nil, fmt.Errorf("gen: app %q is not configured", o.app)
	}
	log, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		return nil, err
	}
	client := wechat.NewClient(wechat.Config{BaseURL: o.baseURL, ACBudget: o.acBudget, Logger: log})
	var lim *ratelimit.Limiter
	ts, err := o.tokens(ctx, app, client, &lim)
	if err != nil {
		return nil, err
	}
	switch o.iface {
	case "b":
		return o.genB(ctx, client, ts, lim, app.AppID)
	case "a", "c":
		tok, err := ts.Token(ctx)
		if err != nil {
			return nil, err
		}
		if o.iface == "a" {
			return client.GetQRCodeA(ctx, tok, wechat.QRCodeRequest{Path: o.path, Rendering: o.params().Rendering})
		}
		return client.CreateQRCodeC(ctx, tok, o.path, o.width)
	}
	return nil, fmt.Errorf("gen: --interface %q: want b, a or c", o.iface)
}

// tokens builds the app's token source, sharing tokens through Redis (and
// setting *lim to the fleet-wide limiter) unless --no-limiter.
func (o *genOpts) tokens(ctx context.Context, app *worker.AppConfig, client *wechat.Client, lim **ratelimit.Limiter) (wechat.TokenSource, error) {
	if o.noLimiter {
		if app.Token.RedisKey != "" {
			return nil, fmt.Errorf("gen: app %s takes its token from Redis: drop --no-limiter", app.AppID)
		}
		return app.TokenSource(client, nil)
	}
	rdb, err := o.openRedis(ctx, 4)
	if err != nil {
		return nil, fmt.Errorf("%w (use --no-limiter to generate without Redis)", err)
	}
	*lim = ratelimit.New(rdb, ratelimit.Config{})
	return app.TokenSource(client, rdb)
}

// params are the code the flags describe.
func (o *genOpts) params() code.Params {
	return code.Params{Scene: o.scene, Page: o.page, Rendering: code.Rendering{Width: o.width, EnvVersion: o.env, IsHyaline: o.hyaline}}
}

func (o *genOpts) genB(ctx context.Context, client *wechat.Client, ts wechat.TokenSource, lim *ratelimit.Limiter, app string) (*wechat.Image, error) {
	p := o.params()
	if err := worker.Validate(jobs.Job{App: app, Params: p}); err != nil {
		return nil, err
	}
	if lim != nil {
		if _, err := lim.Wait(ctx, app); err != nil {
			return nil, err
		}
	}
	img, err := client.CodeUnlimited(ctx, ts, p)
	if wechat.IsRateLimited(err) && lim != nil {
		var ae *wechat.APIError
		errors.As(err, &ae)
		_ = lim.ReportRateLimited(ctx, app, ae.Code)
	}
	return img, err
}

func writeImage(path string, stdout io.Writer, img *wechat.Image) error {
	if path == "" {
		_, err := stdout.Write(img.Data)
		return err
	}
	if err := os.WriteFile(path, img.Data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%s, %d bytes)\n", path, img.Format, len(img.Data))
	return nil
}
