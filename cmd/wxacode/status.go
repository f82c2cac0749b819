package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var n int
	fs := flagSet("status", "status [flags] [RUN]", stderr)
	c.redisFlags(fs)
	fs.IntVar(&n, "failures", 10, "how many recent final failures to show per app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rdb, err := c.openRedis(ctx, 4)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if fs.NArg() == 1 {
		return printRun(ctx, stdout, runs.NewStore(rdb, ""), ratelimit.New(rdb, ratelimit.Config{}), fs.Arg(0), n)
	}
	return printStatus(ctx, stdout, jobs.NewLedger(rdb, ""), asynq.NewInspectorFromRedisClient(rdb), int64(n))
}

// queueTotals adds up the asynq state of an app's queues (missing ones count 0).
func queueTotals(insp *asynq.Inspector, names ...string) asynq.QueueInfo {
	var t asynq.QueueInfo
	for _, n := range names {
		q, err := insp.GetQueueInfo(n)
		if err != nil {
			continue
		}
		t.Pending, t.Active, t.Retry, t.Scheduled, t.Archived = t.Pending+q.Pending, t.Active+q.Active, t.Retry+q.Retry, t.Scheduled+q.Scheduled, t.Archived+q.Archived
	}
	return t
}

// printStatus prints, per app, the ledger's counts, the asynq queue, and
// the newest final failures.
func printStatus(ctx context.Context, w io.Writer, l *jobs.Ledger, insp *asynq.Inspector, n int64) error {
	apps, err := l.Apps(ctx)
	if err != nil {
		return err
	}
	sort.Strings(apps)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tENQUEUED\tSTORED\tSKIPPED\tFAILED\tPENDING\tACTIVE\tRETRY\tSCHEDULED\tARCHIVED")
	for _, app := range apps {
		t, err := l.Totals(ctx, app)
		if err != nil {
			return err
		}
		q := queueTotals(insp, jobs.Queue(app), jobs.HighQueue(app))
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", app, t["enqueued"], t[string(jobs.StatusStored)],
			t[string(jobs.StatusSkipped)], t[string(jobs.StatusFailed)], q.Pending, q.Active, q.Retry, q.Scheduled, q.Archived)
	}
	tw.Flush()
	for _, app := range apps {
		fails, err := l.Failures(ctx, app, n)
		if err != nil {
			return err
		}
		if len(fails) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nrecent failures of %s:\n", app)
		for _, f := range fails {
			fmt.Fprintf(w, "  %s scene=%q page=%q errcode=%d rid=%s %s\n", f.At.Format("2006-01-02 15:04:05"), f.Scene, f.Page, f.Code, f.RID, f.Reason)
		}
	}
	return nil
}

// printRun prints one campaign run: progress, rate, ETA at the app's cap,
// failures by errcode and the latest failures.
func printRun(ctx context.Context, w io.Writer, st *runs.Store, lim *ratelimit.Limiter, id string, n int) error {
	r, c, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "run %s (campaign %s, app %s): %s\n", r.ID, r.Campaign, r.App, r.State)
	end := time.Now()
	if !r.Finished.IsZero() {
		end = r.Finished
	}
	rate := float64(c.Finished()) / max(end.Sub(r.Created).Seconds(), 1)
	fmt.Fprintf(w, "%s\n", bar(c.Finished(), r.Total, rate))
	fmt.Fprintf(w, "total %d  fed %d  stored %d  skipped %d  failed %d  in flight %d\n",
		r.Total, c.Fed, c.Stored, c.Skipped, c.Failed, c.InFlight())
	if lst, err := lim.State(ctx, r.App); err == nil && r.State != runs.StateDone {
		left := r.Total - c.Finished()
		eta := time.Duration(float64(left) / max(lst.EffectivePerMinute, 1) * float64(time.Minute))
		fmt.Fprintf(w, "at the app's effective rate of %.0f/min: about %s left\n", lst.EffectivePerMinute, eta.Round(time.Second))
	}
	byCode, latest, err := st.FailureSummary(ctx, id, min(n, runs.RecentFailures))
	if err != nil {
		return err
	}
	if len(byCode) > 0 {
		codes := slices.Sorted(maps.Keys(byCode))
		fmt.Fprint(w, "failures by errcode:")
		for _, code := range codes {
			fmt.Fprintf(w, "  %d: %d", code, byCode[code])
		}
		fmt.Fprintln(w)
	}
	for _, f := range latest {
		fmt.Fprintf(w, "  row %d scene=%q errcode=%d rid=%s %s\n", f.Row, f.Scene, f.Code, f.RID, f.Reason)
	}
	if r.Manifest != "" {
		fmt.Fprintf(w, "manifest %s\nfailures %s\n", r.Manifest, r.Failures)
	}
	return nil
}
