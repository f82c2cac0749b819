package runs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
)

// RowJob returns the job that row idx of run id becomes (the campaign's
// options, run, row, key), reading the run's source again: generators jump
// to the row, files and objects are re-read up to it. A row that does not
// parse returns its *jobs.RowError; a row past the source's end an error
// saying so.
func (f *Feeder) RowJob(ctx context.Context, id string, idx int64) (jobs.Job, error) {
	run, _, err := f.Runs.Get(ctx, id)
	if err != nil {
		return jobs.Job{}, err
	}
	if idx < 0 || idx >= run.Total {
		return jobs.Job{}, fmt.Errorf("runs: run %s has rows 0..%d, not %d", id, run.Total-1, idx)
	}
	var def campaign.Definition
	if err := json.Unmarshal(run.Definition, &def); err != nil {
		return jobs.Job{}, fmt.Errorf("runs: run %s: definition: %v", id, err)
	}
	src, err := def.Open(ctx, f.Store, idx)
	if err != nil {
		return jobs.Job{}, err
	}
	defer src.Close()
	i, row, err := src.Next()
	if err != nil {
		return jobs.Job{}, err
	}
	if i != idx {
		return jobs.Job{}, fmt.Errorf("runs: run %s: source gave row %d for %d", id, i, idx)
	}
	j, err := f.sceneOf(ctx, row)
	if err != nil {
		return j, err
	}
	return runJob(run, def, idx, j)
}

// Failure returns the recorded failure of one row, if any.
func (s *Store) Failure(ctx context.Context, id string, row int64) (Failure, bool, error) {
	v, err := s.rdb.HGet(ctx, s.key(id, "f"), strconv.FormatInt(row, 10)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Failure{}, false, nil
	}
	if err != nil {
		return Failure{}, false, err
	}
	var f Failure
	if err := json.Unmarshal(v, &f); err != nil {
		return Failure{}, false, fmt.Errorf("runs: run %s row %d: failure record: %v", id, row, err)
	}
	return f, true, nil
}

// RecentFailures is how many of a run's newest failures the ledger keeps
// in order, for dashboards (every failure is kept by row regardless).
const RecentFailures = 100

// FailureCounts are a run's failed rows by cause.
type FailureCounts struct {
	// ByCode counts failures by WeChat errcode (0: failed without one,
	// after WeChat was or would have been called: storage, a bad job).
	ByCode map[int]int64
	// Input counts rows rejected before enqueue for their input.
	Input int64
}

// Total is every failed row.
func (c FailureCounts) Total() int64 {
	n := c.Input
	for _, k := range c.ByCode {
		n += k
	}
	return n
}

func (c *FailureCounts) add(f Failure) {
	if f.Input {
		c.Input++
		return
	}
	c.ByCode[f.Code]++
}

// FailureCodes counts a run's failed rows by errcode and rejected input
// from a hash the ledger keeps up to date, without reading the failures
// themselves.
func (s *Store) FailureCodes(ctx context.Context, id string) (FailureCounts, error) {
	out := FailureCounts{ByCode: map[int]int64{}}
	m, err := s.rdb.HGetAll(ctx, s.key(id, "codes")).Result()
	if err != nil {
		return out, err
	}
	for k, v := range m {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch code, cerr := strconv.Atoi(k); {
		case n <= 0:
		case k == inputKey:
			out.Input = n
		case cerr == nil:
			out.ByCode[code] = n
		}
	}
	return out, nil
}

// Recent returns up to n of the run's newest failures, newest first, each
// row once and only while it is still failed (a row that later succeeded
// is left out). n is at most RecentFailures.
func (s *Store) Recent(ctx context.Context, id string, n int) ([]Failure, error) {
	vals, err := s.rdb.LRange(ctx, s.key(id, "recent"), 0, RecentFailures-1).Result()
	if err != nil {
		return nil, err
	}
	var out []Failure
	seen := map[int64]bool{}
	for _, v := range vals {
		var f Failure
		if json.Unmarshal([]byte(v), &f) != nil || seen[f.Row] {
			continue
		}
		seen[f.Row] = true
		if st, err := s.RowStatus(ctx, id, f.Row); err != nil {
			return nil, err
		} else if st != "failed" {
			continue
		}
		if out = append(out, f); len(out) == n {
			break
		}
	}
	return out, nil
}

// FailureSummary returns the run's failed rows by errcode and its n newest
// failures (n at most RecentFailures), from the ledger's summaries. A run
// recorded before the ledger kept summaries (counts that do not add up to
// its failed rows) is read in full instead.
func (s *Store) FailureSummary(ctx context.Context, id string, n int) (FailureCounts, []Failure, error) {
	_, c, err := s.Get(ctx, id)
	if err != nil {
		return FailureCounts{}, nil, err
	}
	byCode, err := s.FailureCodes(ctx, id)
	if err != nil {
		return FailureCounts{}, nil, err
	}
	if byCode.Total() == c.Failed {
		recent, err := s.Recent(ctx, id, n)
		return byCode, recent, err
	}
	byCode = FailureCounts{ByCode: map[int]int64{}}
	var all []Failure
	err = s.Failures(ctx, id, func(f Failure) error {
		byCode.add(f)
		all = append(all, f)
		return nil
	})
	slices.SortFunc(all, func(a, b Failure) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.Row, b.Row)) })
	return byCode, all[:min(len(all), n)], err
}

// AppRows are an app's rows over all its campaign runs.
type AppRows struct {
	Fed      int64 // rows fed to the queue (rejected ones included)
	Rejected int64 // of those, rows refused for their input, never queued
	// Cancelled is, of those, rows of cancelled runs without an outcome
	// (Counts.Cancelled): not open, never to be done.
	Cancelled int64
}

// AppRows adds up every run's rows per app: three reads per run,
// pipelined appRowsBatch runs at a time (status and every dashboard
// refresh call it). A nil Store has none; a run deleted meanwhile is
// skipped.
func (s *Store) AppRows(ctx context.Context) (map[string]AppRows, error) {
	out := map[string]AppRows{}
	if s == nil {
		return out, nil
	}
	ids, err := s.rdb.ZRange(ctx, s.indexKey(), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	for len(ids) > 0 {
		n := min(len(ids), appRowsBatch)
		if err := s.addAppRows(ctx, ids[:n], out); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

const appRowsBatch = 200

// addAppRows reads the app, counts and rejected rows of the runs ids in
// one pipeline and adds them to out.
func (s *Store) addAppRows(ctx context.Context, ids []string, out map[string]AppRows) error {
	type reads struct {
		meta, input *redis.StringCmd
		n           *redis.SliceCmd
	}
	pipe := s.rdb.Pipeline()
	rs := make([]reads, len(ids))
	for i, id := range ids {
		rs[i] = reads{meta: pipe.Get(ctx, s.key(id, "meta")), input: pipe.HGet(ctx, s.key(id, "codes"), inputKey),
			n: pipe.HMGet(ctx, s.key(id, "n"), "fed", "stored", "skipped", "failed")}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for _, r := range rs {
		var run struct{ App, State string }
		b, err := r.meta.Bytes()
		if errors.Is(err, redis.Nil) {
			continue // deleted between the index and the read
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &run); err != nil {
			return err
		}
		var n [4]int64
		for k, v := range r.n.Val() {
			str, _ := v.(string)
			n[k], _ = strconv.ParseInt(str, 10, 64)
		}
		c := Counts{Fed: n[0], Stored: n[1], Skipped: n[2], Failed: n[3]}
		input, _ := strconv.ParseInt(r.input.Val(), 10, 64)
		t := out[run.App]
		t.Fed, t.Rejected = t.Fed+c.Fed, t.Rejected+max(0, input)
		if run.State == StateCancelled {
			t.Cancelled += max(0, c.Fed-c.Finished()) // as Get counts Cancelled
		}
		out[run.App] = t
	}
	return nil
}
