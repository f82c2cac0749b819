package system

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

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
CANCELLED counts campaign rows of cancelled runs that have no outcome (never to be done); OPEN is
what is still to do. Each row adds up: ENQUEUED + CAMPAIGN ROWS = REJECTED + STORED + SKIPPED + FAILED
+ CANCELLED + OPEN.`

// printLanes prints the asynq state of the lanes every app's jobs share,
// and of any per-app queue of an older release still holding tasks.
func printLanes(w io.Writer, insp *asynq.Inspector) {
	names, err := insp.Queues()
	if err != nil {
		fmt.Fprintf(w, "\nlanes: %v\n", err)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nLANE\tPENDING\tACTIVE\tRETRY\tSCHEDULED\tARCHIVED")
	for _, q := range names {
		if _, legacy := jobs.LegacyQueue(q); !jobs.IsLane(q) && !legacy {
			continue
		}
		t := queueTotals(insp, q)
		if _, legacy := jobs.LegacyQueue(q); legacy {
			if t.Pending+t.Active+t.Retry+t.Scheduled == 0 {
				continue
			}
			q += " (per-app queue of an older release, drained by the workers)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", q, t.Pending, t.Active, t.Retry, t.Scheduled, t.Archived)
	}
	tw.Flush()
}

// PrintStatus prints, per app, the ledger's counts, the campaign rows of
// rs (nil: none), the asynq queue, and the newest final failures.
func PrintStatus(ctx context.Context, w io.Writer, l *jobs.Ledger, rs *runs.Store, insp *asynq.Inspector, n int64) error {
	return PrintStatusOf(ctx, w, l, rs, insp, n, nil)
}

// PrintStatusOf is PrintStatus for the apps only (nil: every app with an
// outcome or a campaign row); an app of only without either prints zeros.
func PrintStatusOf(ctx context.Context, w io.Writer, l *jobs.Ledger, rs *runs.Store, insp *asynq.Inspector, n int64, only []string) error {
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
	if only != nil {
		apps = slices.Clone(only)
	}
	sort.Strings(apps)
	apps = slices.Compact(apps)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tENQUEUED\tCAMPAIGN ROWS\tREJECTED\tSTORED\tSKIPPED\tFAILED\tCANCELLED\tOPEN")
	for _, app := range apps {
		t, err := l.Totals(ctx, app)
		if err != nil {
			return err
		}
		c := camp[app]
		st, sk, fl := t[string(jobs.StatusStored)], t[string(jobs.StatusSkipped)], t[string(jobs.StatusFailed)]
		open := max(0, t["enqueued"]+c.Fed-c.Rejected-st-sk-fl-c.Cancelled)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", app, t["enqueued"], c.Fed, c.Rejected, st, sk, fl, c.Cancelled, open)
	}
	tw.Flush()
	if len(apps) > 0 {
		fmt.Fprintln(w, StatusLegend)
	}
	printLanes(w, insp)
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

// WarnUnserved prints a warning for every app that has work waiting (jobs
// in its queues, or a running campaign run) and no live worker serving it
// (jobs.Serving heartbeats), saying what to start. It returns how many
// apps it warned about.
func WarnUnserved(ctx context.Context, w io.Writer, rdb redis.UniversalClient) (int, error) {
	work, err := appWork(ctx, rdb)
	if err != nil {
		return 0, err
	}
	return warnUnserved(ctx, w, jobs.NewServing(rdb, ""), work)
}

// appWork is, per app with work waiting, what it is: its queued jobs and
// its running campaign runs.
func appWork(ctx context.Context, rdb redis.UniversalClient) (map[string][]string, error) {
	work := map[string][]string{}
	apps, err := jobs.NewLedger(rdb, "").Apps(ctx)
	if err != nil {
		return nil, err
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	led := jobs.NewLedger(rdb, "")
	for _, app := range apps {
		q := queueTotals(insp, jobs.LegacyQueues(app)...)
		t, err := led.Totals(ctx, app)
		if err != nil {
			return nil, err
		}
		open := t["enqueued"] - t[string(jobs.StatusStored)] - t[string(jobs.StatusSkipped)] - t[string(jobs.StatusFailed)]
		if n := max(0, open) + int64(q.Pending+q.Active+q.Retry+q.Scheduled); n > 0 {
			work[app] = append(work[app], fmt.Sprintf("%d queued jobs", n))
		}
	}
	list, err := runs.NewStore(rdb, "").List(ctx, 100)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.State == runs.StateRunning {
			work[r.App] = append(work[r.App], "run "+r.ID)
		}
	}
	return work, nil
}

// WarnUnservedApp warns, like WarnUnserved, when no live worker serves
// app, which has work.
func WarnUnservedApp(ctx context.Context, w io.Writer, rdb redis.UniversalClient, app, work string) (int, error) {
	return warnUnserved(ctx, w, jobs.NewServing(rdb, ""), map[string][]string{app: {work}})
}

func warnUnserved(ctx context.Context, w io.Writer, sv *jobs.Serving, work map[string][]string) (int, error) {
	n := 0
	for _, app := range slices.Sorted(maps.Keys(work)) {
		live, err := sv.Live(ctx, app)
		if err != nil {
			return n, err
		}
		if live == 0 {
			n++
			fmt.Fprintf(w, "warning: no live worker serves app %s, which has work (%s): it waits until a worker whose WXACODE_APPID or WXACODE_APPS_FILE lists %s is running\n",
				app, strings.Join(work[app], ", "), app)
		}
	}
	return n, nil
}
