package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/demo"
	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func init() { register(newFakeWeChatCmd) }

var optFakeListen = noEnv(config.String("listen", "127.0.0.1:8090", "address to serve on"))

func newFakeWeChatCmd(e *env) *cobra.Command {
	var listen string
	var o wechattest.Options
	var hs httpserver.Config
	cmd := &cobra.Command{
		Use:   "fake-wechat",
		Short: "Serve the fake WeChat API (for staging, demos and benchmarks)",
		Long: `fake-wechat serves the fake WeChat API: tokens, interfaces A/B/C, every documented
errcode, a per-app 5000/60 s limit, real scannable QR images and fault injection.
Control and statistics at /_fake/stats, /_fake/config, /_fake/revoke, /_fake/burst,
/_fake/seconds?appid= (interface B calls accepted and refused per second).
Without --app it knows the demo app ` + demo.App + ` (secret ` + demo.Secret + `).`,
		Example: `  wxacode fake-wechat --listen 127.0.0.1:8090
  wxacode fake-wechat --app wx0123456789abcdef:a-secret --p-system-error 0.01 --latency-median 150ms`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.Apps) == 0 {
				o.Apps = map[string]string{demo.App: demo.Secret}
			}
			return serveFake(cmd.Context(), listen, o, hs, e.stdout)
		},
	}
	optFakeListen.Bind(cmd.Flags(), &listen)
	// Workers call from few addresses with many connections each.
	httpSettings(cmd.Flags(), &hs, -1)
	gfs := flag.NewFlagSet("fake-wechat", flag.ContinueOnError)
	o.RegisterFlags(gfs)
	cmd.Flags().AddGoFlagSet(gfs)
	return cmd
}

func serveFake(ctx context.Context, listen string, o wechattest.Options, hs httpserver.Config, stdout io.Writer) error {
	srv, err := httpserver.Listen(listen, wechattest.New(o), hs, nil)
	if err != nil {
		return usagef("--listen %s: %v", listen, err)
	}
	apps := make([]string, 0, len(o.Apps))
	for id := range o.Apps {
		apps = append(apps, id)
	}
	fmt.Fprintf(stdout, "fake WeChat API on http://%s for apps %v (stats: /_fake/stats)\n", srv.Addr(), apps)
	return srv.Run(ctx)
}
