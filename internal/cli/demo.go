package cli

import (
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/demo"
	"github.com/wxacode/wxacode/internal/system"
)

func init() { register(newDemoCmd) }

var (
	optDemoRate   = withCheck(noEnv(config.Int("rate-per-minute", demo.DefaultRate, "the demo app's rate (the fake allows 5000/min)")), config.AtLeast(1))
	optDemoScenes = withCheck(noEnv(config.Int("scenes", demo.DefaultScenes, "how many demo scenes to generate")), config.AtLeast(1))
	optDemoDir    = noEnv(config.String("dir", demo.DefaultDir, "local directory for the codes"))
)

func newDemoCmd(e *env) *cobra.Command {
	o := demo.Options{Stdout: e.stdout, Stderr: e.stderr}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole system on embedded defaults (in-process Redis, fake WeChat, local dir)",
		Long: `demo starts an in-process Redis (miniredis) unless --redis-url or WXACODE_REDIS_URL
is set, the fake WeChat server and a local directory (--dir), enqueues demo scenes (a
few invalid, a few on an unpublished page), works them with a progress bar, serves
the dashboard on a printed loopback URL while it runs, and ends with where the images
are and a summary. Its logs are at level error unless --log-level is given.`,
		Example: `  wxacode demo
  wxacode demo --scenes 100 --rate-per-minute 3000`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			if config.SourceOf(fs, "redis-url") != config.FromDefault {
				o.Redis = e.redis
			} else {
				o.Redis = system.Redis{}
			}
			if config.SourceOf(fs, "log-level") != config.FromDefault {
				o.LogLevel = e.log.Level
			}
			return demo.Run(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	optDemoRate.Bind(fs, &o.Rate)
	optDemoScenes.Bind(fs, &o.Scenes)
	optDemoDir.Bind(fs, &o.Dir)
	return cmd
}
