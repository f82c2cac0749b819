package system

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
)

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

// PrintStatus prints, per app, the ledger's counts, the asynq queue, and
// the newest final failures.
func PrintStatus(ctx context.Context, w io.Writer, l *jobs.Ledger, insp *asynq.Inspector, n int64) error {
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
