package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	return runJob(run, def, idx, row.Job)
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
