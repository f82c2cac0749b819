package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/ratelimit/ratelimitbench"
)

// childMain runs this process as a rate-limit benchmark child when the
// parent asked for it, and exits.
func childMain() bool {
	if !ratelimitbench.IsChild() {
		return false
	}
	os.Exit(ratelimitbench.ChildMain())
	return true
}

// runRateLimit lets programs that are not Go (the app's own server, a
// script) share an app's fleet-wide budget, and operators read or change it:
//
//	wxacode ratelimit take --app X [--wait]   exit 0 = go ahead, 75 = wait (prints seconds)
//	wxacode ratelimit state --app X            JSON state
//	wxacode ratelimit set --app X --rate N     cap per minute, at run time
func runRateLimit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("ratelimit: want take, state or set")
	}
	var c common
	var app string
	var rate int
	var wait, force bool
	fs := flagSet("ratelimit "+args[0], "ratelimit take|state|set --app APPID [flags]", stderr)
	c.redisFlags(fs)
	fs.StringVar(&app, "app", "", "appid")
	fs.IntVar(&rate, "rate", 0, "set: the new cap per minute (0 removes it: the default 4800 applies)")
	fs.BoolVar(&force, "force", false, "set: allow a cap above 5000")
	fs.BoolVar(&wait, "wait", false, "take: block until a slot is free instead of exiting 75")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if app == "" {
		return errors.New("ratelimit: --app is required")
	}
	rdb, err := c.openRedis(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	l := ratelimit.New(rdb, ratelimit.Config{LocalPacing: ratelimit.PacingRedisOnly})
	switch args[0] {
	case "take":
		return rlTake(ctx, l, app, wait, stdout)
	case "state":
		st, err := l.State(ctx, app)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	case "set":
		if err := l.SetCap(ctx, app, rate, force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cap of %s set to %d/min for every worker (until a worker restarts with another configured rate)\n", app, rate)
		return nil
	}
	return fmt.Errorf("ratelimit: unknown action %q (want take, state or set)", args[0])
}

// rlTake takes one slot. Without --wait, a busy budget exits with status 75
// (EX_TEMPFAIL) after printing how many seconds to wait.
func rlTake(ctx context.Context, l *ratelimit.Limiter, app string, wait bool, stdout io.Writer) error {
	if wait {
		d, err := l.Wait(ctx, app)
		if err == nil {
			fmt.Fprintf(stdout, "ok waited=%.3f\n", d.Seconds())
		}
		return err
	}
	ok, after, err := l.Take(ctx, app)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintln(stdout, "ok")
		return nil
	}
	fmt.Fprintf(stdout, "wait %.3f\n", after.Round(time.Millisecond).Seconds())
	return exitError{75}
}

func benchRateLimit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o ratelimitbench.Options
	fs := flagSet("bench ratelimit", "bench ratelimit [flags]", stderr)
	fs.DurationVar(&o.Duration, "duration", 70*time.Second, "measured run time")
	fs.IntVar(&o.Processes, "processes", 3, "OS processes")
	fs.IntVar(&o.Goroutines, "goroutines", 50, "goroutines per process")
	fs.IntVar(&o.PerMinute, "rate", 4800, "cap per minute")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Progress = stderr
	res, err := ratelimitbench.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.String())
	return nil
}
