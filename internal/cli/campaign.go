package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/progress"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/storage"
)

func init() { register(newCampaignCmd) }

var optWait = noEnv(config.Bool("wait", false, "follow the run's progress until it is done or cancelled"))

func newCampaignCmd(e *env) *cobra.Command {
	return group("campaign", "Campaigns: list, validate, run NAME, pause|resume|cancel|retry-failed RUN",
		`A campaign is a named source of scenes with code options, run by hand or on a
schedule, defined in the campaigns file (--campaigns-file, WXACODE_CAMPAIGNS_FILE).`,
		`  wxacode campaign validate
  wxacode campaign run nightly-coupons --wait
  wxacode campaign pause nightly-coupons-20261124T020000-1a2b3c`,
		campaignValidateCmd(e), campaignListCmd(e), campaignRunCmd(e),
		campaignStateCmd(e, "pause", runs.StatePaused, "Pause a run: its feeder stops topping up the queue"),
		campaignStateCmd(e, "resume", runs.StateRunning, "Resume a paused run (its feeder is restarted if it had stopped)"),
		campaignStateCmd(e, "cancel", runs.StateCancelled, "Cancel a run: its queued jobs are revoked, not failed"),
		campaignRetryCmd(e))
}

func campaignValidateCmd(e *env) *cobra.Command {
	var file, dirs string
	var apps system.Apps
	var store system.Storage
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the campaigns file: every problem at once, naming campaign and field (exit 2 if any)",
		Long: `validate checks the campaigns file: every problem at once, naming campaign and field,
that each campaign's app is configured (WXACODE_APPS_FILE or WXACODE_APPID, as the
workers have it), since no worker would serve another, and that it can run: a source
file exists and opens, a generator makes at most 1,000,000,000 rows, a schedule fires
at most once a minute and at least once a year, and a file:// object lies in the store
or under WXACODE_SOURCE_DIRS. It then reads each source as a run would: an object in the
store (s3://, or file:// under a local store) must exist (a HEAD through the configured
store), and the first 1000 rows must pass the rules every job passes (scene, page,
rendering, key); a bad row is named by its run row (0-based) and file line (1-based,
header included). Exit status 2 if anything is wrong.`,
		Example: "  wxacode campaign validate --campaigns-file deploy/examples/campaigns.yaml --apps-file apps.yaml",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := campaign.Load(file)
			if fes := campaign.FieldErrors(errors.Unwrap(err)); len(fes) > 0 && len(fes) == len(leaves(errors.Unwrap(err))) {
				for _, fe := range fes { // one line per problem, each naming the file
					fmt.Fprintf(e.stdout, "%s: %v\n", file, fe)
				}
				return ExitError{ExitUsage}
			}
			if err != nil {
				fmt.Fprintln(e.stdout, err)
				return ExitError{ExitUsage}
			}
			bad := 0
			for _, err := range validateCampaigns(cmd.Context(), e, f, apps, store, system.SplitDirs(dirs)) {
				fmt.Fprintf(e.stdout, "%s: %v\n", file, err)
				bad++
			}
			if bad > 0 {
				return ExitError{ExitUsage}
			}
			fmt.Fprintf(e.stdout, "%s: %d campaigns, all valid (the first %d rows of each source checked)\n", file, len(f.Campaigns), campaign.SampleRows)
			return nil
		},
	}
	campaignsFile.Bind(cmd.Flags(), &file)
	appID.Bind(cmd.Flags(), &apps.AppID)
	appsFile.Bind(cmd.Flags(), &apps.File)
	storageSettings(cmd.Flags(), &store)
	sourceDirs.Bind(cmd.Flags(), &dirs)
	return cmd
}

// leaves are the errors joined in err (errors.Join, nested), or err.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, leaves(e)...)
	}
	return out
}

// validateCampaigns returns every problem of f's campaigns beyond the
// file's own (Load): an app the configuration does not list, what stops a
// campaign from running (Runnable), and, for a campaign without those, its
// source as a run would read it: an object looked up in the store and the
// first rows checked with the rules every job passes (CheckSource). The
// store is opened only for an object source; failing to open it is one
// problem per such campaign.
func validateCampaigns(ctx context.Context, e *env, f *campaign.File, apps system.Apps, st system.Storage, dirs []string) []error {
	var errs []error
	var store storage.Store
	var storeErr error
	allowed := append(dirs, st.LocalDir())
	for _, d := range f.Campaigns {
		if _, err := knownApp(ctx, e, apps, d.App); err != nil {
			errs = append(errs, fmt.Errorf("campaign %q: app: %w", d.Name, err))
		}
		problems := d.Runnable(time.Now(), nil, allowed)
		errs = append(errs, problems...)
		if len(problems) > 0 {
			continue
		}
		if d.Source.Object != "" && store == nil && storeErr == nil {
			store, _, storeErr = st.Open(ctx)
		}
		if d.Source.Object != "" && storeErr != nil {
			errs = append(errs, fmt.Errorf("campaign %q: source.object: the store %s cannot be opened: %v", d.Name, st.Shown(), storeErr))
			continue
		}
		errs = append(errs, d.CheckSource(ctx, store, 0, jobs.Validate)...)
	}
	return errs
}

func campaignListCmd(e *env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the campaigns, their next scheduled times and the recent runs",
		Example: "  wxacode campaign list",
		Args:    exactArgs(0, "no arguments"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return listCampaigns(cmd.Context(), e, file) },
	}
	campaignsFile.Bind(cmd.Flags(), &file)
	return cmd
}

func listCampaigns(ctx context.Context, e *env, file string) error {
	f, err := campaign.Load(file)
	if err != nil {
		return &system.ConfigError{Setting: "--campaigns-file (WXACODE_CAMPAIGNS_FILE)", Err: err}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tAPP\tSCHEDULE\tTIME ZONE\tNEXT RUN")
	for _, d := range f.Campaigns {
		next := "by hand"
		if t, err := d.NextRun(time.Now()); err == nil {
			next = t.Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.App, d.Schedule, d.Location(), next)
	}
	tw.Flush()
	if _, err := e.logger(); err != nil {
		return err
	}
	rdb, err := e.redis.Open(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	list, err := runs.NewStore(rdb, "").List(ctx, 20)
	if err != nil || len(list) == 0 {
		return err
	}
	fmt.Fprintln(e.stdout, "\nrecent runs:")
	for _, r := range list {
		fmt.Fprintf(e.stdout, "  %s  %-9s %d rows  %s\n", r.ID, r.State, r.Total, r.Created.Format(time.RFC3339))
	}
	return nil
}

type campaignRunOpts struct {
	sys       system.Settings
	file      string
	wait      bool
	preflight bool
}

func campaignRunCmd(e *env) *cobra.Command {
	var o campaignRunOpts
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Start a run of campaign NAME now; workers feed and work it",
		Long: `run starts a run of the campaign: it reads the campaign's source, writes the run and
enqueues its feeder, which any worker runs. With --wait it follows the run's progress
until it is done. The run's app needs no secret here, only Redis and the store, which
it first checks with a probe object (--preflight).`,
		Example: `  wxacode campaign run nightly-coupons
  wxacode campaign run nightly-coupons --wait`,
		Args: exactArgs(1, "one campaign NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.sys.Redis, o.sys.Log = e.redis, e.log
			return startCampaign(cmd.Context(), e, &o, args[0])
		},
	}
	fs := cmd.Flags()
	systemSettings(fs, &o.sys)
	campaignsFile.Bind(fs, &o.file)
	optWait.Bind(fs, &o.wait)
	preflightOn.Bind(fs, &o.preflight)
	return cmd
}

func startCampaign(ctx context.Context, e *env, o *campaignRunOpts, name string) error {
	f, err := campaign.Load(o.file)
	if err != nil {
		return &system.ConfigError{Setting: "--campaigns-file (WXACODE_CAMPAIGNS_FILE)", Err: err}
	}
	def, ok := f.Get(name)
	if !ok {
		return usagef("no campaign %q in %s", name, o.file)
	}
	if _, err := knownApp(ctx, e, o.sys.Apps, def.App); err != nil {
		return &system.ConfigError{Setting: "campaign " + name, Err: err}
	}
	if o.sys.Apps.File == "" {
		// Starting a run needs Redis and storage, not the app's secret.
		o.sys.Apps.AppID, o.sys.Apps.Secret, o.sys.Apps.SecretFile = def.App, "unused", ""
	}
	sys, err := system.Build(ctx, o.sys, 8, e.stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	if o.preflight {
		// The store only: starting a run needs no secret.
		if err := sys.Preflight(ctx, false).Err(); err != nil {
			return err
		}
	}
	if errs := def.Runnable(time.Now(), sys.Deps.Store, o.sys.Dirs()); len(errs) > 0 {
		return &system.ConfigError{Setting: "--campaigns-file (WXACODE_CAMPAIGNS_FILE)", Err: errors.Join(errs...)}
	}
	r, err := sys.Deps.Feeder.Start(ctx, def, "", time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "run %s started: %d rows, window %d; workers feed and work it\n", r.ID, r.Total, r.Window)
	if _, err := system.WarnUnservedApp(ctx, e.stderr, sys.Redis, def.App, "run "+r.ID); err != nil {
		return err
	}
	if !o.wait {
		return nil
	}
	return followRun(ctx, sys.Deps.Runs, r.ID, e.stdout)
}

func campaignStateCmd(e *env, action, state, short string) *cobra.Command {
	return &cobra.Command{
		Use:     action + " RUN",
		Short:   short,
		Example: "  wxacode campaign " + action + " nightly-coupons-20261124T020000-1a2b3c",
		Args:    exactArgs(1, "one RUN id (see wxacode campaign list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeRun(cmd.Context(), e, action, state, args[0])
		},
	}
}

func changeRun(ctx context.Context, e *env, action, state, id string) error {
	if _, err := e.logger(); err != nil {
		return err
	}
	rdb, err := e.redis.Open(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := runs.NewStore(rdb, "").SetState(ctx, id, state); err != nil {
		return err
	}
	if action == "resume" {
		// The feeder may have stopped (e.g. archived after a long outage).
		task, opts := runs.FeedTask(id)
		if _, err := asynq.NewClientFromRedisClient(rdb).EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "run %s: %s\n", id, state)
	return nil
}

func campaignRetryCmd(e *env) *cobra.Command {
	var o campaignRunOpts
	cmd := &cobra.Command{
		Use:     "retry-failed RUN",
		Short:   "Give a finished run's failed rows (not invalid input) another try",
		Example: "  wxacode campaign retry-failed nightly-coupons-20261124T020000-1a2b3c --wait",
		Args:    exactArgs(1, "one RUN id (see wxacode campaign list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.sys.Redis, o.sys.Log = e.redis, e.log
			return retryFailed(cmd.Context(), e, &o, args[0])
		},
	}
	systemSettings(cmd.Flags(), &o.sys)
	optWait.Bind(cmd.Flags(), &o.wait)
	return cmd
}

func retryFailed(ctx context.Context, e *env, o *campaignRunOpts, id string) error {
	sys, err := system.Build(ctx, o.sys, 8, e.stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	n, err := sys.Deps.Feeder.RetryFailed(ctx, id, asynq.NewInspectorFromRedisClient(sys.Redis))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "run %s: %d failed rows enqueued again\n", id, n)
	if o.wait {
		return followRun(ctx, sys.Deps.Runs, id, e.stdout)
	}
	return nil
}

// followRun shows the run's progress until it is done or cancelled.
func followRun(ctx context.Context, st *runs.Store, id string, w io.Writer) error {
	start := time.Now()
	var mu sync.Mutex
	var total int64
	var last runs.Counts
	stop := progress.Start(ctx, w, false, func() (int64, int64, string) {
		mu.Lock()
		defer mu.Unlock()
		return last.Finished(), total, fmt.Sprintf("%s: stored %d skipped %d failed %d in flight %d",
			progress.Rate(last.Finished(), total, start), last.Stored, last.Skipped, last.Failed, last.InFlight())
	})
	defer stop()
	for {
		r, c, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		mu.Lock()
		total, last = r.Total, c
		mu.Unlock()
		if r.State == runs.StateDone || r.State == runs.StateCancelled {
			stop()
			fmt.Fprintf(w, "run %s %s: stored %d skipped %d failed %d; manifest %s; failures %s\n", id, r.State, c.Stored, c.Skipped, c.Failed, r.Manifest, r.Failures)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
