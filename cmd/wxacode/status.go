package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var n int
	fs := flagSet("status", "status [flags]", stderr)
	c.redisFlags(fs)
	fs.IntVar(&n, "failures", 10, "how many recent final failures to show per app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rdb, err := openRedis(ctx, c.redisURL, 4)
	if err != nil {
		return err
	}
	defer rdb.Close()
	return printStatus(ctx, stdout, jobs.NewLedger(rdb, ""), asynq.NewInspectorFromRedisClient(rdb), int64(n))
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
		q, qerr := insp.GetQueueInfo(jobs.Queue(app))
		if qerr != nil {
			q = &asynq.QueueInfo{}
		}
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
