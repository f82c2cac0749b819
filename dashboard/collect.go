package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
)

// Collector reads the dashboard's data from Redis. It holds no connection
// of its own and needs no Close; the CLI can use one without a Server.
type Collector struct {
	cfg  Config
	insp *asynq.Inspector
}

// NewCollector returns a Collector over cfg (defaults applied as for New;
// HTTP fields are ignored). cfg.Redis must be set.
func NewCollector(cfg Config) (*Collector, error) {
	if cfg.Redis == nil {
		return nil, fmt.Errorf("%w: Redis is required", ErrConfig)
	}
	cfg = cfg.withDefaults()
	// The inspector shares the client: Close on it would fail, and is not needed.
	return &Collector{cfg: cfg, insp: asynq.NewInspectorFromRedisClient(cfg.Redis)}, nil
}

// Collect reads every app and the newest runs. It fails when Redis cannot
// answer the reads of the ledger or of the runs; a limiter, token source or
// queue that cannot be read is reported in the affected AppStatus instead.
func (c *Collector) Collect(ctx context.Context) (Snapshot, error) {
	return c.CollectPage(ctx, AppQuery{})
}

// CollectPage is Collect for the apps of q only.
func (c *Collector) CollectPage(ctx context.Context, q AppQuery) (Snapshot, error) {
	list, err := c.cfg.Runs.List(ctx, int64(c.cfg.MaxRuns))
	if err != nil {
		return Snapshot{}, fmt.Errorf("dashboard: listing runs: %w", err)
	}
	snap := Snapshot{At: time.Now().UTC()}
	if snap.Apps, snap.AppsPage, err = c.collectApps(ctx, list, q); err != nil {
		return Snapshot{}, err
	}
	snap.StoreHolds, snap.WorkersError = c.storeHolds(ctx)
	known, qerr := c.insp.Queues()
	snap.Lanes = c.queues(queueSet{known, qerr}, jobs.LaneBulk, jobs.LaneBacklog, jobs.LaneHigh)
	effective := map[string]float64{}
	for _, a := range snap.Apps {
		if a.LimiterError == "" {
			effective[a.App] = a.EffectivePerMinute
		}
	}
	snap.Runs = make([]RunStatus, 0, len(list))
	for _, r := range list {
		rs, err := c.run(ctx, r.ID, func(app string) (float64, bool) { v, ok := effective[app]; return v, ok })
		if errors.Is(err, runs.ErrNoRun) {
			continue // deleted between List and Get
		}
		if err != nil {
			return Snapshot{}, err
		}
		snap.Runs = append(snap.Runs, rs)
	}
	return snap, nil
}

func (c *Collector) collectApps(ctx context.Context, list []runs.Run, q AppQuery) ([]AppStatus, AppsPage, error) {
	rows, err := c.cfg.Runs.AppRows(ctx)
	if err != nil {
		return nil, AppsPage{}, fmt.Errorf("dashboard: campaign rows: %w", err)
	}
	names, busy, err := c.apps(ctx, list, rows)
	if err != nil {
		return nil, AppsPage{}, err
	}
	names, pg := pageOf(names, busy, q)
	known, qerr := c.insp.Queues()
	out := make([]AppStatus, 0, len(names))
	// With more apps than one page, an app without work is listed by name
	// only: a refresh then costs Redis round trips for busy apps only.
	many := pg.Total > pg.PerPage
	for _, app := range names {
		if many && !busy[app] {
			out = append(out, AppStatus{App: app, Idle: true})
			continue
		}
		a, err := c.app(ctx, app, queueSet{known, qerr})
		if err != nil {
			return nil, AppsPage{}, err
		}
		a.Totals.CampaignRows, a.Totals.Rejected, a.Totals.Cancelled = rows[app].Fed, rows[app].Rejected, rows[app].Cancelled
		a.Totals.setOpen()
		c.unserved(ctx, &a)
		out = append(out, a)
	}
	out, err = c.attachHolds(ctx, out)
	return out, pg, err
}

// pageOf filters names by q.Q, puts the busy ones first (each part
// sorted) and returns q's page of them.
func pageOf(names []string, busy map[string]bool, q AppQuery) ([]string, AppsPage) {
	pg := AppsPage{Q: q.Q, Page: max(q.Page, 1), PerPage: min(cmp.Or(q.PerPage, DefaultPerPage), MaxPerPage)}
	names = slices.DeleteFunc(names, func(s string) bool { return !strings.Contains(s, q.Q) })
	slices.SortStableFunc(names, func(a, b string) int {
		if busy[a] != busy[b] {
			if busy[a] {
				return -1
			}
			return 1
		}
		return 0
	})
	pg.Total = len(names)
	for _, n := range names {
		if busy[n] {
			pg.Busy++
		}
	}
	pg.Pages = max(1, (pg.Total+pg.PerPage-1)/pg.PerPage)
	from := min((pg.Page-1)*pg.PerPage, pg.Total)
	return names[from:min(from+pg.PerPage, pg.Total)], pg
}

// CollectRun reads one run. An unknown id gives an error wrapping
// runs.ErrNoRun.
func (c *Collector) CollectRun(ctx context.Context, id string) (RunStatus, error) {
	return c.run(ctx, id, func(app string) (float64, bool) {
		st, err := c.cfg.Limiter.State(ctx, app)
		return st.EffectivePerMinute, err == nil
	})
}

// apps merges the configured apps (Apps and AppNames), the ledger's and
// the runs', sorted; busy are those with work (the ledger's, the runs'
// and those with campaign rows).
func (c *Collector) apps(ctx context.Context, list []runs.Run, rows map[string]runs.AppRows) ([]string, map[string]bool, error) {
	seen, err := c.cfg.Ledger.Apps(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard: listing apps: %w", err)
	}
	busy := make(map[string]bool, len(seen))
	for _, a := range seen {
		busy[a] = true
	}
	for _, r := range list {
		busy[r.App] = true
	}
	for a := range rows {
		busy[a] = true
	}
	all := slices.Clone(c.cfg.Apps)
	if c.cfg.AppNames != nil {
		more, err := c.cfg.AppNames(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("dashboard: listing configured apps: %w", err)
		}
		all = append(all, more...)
	}
	for a := range busy {
		all = append(all, a)
	}
	all = slices.DeleteFunc(all, func(s string) bool { return s == "" })
	slices.Sort(all)
	return slices.Compact(all), busy, nil
}

// app reads one app. Only a failure to read the ledger (Redis down) is
// returned as an error.
func (c *Collector) app(ctx context.Context, app string, qs queueSet) (AppStatus, error) {
	a := AppStatus{App: app}
	t, err := c.cfg.Ledger.Totals(ctx, app)
	if err != nil {
		return a, fmt.Errorf("dashboard: ledger totals of %s: %w", app, err)
	}
	a.Totals = Totals{Enqueued: t["enqueued"], Stored: t[string(jobs.StatusStored)],
		Skipped: t[string(jobs.StatusSkipped)], Failed: t[string(jobs.StatusFailed)]}
	if st, err := c.cfg.Limiter.State(ctx, app); err != nil {
		a.LimiterError = redactErr(err)
	} else {
		a.CapPerMinute, a.EffectivePerMinute, a.CallsLastMinute = st.CapPerMinute, st.EffectivePerMinute, st.CallsLastMinute
		a.CooldownUntil, a.InCooldown, a.RateLimitedLastHour = st.CooldownUntil, st.InCooldown(), st.RateLimitedLastHour
		a.LastRateLimited, a.LastErrCode = st.LastRateLimited, st.LastErrCode
	}
	a.Token = c.token(ctx, app)
	if c.cfg.ACUsed != nil {
		if n, err := c.cfg.ACUsed(ctx, app); err == nil {
			a.ACUsed = &n
		}
	}
	a.Queues = c.queues(qs, jobs.LegacyQueues(app)...)
	return a, nil
}

// unserved sets the app's live workers and whether it has open work no
// live worker serves.
func (c *Collector) unserved(ctx context.Context, a *AppStatus) {
	if c.cfg.LiveWorkers == nil {
		return
	}
	n, err := c.cfg.LiveWorkers(ctx, a.App)
	if err != nil {
		return
	}
	a.LiveWorkers = &n
	q := a.Queues
	a.Unserved = n == 0 && (a.Totals.Open > 0 || q.Pending+q.Active+q.Scheduled+q.Retry > 0)
}

func (c *Collector) token(ctx context.Context, app string) *TokenStatus {
	if c.cfg.TokenState == nil {
		return nil
	}
	ts, err := c.cfg.TokenState(ctx, app)
	if err != nil {
		ts.Error = cmp.Or(ts.Error, err.Error())
	}
	ts.Error = redact(ts.Error)
	return &ts
}

// queueSet is asynq's list of queues. GetQueueInfo fails for a queue that
// does not exist yet with an error that cannot be told apart from others
// (asynq's own error kinds are internal), so existence is checked first.
type queueSet struct {
	names []string
	err   error
}

// queues adds up the asynq state of the named queues.
func (c *Collector) queues(qs queueSet, names ...string) QueueStatus {
	q := QueueStatus{Names: names}
	if qs.err != nil {
		q.Error = redactErr(qs.err)
		return q
	}
	for _, n := range names {
		if !slices.Contains(qs.names, n) {
			continue
		}
		info, err := c.insp.GetQueueInfo(n)
		if err != nil {
			q.Error = redactErr(err)
			continue
		}
		q.Pending, q.Active, q.Scheduled = q.Pending+info.Pending, q.Active+info.Active, q.Scheduled+info.Scheduled
		q.Retry, q.Archived = q.Retry+info.Retry, q.Archived+info.Archived
		if info.Paused {
			q.Paused = append(q.Paused, n)
		}
	}
	return q
}

// storeHolds lists the live workers that hold their store; an error
// reading them is returned as text for the page, not as a failure.
func (c *Collector) storeHolds(ctx context.Context) ([]StoreHold, string) {
	holds := []StoreHold{}
	if c.cfg.Workers == nil {
		return holds, ""
	}
	ws, err := c.cfg.Workers(ctx)
	if err != nil {
		return holds, redactErr(err)
	}
	for _, w := range ws {
		if w.StoreHeld != "" {
			holds = append(holds, StoreHold{Worker: w.ID, Cause: redact(w.StoreHeld), Since: w.StoreHeldSince})
		}
	}
	return holds, ""
}
