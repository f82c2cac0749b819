package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/ratelimit"
)

func init() { register(newRateLimitCmd) }

var (
	optRLApp   = noEnv(config.String("app", "", "appid whose fleet-wide budget to use (required)"))
	optRLRate  = withCheck(noEnv(config.Int("rate", 0, "the new cap per minute (required); 0 removes the cap: every process falls back to its default until a worker restarts")), config.AtLeast(0))
	optRLForce = noEnv(config.Bool("force", false, "allow a cap above WeChat's 5000/min"))
	optRLWait  = noEnv(config.Bool("wait", false, "block until a slot is free instead of exiting 75"))
)

func newRateLimitCmd(e *env) *cobra.Command {
	return group("ratelimit", "Take from, inspect or change an app's fleet-wide rate budget",
		`ratelimit lets programs that are not Go (the app's own server, a script) share an
app's fleet-wide budget with the workers, and operators read or change it at run time.
The keys and script are documented in ratelimit/doc.go.`,
		`  wxacode ratelimit take --app wx0123456789abcdef || sleep "$(...)"
  wxacode ratelimit state --app wx0123456789abcdef
  wxacode ratelimit set --app wx0123456789abcdef --rate 3000`,
		rlCmd(e, &cobra.Command{
			Use:   "take",
			Short: "Take one slot: exit 0 (go ahead) or 75 after printing 'wait SECONDS'",
			Example: `  wxacode ratelimit take --app wx0123456789abcdef
  wxacode ratelimit take --app wx0123456789abcdef --wait`,
		}, rlTake),
		rlCmd(e, &cobra.Command{
			Use:     "state",
			Short:   "Print the cap, effective rate, cooldown and recent rate-limit errors as JSON",
			Example: "  wxacode ratelimit state --app wx0123456789abcdef",
		}, rlState),
		rlCmd(e, &cobra.Command{
			Use:     "set",
			Short:   "Change the cap of every worker at run time (--rate 0 removes it)",
			Example: "  wxacode ratelimit set --app wx0123456789abcdef --rate 3000",
		}, rlSet),
	)
}

type rlOpts struct {
	app         string
	rate        int
	force, wait bool
}

// rlCmd is a ratelimit subcommand: run gets the limiter (Redis only, no
// local pacing: every take is fleet-wide).
func rlCmd(e *env, c *cobra.Command, run func(context.Context, *ratelimit.Limiter, *rlOpts, io.Writer) error) *cobra.Command {
	var o rlOpts
	c.Args = exactArgs(0, "no arguments")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		switch {
		case o.app == "":
			return usagef("--app is required")
		case c.Name() == "set" && !cmd.Flags().Changed("rate"):
			return usagef("--rate is required: the new cap per minute (0 removes it)")
		}
		ctx := cmd.Context()
		log, err := e.logger()
		if err != nil {
			return err
		}
		rdb, err := e.redis.Open(ctx, 2)
		if err != nil {
			return err
		}
		defer rdb.Close()
		return run(ctx, ratelimit.New(rdb, ratelimit.Config{LocalPacing: ratelimit.PacingRedisOnly, Logger: log}), &o, e.stdout)
	}
	fs := c.Flags()
	optRLApp.Bind(fs, &o.app)
	switch c.Name() {
	case "take":
		optRLWait.Bind(fs, &o.wait)
	case "set":
		optRLRate.Bind(fs, &o.rate)
		optRLForce.Bind(fs, &o.force)
	}
	return c
}

// rlTake takes one slot. Without --wait, a busy budget exits with status 75
// (EX_TEMPFAIL) after printing how many seconds to wait.
func rlTake(ctx context.Context, l *ratelimit.Limiter, o *rlOpts, stdout io.Writer) error {
	if o.wait {
		d, err := l.Wait(ctx, o.app)
		if err == nil {
			fmt.Fprintf(stdout, "ok waited=%.3f\n", d.Seconds())
		}
		return err
	}
	ok, after, err := l.Take(ctx, o.app)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintln(stdout, "ok")
		return nil
	}
	fmt.Fprintf(stdout, "wait %.3f\n", after.Round(time.Millisecond).Seconds())
	return ExitError{ExitTempFail}
}

func rlState(ctx context.Context, l *ratelimit.Limiter, o *rlOpts, stdout io.Writer) error {
	st, err := l.State(ctx, o.app)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

func rlSet(ctx context.Context, l *ratelimit.Limiter, o *rlOpts, stdout io.Writer) error {
	if err := l.SetCap(ctx, o.app, o.rate, o.force); err != nil {
		return err
	}
	if o.rate == 0 {
		fmt.Fprintf(stdout, "cap of %s removed: every process falls back to its default (%d/min unless configured) until a worker restarts and sets its configured rate\n", o.app, ratelimit.DefaultPerMinute)
		return nil
	}
	fmt.Fprintf(stdout, "cap of %s set to %d/min for every worker (until a worker restarts with another configured rate)\n", o.app, o.rate)
	return nil
}
