package system

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"text/tabwriter"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
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

// StatusLegend says what the per-app columns count, so that they add up.
const StatusLegend = `ENQUEUED: jobs queued by wxacode enqueue. CAMPAIGN ROWS: rows campaign runs fed, of which REJECTED
were refused for their input and never queued. STORED, SKIPPED and FAILED count the outcomes of both;
the queue columns are what is still open. Cancelled campaign rows have no outcome (wxacode status RUN).`

// PrintStatus prints, per app, the ledger's counts, the campaign rows of
// rs (nil: none), the asynq queue, and the newest final failures.
func PrintStatus(ctx context.Context, w io.Writer, l *jobs.Ledger, rs *runs.Store, insp *asynq.Inspector, n int64) error {
	apps, err := l.Apps(ctx)
	if err != nil {
		return err
	}
	camp, err := rs.AppRows(ctx)
	if err != nil {
		return err
	}
	for app := range camp {
		if !slices.Contains(apps, app) {
			apps = append(apps, app)
		}
	}
	sort.Strings(apps)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tENQUEUED\tCAMPAIGN ROWS\tREJECTED\tSTORED\tSKIPPED\tFAILED\tPENDING\tACTIVE\tRETRY\tSCHEDULED\tARCHIVED")
	for _, app := range apps {
		t, err := l.Totals(ctx, app)
		if err != nil {
			return err
		}
		q := queueTotals(insp, jobs.Queue(app), jobs.HighQueue(app))
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", app, t["enqueued"], camp[app].Fed, camp[app].Rejected,
			t[string(jobs.StatusStored)], t[string(jobs.StatusSkipped)], t[string(jobs.StatusFailed)], q.Pending, q.Active, q.Retry, q.Scheduled, q.Archived)
	}
	tw.Flush()
	if len(apps) > 0 {
		fmt.Fprintln(w, StatusLegend)
	}
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
