package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// appList is a repeatable --app appid:secret flag.
type appList map[string]string

func (a appList) String() string { return fmt.Sprintf("%d apps", len(a)) }
func (a appList) Set(v string) error {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return errors.New("want appid:secret")
	}
	a[id] = secret
	return nil
}

// runFakeWeChat serves the fake WeChat API on --listen until SIGINT or
// SIGTERM. Its control endpoints (/_fake/stats, /_fake/config, ...) let a
// benchmark or a chaos run change limits and faults while it runs.
func runFakeWeChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		listen, config, pages string
		o                     wechattest.Options
	)
	apps := appList{}
	fs := flagSet("fake-wechat", "fake-wechat --listen 127.0.0.1:PORT [flags]", stderr)
	fs.StringVar(&listen, "listen", "127.0.0.1:8090", "address to serve on")
	fs.StringVar(&config, "config", "", "JSON file of options (same fields as POST /_fake/config); flags override it")
	fs.Var(apps, "app", "an app the fake knows, as appid:secret (repeatable; default wxd000000000000001:demo-secret-not-a-real-one)")
	fs.StringVar(&pages, "pages", "", "comma-separated published pages (default: every page is published)")
	fs.IntVar(&o.RateLimit, "rate-limit", 0, "interface-B calls per appid per window before 45009 (default 5000; negative: unlimited)")
	fs.DurationVar(&o.RateWindow, "rate-window", 0, "rate window (default 60s)")
	fs.BoolVar(&o.FixedWindow, "fixed-window", false, "count in wall-clock windows instead of a sliding one")
	fs.DurationVar(&o.TokenTTL, "token-ttl", 0, "token lifetime (default 7200s)")
	fs.DurationVar(&o.LatencyMedian, "latency-median", 0, "median added latency of code calls")
	fs.DurationVar(&o.LatencyP99, "latency-p99", 0, "p99 added latency of code calls")
	fs.Float64Var(&o.PSystemError, "p-system-error", 0, "probability of errcode -1")
	fs.Float64Var(&o.PBadGateway, "p-bad-gateway", 0, "probability of HTTP 502 with an HTML body")
	fs.Float64Var(&o.PTruncate, "p-truncate", 0, "probability of a truncated image")
	fs.Float64Var(&o.PReset, "p-reset", 0, "probability of a reset connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := fakeOptions(config, fs, o, apps, pages)
	if err != nil {
		return err
	}
	return serveFake(ctx, listen, opts, stdout)
}

// fakeOptions merges the config file and the flags that were set.
func fakeOptions(path string, fs *flag.FlagSet, flags wechattest.Options, apps appList, pages string) (wechattest.Options, error) {
	var o wechattest.Options
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return o, err
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return o, fmt.Errorf("%s: %w", path, err)
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "rate-limit":
			o.RateLimit = flags.RateLimit
		case "rate-window":
			o.RateWindow = flags.RateWindow
		case "fixed-window":
			o.FixedWindow = flags.FixedWindow
		case "token-ttl":
			o.TokenTTL = flags.TokenTTL
		case "latency-median":
			o.LatencyMedian = flags.LatencyMedian
		case "latency-p99":
			o.LatencyP99 = flags.LatencyP99
		case "p-system-error":
			o.PSystemError = flags.PSystemError
		case "p-bad-gateway":
			o.PBadGateway = flags.PBadGateway
		case "p-truncate":
			o.PTruncate = flags.PTruncate
		case "p-reset":
			o.PReset = flags.PReset
		}
	})
	if len(apps) > 0 {
		o.Apps = apps
	}
	if len(o.Apps) == 0 {
		o.Apps = map[string]string{demoApp: demoSecret}
	}
	if pages != "" {
		o.Pages = strings.Split(pages, ",")
	}
	return o, nil
}

func serveFake(ctx context.Context, listen string, o wechattest.Options, stdout io.Writer) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: wechattest.New(o), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "fake WeChat API on http://%s (stats: /_fake/stats)\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
