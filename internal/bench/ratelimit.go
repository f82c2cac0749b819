package bench

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/ratelimit/ratelimitbench"
)

func init() {
	Register(func() *cobra.Command {
		var o ratelimitbench.Options
		cmd := &cobra.Command{
			Use:   "ratelimit",
			Short: "The fleet-wide limiter across OS processes: calls per minute against the cap, Redis round trips per call",
			Long: `bench ratelimit runs goroutines in several OS processes (this binary as children)
taking from one app's budget on a private redis-server, and measures the calls per
minute, the most in any sliding minute and the Redis round trips per call.`,
			Example: "  wxacode bench ratelimit --processes 3 --goroutines 50 --duration 70s",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.Progress = cmd.ErrOrStderr()
				res, err := ratelimitbench.Run(cmd.Context(), o)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), res.String())
				return nil
			},
		}
		fs := cmd.Flags()
		fs.DurationVar(&o.Duration, "duration", 70*time.Second, "measured run time")
		fs.IntVar(&o.Processes, "processes", 3, "OS processes")
		fs.IntVar(&o.Goroutines, "goroutines", 50, "goroutines per process")
		fs.IntVar(&o.PerMinute, "rate", 4800, "cap per minute")
		return cmd
	})
}
