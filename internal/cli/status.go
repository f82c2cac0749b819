package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/system"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
)

func init() { register(newStatusCmd) }

var (
	optFailures  = withCheck(noEnv(config.Int("failures", 10, "how many recent final failures to show (per app, or of the run)")), config.AtLeast(0))
	optStatusApp = withCheck(noEnv(config.String("app", "", "show only these apps: a comma-separated list of appids")), checkAppList)
)

// checkAppList refuses an app list with a malformed appid, naming it.
func checkAppList(s string) error {
	for _, a := range splitApps(s) {
		if err := code.ValidateApp(a); err != nil {
			return err
		}
	}
	return nil
}

// splitApps splits a comma-separated list of appids; "" is nil.
func splitApps(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func newStatusCmd(e *env) *cobra.Command {
	var n int
	var only string
	cmd := &cobra.Command{
		Use:   "status [RUN]",
		Short: "Print outcome counts per app and the recent failures, or one run's progress",
		Long: `status without an argument prints, per app, the ledger's counts (enqueued, stored,
skipped, failed) and the asynq queue (pending, active, retry, scheduled, archived),
then the newest final failures with errcode and rid, and a warning on standard error
for each app with work that is held for the fleet (wxacode holds) or that no live worker serves (workers publish the apps they
serve every 10 s); --app shows only the apps listed (comma-separated). With a run id it prints that
campaign run's progress, rate, time left at the app's rate and failures by errcode.`,
		Example: `  wxacode status
  wxacode status --app wx0123456789abcdef,wx1123456789abcdef
  wxacode status nightly-coupons-20261124T020000-1a2b3c --failures 20`,
		Args: maxArgs(1, "at most one RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := e.logger(); err != nil {
				return err
			}
			rdb, err := e.redis.Open(ctx, 4)
			if err != nil {
				return err
			}
			defer rdb.Close()
			if len(args) == 1 {
				return printRun(ctx, e.stdout, rdb, args[0], n)
			}
			if err := system.PrintStatusOf(ctx, e.stdout, jobs.NewLedger(rdb, ""), runs.NewStore(rdb, ""), asynq.NewInspectorFromRedisClient(rdb), int64(n), splitApps(only)); err != nil {
				return err
			}
			if _, err := system.WarnHeld(ctx, e.stderr, rdb); err != nil {
				return err
			}
			_, err = system.WarnUnserved(ctx, e.stderr, rdb)
			return err
		},
	}
	optFailures.Bind(cmd.Flags(), &n)
	optStatusApp.Bind(cmd.Flags(), &only)
	return cmd
}

// printRun prints one campaign run: progress, rate, ETA at the app's cap,
// failures by errcode and the latest failures.
func printRun(ctx context.Context, w io.Writer, rdb redis.UniversalClient, id string, n int) error {
	st, lim := runs.NewStore(rdb, ""), ratelimit.New(rdb, ratelimit.Config{})
	r, c, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.State == runs.StateRunning {
		if _, err := system.WarnUnservedApp(ctx, w, rdb, r.App, "run "+r.ID); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "run %s (campaign %s, app %s): %s\n", r.ID, r.Campaign, r.App, r.State)
	end := time.Now()
	if !r.Finished.IsZero() {
		end = r.Finished
	}
	rate := float64(c.Finished()) / max(end.Sub(r.Created).Seconds(), 1)
	fmt.Fprintf(w, "progress %d/%d (%.1f%%), %.1f rows/s\n", c.Finished(), r.Total, 100*float64(c.Finished())/float64(max(r.Total, 1)), rate)
	fmt.Fprintf(w, "total %d  fed %d  stored %d  skipped %d  failed %d  in flight %d",
		r.Total, c.Fed, c.Stored, c.Skipped, c.Failed, c.InFlight())
	if r.State == runs.StateCancelled {
		fmt.Fprintf(w, "  cancelled %d  never fed %d", c.Cancelled, max(0, r.Total-c.Fed))
	}
	fmt.Fprintln(w)
	if lst, err := lim.State(ctx, r.App); err == nil && (r.State == runs.StateRunning || r.State == runs.StatePaused) {
		if left, ok := runs.TimeLeft(r.Total-c.Finished(), lst.EffectivePerMinute); ok {
			fmt.Fprintf(w, "at the app's effective rate of %.0f/min: %s left\n", lst.EffectivePerMinute, runs.FormatLeft(left))
		}
	}
	byCode, latest, err := st.FailureSummary(ctx, id, min(n, runs.RecentFailures))
	if err != nil {
		return err
	}
	if len(byCode.ByCode) > 0 {
		fmt.Fprint(w, "failures by errcode:")
		for _, code := range slices.Sorted(maps.Keys(byCode.ByCode)) {
			if code == 0 {
				fmt.Fprintf(w, "  none (no WeChat answer): %d", byCode.ByCode[code])
				continue
			}
			fmt.Fprintf(w, "  %d: %d", code, byCode.ByCode[code])
		}
		fmt.Fprintln(w)
	}
	if byCode.Input > 0 {
		fmt.Fprintf(w, "rejected (input), never sent to WeChat: %d (wxacode explain %s groups them by reason)\n", byCode.Input, id)
	}
	for _, f := range latest {
		if f.Input {
			fmt.Fprintf(w, "  row %d %s\n", f.Row, f.Reason)
			continue
		}
		fmt.Fprintf(w, "  row %d scene=%q errcode=%d rid=%s %s\n", f.Row, f.Scene, f.Code, f.RID, f.Reason)
	}
	if r.Manifest != "" {
		fmt.Fprintf(w, "manifest %s\nfailures %s\n", r.Manifest, r.Failures)
	}
	return nil
}
