package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
)

// FleetConfig says where the fleet collector reads. Limiter, Ledger and
// Runs may each be nil to leave their series out.
type FleetConfig struct {
	Limiter *ratelimit.Limiter
	Ledger  *jobs.Ledger
	Runs    *runs.Store
	// Apps are the apps to report limiter state for, besides those the
	// ledger knows.
	Apps []string
	// Runs is how many of the newest runs are reported. Default 20.
	MaxRuns int
	// Timeout bounds one scrape's Redis reads. Default 5s.
	Timeout time.Duration
}

// Fleet is a prometheus.Collector over fleet-wide state in Redis: the
// limiter per app, the ledger totals per app, and the rows of recent
// campaign runs.
type Fleet struct {
	cfg FleetConfig

	capPerMin, effPerMin, lastMin, cooldown, cooldownLeft, limited1h *prometheus.Desc
	ledger, runRows, runTotal, runState                              *prometheus.Desc
}

// NewFleet returns the collector; register it with a registry.
func NewFleet(cfg FleetConfig) *Fleet {
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	app := []string{"app"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Fleet{
		cfg:          cfg,
		capPerMin:    d("wxacode_limiter_cap_per_minute", "Configured fleet-wide cap of interface B calls per minute.", app),
		effPerMin:    d("wxacode_limiter_effective_per_minute", "Adaptive rate in force (at most the cap).", app),
		lastMin:      d("wxacode_limiter_calls_last_minute", "Calls granted by the fleet-wide limiter in the last 60 s.", app),
		cooldown:     d("wxacode_limiter_cooldown_active", "1 while the app is in a fleet-wide cooldown after a 45009.", app),
		cooldownLeft: d("wxacode_limiter_cooldown_seconds", "Seconds left in the current cooldown (0 if none).", app),
		limited1h:    d("wxacode_limiter_rate_limited_last_hour", "45009/45011 answers reported in the last hour.", app),
		ledger:       d("wxacode_ledger_jobs", "The ledger's job counts per app and status (enqueued, stored, skipped, failed).", []string{"app", "status"}),
		runRows:      d("wxacode_run_rows", "Rows of a campaign run by status (stored, skipped, failed, in_flight, fed).", []string{"run", "campaign", "app", "status"}),
		runTotal:     d("wxacode_run_rows_total", "Rows in a campaign run.", []string{"run", "campaign", "app"}),
		runState:     d("wxacode_run_state", "1 for the state a run is in (running, paused, cancelled, done).", []string{"run", "campaign", "app", "state"}),
	}
}

// Describe implements prometheus.Collector.
func (f *Fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.capPerMin, f.effPerMin, f.lastMin, f.cooldown, f.cooldownLeft, f.limited1h, f.ledger, f.runRows, f.runTotal, f.runState} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failed Redis read becomes an
// invalid metric, which makes the scrape report the error.
func (f *Fleet) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), f.cfg.Timeout)
	defer cancel()
	apps, err := f.apps(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(f.ledger, err)
	}
	for _, app := range apps {
		f.collectLimiter(ctx, ch, app)
		f.collectLedger(ctx, ch, app)
	}
	f.collectRuns(ctx, ch)
}

func (f *Fleet) apps(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, a := range f.cfg.Apps {
		add(a)
	}
	if f.cfg.Ledger == nil {
		return out, nil
	}
	more, err := f.cfg.Ledger.Apps(ctx)
	for _, a := range more {
		add(a)
	}
	return out, err
}

func (f *Fleet) collectLimiter(ctx context.Context, ch chan<- prometheus.Metric, app string) {
	if f.cfg.Limiter == nil {
		return
	}
	st, err := f.cfg.Limiter.State(ctx, app)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(f.capPerMin, err)
		return
	}
	g := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, app)
	}
	g(f.capPerMin, float64(st.CapPerMinute))
	g(f.effPerMin, st.EffectivePerMinute)
	g(f.lastMin, float64(st.CallsLastMinute))
	left := 0.0
	if st.InCooldown() {
		left = st.CooldownUntil.Sub(st.Now).Seconds()
	}
	g(f.cooldown, boolf(st.InCooldown()))
	g(f.cooldownLeft, left)
	g(f.limited1h, float64(st.RateLimitedLastHour))
}

func (f *Fleet) collectLedger(ctx context.Context, ch chan<- prometheus.Metric, app string) {
	if f.cfg.Ledger == nil {
		return
	}
	t, err := f.cfg.Ledger.Totals(ctx, app)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(f.ledger, err)
		return
	}
	for status, n := range t {
		ch <- prometheus.MustNewConstMetric(f.ledger, prometheus.GaugeValue, float64(n), app, status)
	}
}

func (f *Fleet) collectRuns(ctx context.Context, ch chan<- prometheus.Metric) {
	if f.cfg.Runs == nil {
		return
	}
	list, err := f.cfg.Runs.List(ctx, int64(f.cfg.MaxRuns))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(f.runRows, err)
		return
	}
	for _, r := range list {
		_, c, err := f.cfg.Runs.Get(ctx, r.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(f.runRows, err)
			continue
		}
		l := []string{r.ID, r.Campaign, r.App}
		rows := func(status string, v int64) {
			ch <- prometheus.MustNewConstMetric(f.runRows, prometheus.GaugeValue, float64(v), append(l, status)...)
		}
		rows("stored", c.Stored)
		rows("skipped", c.Skipped)
		rows("failed", c.Failed)
		rows("in_flight", c.InFlight())
		rows("fed", c.Fed)
		ch <- prometheus.MustNewConstMetric(f.runTotal, prometheus.GaugeValue, float64(r.Total), l...)
		for _, s := range []string{runs.StateRunning, runs.StatePaused, runs.StateCancelled, runs.StateDone} {
			ch <- prometheus.MustNewConstMetric(f.runState, prometheus.GaugeValue, boolf(r.State == s), append(l, s)...)
		}
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
