package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
)

type campaignOpts struct {
	common
	file string
	wait bool
}

func (o *campaignOpts) flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flagSet("campaign "+name, "campaign list|validate|run NAME|pause RUN|resume RUN|cancel RUN|retry-failed RUN [flags]", stderr)
	o.redisFlags(fs)
	o.appFlags(fs)
	o.storageFlags(fs)
	o.wechatFlags(fs)
	strFlag(fs, &o.file, "campaigns-file", "campaigns.yaml", "YAML file of campaign definitions")
	fs.BoolVar(&o.wait, "wait", false, "run: follow the run's progress until it is done")
	return fs
}

// runCampaign handles `wxacode campaign ...`.
func runCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("campaign: want list, validate, run NAME, pause RUN, resume RUN, cancel RUN or retry-failed RUN")
	}
	var o campaignOpts
	fs := o.flags(args[0], stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "validate":
		return validateCampaigns(o.file, stdout)
	case "list":
		return listCampaigns(ctx, &o, stdout)
	case "run":
		return startCampaign(ctx, &o, fs.Arg(0), stdout, stderr)
	case "pause", "resume", "cancel":
		return changeRun(ctx, &o, args[0], fs.Arg(0), stdout)
	case "retry-failed":
		return retryFailed(ctx, &o, fs.Arg(0), stdout, stderr)
	}
	return fmt.Errorf("campaign: unknown action %q", args[0])
}

func validateCampaigns(path string, stdout io.Writer) error {
	f, err := campaign.Load(path)
	if err != nil {
		fmt.Fprintln(stdout, err)
		return exitError{2}
	}
	fmt.Fprintf(stdout, "%s: %d campaigns, all valid\n", path, len(f.Campaigns))
	return nil
}

func listCampaigns(ctx context.Context, o *campaignOpts, stdout io.Writer) error {
	f, err := campaign.Load(o.file)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tAPP\tSCHEDULE\tTIME ZONE\tNEXT RUN")
	for _, d := range f.Campaigns {
		next := "by hand"
		if t, err := d.NextRun(time.Now()); err == nil {
			next = t.Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.App, d.Schedule, d.Location(), next)
	}
	tw.Flush()
	rdb, err := o.openRedis(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	list, err := runs.NewStore(rdb, "").List(ctx, 20)
	if err != nil || len(list) == 0 {
		return err
	}
	fmt.Fprintln(stdout, "\nrecent runs:")
	for _, r := range list {
		fmt.Fprintf(stdout, "  %s  %-9s %d rows  %s\n", r.ID, r.State, r.Total, r.Created.Format(time.RFC3339))
	}
	return nil
}

func startCampaign(ctx context.Context, o *campaignOpts, name string, stdout, stderr io.Writer) error {
	f, err := campaign.Load(o.file)
	if err != nil {
		return err
	}
	def, ok := f.Get(name)
	if !ok {
		return fmt.Errorf("campaign: no campaign %q in %s", name, o.file)
	}
	if o.appsFile == "" && o.appID == "" {
		o.appID = def.App // the run only needs storage and Redis here, not the secret
		o.secret = "unused"
	}
	sys, err := buildSystem(ctx, &o.common, 8, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	r, err := sys.deps.Feeder.Start(ctx, def, "", time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s started: %d rows, window %d; workers feed and work it\n", r.ID, r.Total, r.Window)
	if !o.wait {
		return nil
	}
	return followRun(ctx, sys.deps.Runs, r.ID, stdout)
}

func changeRun(ctx context.Context, o *campaignOpts, action, id string, stdout io.Writer) error {
	if id == "" {
		return fmt.Errorf("campaign %s: give a run id", action)
	}
	rdb, err := o.openRedis(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	state := map[string]string{"pause": runs.StatePaused, "resume": runs.StateRunning, "cancel": runs.StateCancelled}[action]
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
	fmt.Fprintf(stdout, "run %s: %s\n", id, state)
	return nil
}

// retryFailed gives a finished run's failed rows another try.
func retryFailed(ctx context.Context, o *campaignOpts, id string, stdout, stderr io.Writer) error {
	if id == "" {
		return errors.New("campaign retry-failed: give a run id")
	}
	sys, err := buildSystem(ctx, &o.common, 8, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	n, err := sys.deps.Feeder.RetryFailed(ctx, id, asynq.NewInspectorFromRedisClient(sys.rdb))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s: %d failed rows enqueued again\n", id, n)
	if o.wait {
		return followRun(ctx, sys.deps.Runs, id, stdout)
	}
	return nil
}

// followRun prints a progress bar until the run is done or cancelled.
func followRun(ctx context.Context, st *runs.Store, id string, w io.Writer) error {
	start := time.Now()
	for {
		r, c, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s stored %d skipped %d failed %d in flight %d\n", bar(c.Finished(), r.Total, float64(c.Finished())/time.Since(start).Seconds()),
			c.Stored, c.Skipped, c.Failed, c.InFlight())
		if r.State == runs.StateDone || r.State == runs.StateCancelled {
			fmt.Fprintf(w, "run %s %s; manifest %s; failures %s\n", id, r.State, r.Manifest, r.Failures)
			return nil
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}
