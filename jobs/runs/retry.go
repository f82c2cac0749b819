package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
)

// RetryFailed gives every failed row of a finished run another try (rows
// rejected as invalid input are left alone: they would fail again). Their
// archived tasks are deleted first, since a task id is refused while its
// archived copy exists. The run goes back to running and is finished again
// (new manifest) once each retried row has a new outcome. It returns how
// many rows were retried.
func (f *Feeder) RetryFailed(ctx context.Context, id string, insp *asynq.Inspector) (int, error) {
	run, _, err := f.Runs.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	if run.State != StateDone {
		return 0, fmt.Errorf("runs: run %s is %s: retry failed rows once it is done", id, run.State)
	}
	var def campaign.Definition
	if err := json.Unmarshal(run.Definition, &def); err != nil {
		return 0, err
	}
	rows := map[int64]bool{}
	err = f.Runs.Failures(ctx, id, func(fl Failure) error {
		if !fl.Input && !strings.HasPrefix(fl.Reason, "rejected") { // the prefix: records from before Input
			rows[fl.Row] = true
		}
		return nil
	})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	list := make([]int64, 0, len(rows))
	for r := range rows {
		list = append(list, r)
	}
	if err := f.Runs.MarkRetry(ctx, id, list); err != nil {
		return 0, err
	}
	if err := f.Runs.Update(ctx, id, func(r *Run) { r.State, r.Manifest, r.Failures = StateRunning, "", "" }); err != nil {
		return 0, err
	}
	if err := f.requeue(ctx, run, def, rows, insp); err != nil {
		return 0, err
	}
	task, opts := FeedTask(id)
	if _, err := f.Client.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return 0, err
	}
	return len(rows), nil
}

// requeue enqueues the given rows of the run again.
func (f *Feeder) requeue(ctx context.Context, run Run, def campaign.Definition, rows map[int64]bool, insp *asynq.Inspector) error {
	src, err := def.Open(ctx, f.Store, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	for {
		idx, row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var re *jobs.RowError
		if err != nil && !errors.As(err, &re) {
			return err
		}
		if err != nil || !rows[idx] {
			continue
		}
		j, err := runJob(run, def, idx, row.Job)
		if err != nil {
			return err
		}
		for _, q := range j.QueuesOf() {
			if err := insp.DeleteTask(q, j.TaskID()); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
				return err
			}
		}
		if err := f.enqueue(ctx, run, def, idx, row.Job); err != nil {
			return err
		}
	}
}
