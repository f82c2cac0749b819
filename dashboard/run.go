package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wxacode/wxacode/jobs/runs"
)

// run reads one run; effective gives its app's effective rate per minute
// (false when unknown, and then there is no ETA).
func (c *Collector) run(ctx context.Context, id string, effective func(app string) (float64, bool)) (RunStatus, error) {
	r, n, err := c.cfg.Runs.Get(ctx, id)
	if err != nil {
		return RunStatus{}, fmt.Errorf("dashboard: reading run: %w", err)
	}
	rs := RunStatus{ID: r.ID, Campaign: r.Campaign, App: r.App, State: r.State, Total: r.Total, Window: r.Window,
		Created: r.Created, Scheduled: r.Scheduled, Finished: r.Finished,
		Fed: n.Fed, Stored: n.Stored, Skipped: n.Skipped, Failed: n.Failed, Retrying: n.Retrying,
		InFlight: n.InFlight(), Cancelled: n.Cancelled, Done: n.Finished()}
	rs.progress(time.Now(), effective)
	if rs.FailuresByCode, rs.LatestFailures, err = c.failures(ctx, id); err != nil {
		return RunStatus{}, fmt.Errorf("dashboard: failures of run %s: %w", id, err)
	}
	rs.Files = c.files(r)
	return rs, nil
}

// progress fills in percent, rate and ETA the way `wxacode status RUN`
// computes them.
func (rs *RunStatus) progress(now time.Time, effective func(app string) (float64, bool)) {
	end := now
	if !rs.Finished.IsZero() {
		end = rs.Finished
	}
	rs.RatePerMinute = float64(rs.Done) / max(end.Sub(rs.Created).Minutes(), 1.0/60)
	switch {
	case rs.Total > 0:
		rs.Percent = min(100, 100*float64(rs.Done)/float64(rs.Total))
	case rs.State == runs.StateDone:
		rs.Percent = 100
	}
	if rs.State != runs.StateRunning && rs.State != runs.StatePaused {
		return
	}
	if eff, ok := effective(rs.App); ok {
		if left, ok := runs.TimeLeft(rs.Total-rs.Done, eff); ok {
			eta := Seconds(left)
			rs.ETA = &eta
		}
	}
}

// failures reads the run's failure counts by errcode, most frequent
// first, and its newest c.cfg.Failures failures, redacted.
func (c *Collector) failures(ctx context.Context, id string) ([]CodeCount, []runs.Failure, error) {
	byCode, latest, err := c.cfg.Runs.FailureSummary(ctx, id, c.cfg.Failures)
	if err != nil {
		return nil, nil, err
	}
	codes := make([]CodeCount, 0, len(byCode.ByCode)+1)
	for code, k := range byCode.ByCode {
		codes = append(codes, CodeCount{Code: code, Count: k})
	}
	if byCode.Input > 0 {
		codes = append(codes, CodeCount{Input: true, Count: byCode.Input})
	}
	slices.SortFunc(codes, func(a, b CodeCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code)) })
	latest = slices.Clone(latest)
	if latest == nil {
		latest = []runs.Failure{} // [] in JSON, not null
	}
	for i := range latest {
		latest[i].Msg, latest[i].Reason = redact(latest[i].Msg), redact(latest[i].Reason)
	}
	return codes, latest, nil
}

// failuresKey is where the feeder writes a finished run's failures file
// (jobs/runs finish); keep the two in step.
func failuresKey(id string) string { return runs.FailuresKey(id) }

// files lists a finished run's manifest parts and failures file.
func (c *Collector) files(r runs.Run) []File {
	if r.Manifest == "" && r.ManifestParts == 0 {
		return nil
	}
	// The failures file first: a long manifest list is cut short on the page.
	out := []File{c.file("failures", failuresKey(r.ID))}
	for n := range max(r.ManifestParts, 1) {
		out = append(out, c.file(fmt.Sprintf("manifest part %d", n), runs.ManifestKey(r.ID, n)))
	}
	return out
}

func (c *Collector) file(name, key string) File {
	f := File{Name: name, Key: key}
	if c.cfg.Store != nil {
		f.URL = c.cfg.Store.URL(key)
	}
	return f
}
