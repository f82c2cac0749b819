package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// runFakeWeChat serves the fake WeChat API on --listen until SIGINT or
// SIGTERM. Its control endpoints (/_fake/stats, /_fake/config, ...) let a
// benchmark or a chaos run change limits and faults while it runs.
func runFakeWeChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var listen string
	var o wechattest.Options
	fs := flagSet("fake-wechat", "fake-wechat --listen 127.0.0.1:PORT [flags]", stderr)
	fs.StringVar(&listen, "listen", "127.0.0.1:8090", "address to serve on")
	o.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(o.Apps) == 0 {
		o.Apps = map[string]string{demoApp: demoSecret}
	}
	return serveFake(ctx, listen, o, stdout)
}

func serveFake(ctx context.Context, listen string, o wechattest.Options, stdout io.Writer) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: wechattest.New(o), ReadHeaderTimeout: 10 * time.Second}
	apps := make([]string, 0, len(o.Apps))
	for id := range o.Apps {
		apps = append(apps, id)
	}
	fmt.Fprintf(stdout, "fake WeChat API on http://%s for apps %v (stats: /_fake/stats)\n", l.Addr(), apps)
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
