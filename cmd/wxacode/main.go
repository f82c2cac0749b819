// Command wxacode pre-generates WeChat mini-program codes at scale: enqueue
// scene jobs, run workers under a fleet-wide rate limit, store the images,
// and see what happened. Run `wxacode help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand; run gets the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"enqueue":     {"read scenes from a file (lines, CSV, JSON Lines) and enqueue one job per code", runEnqueue},
		"worker":      {"run jobs: limiter, token, interface B, storage, ledger", runWorker},
		"gen":         {"generate one code now, without the queue", runGen},
		"status":      {"print outcome counts per app and the recent failures", runStatus},
		"demo":        {"run the whole system on embedded defaults (in-process Redis, fake WeChat, local dir)", runDemo},
		"fake-wechat": {"serve the fake WeChat API (for staging, demos and benchmarks)", runFakeWeChat},
		"ratelimit":   {"take from or inspect an app's fleet-wide rate budget (ratelimit take|state|set)", runRateLimit},
		"bench":       {"benchmarks: enqueue, throughput, cost, ratelimit, campaign, chaos (the fault suite)", runBench},
		"campaign":    {"campaigns: list, validate, run NAME, pause|resume|cancel|retry-failed RUN", runCampaign},
		"scheduler":   {"fire scheduled campaigns (safe to run more than one)", runScheduler},
		"dashboard":   {"serve the campaign and app page, the JSON API, the asynq dashboard and /metrics", runDashboard},
		"quota":       {"print interface B's daily quota and rate limit as WeChat reports them (--set-cap to cap from it)", runQuota},
		"rid":         {"look up what WeChat recorded about a failed call's rid", runRID},
		"explain":     {"explain a run, a row of a run, or a scene: state, tries, errcodes with meaning and action, rids, stored object", runExplain},
		"scenes":      {"the short-scene mapping: serve (public resolver GET /s/{scene}), lookup, export, import", runScenes},
		"healthcheck": {"GET a health URL and exit 0 on a 2xx answer (for container health checks)", runHealthcheck},
	}
}

// exitError carries a process exit status for an error already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	if childMain() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "wxacode:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "wxacode pre-generates WeChat mini-program codes (interface B) at scale.")
	fmt.Fprintln(w, "\nUsage: wxacode <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set by the environment variable named in `wxacode <command> --help`.")
}
