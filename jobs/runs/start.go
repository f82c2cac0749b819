package runs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs/campaign"
)

// FireTaskType is the periodic task the scheduler enqueues for a campaign;
// its payload is the campaign's definition.
const FireTaskType = "wxacode:fire"

// FireTask returns the periodic task of a campaign.
func FireTask(def campaign.Definition) (*asynq.Task, error) {
	b, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(FireTaskType, b, asynq.Queue(FeedQueue), asynq.MaxRetry(3)), nil
}

// Start creates a run of def over its whole source and enqueues its
// feeder. id "" picks a new id (name + time + random). It fails if the
// run exists. scheduled is the tick a scheduler fired for (zero by hand).
func (f *Feeder) Start(ctx context.Context, def campaign.Definition, id string, scheduled time.Time) (Run, error) {
	if err := def.CheckLocalObject(f.Store, f.SourceDirs); err != nil {
		return Run{}, err
	}
	total, err := def.Count(ctx, f.Store)
	if err != nil {
		return Run{}, fmt.Errorf("runs: counting the rows of %s: %w", def.Name, err)
	}
	b, err := json.Marshal(def)
	if err != nil {
		return Run{}, err
	}
	if id == "" {
		id = newID(def.Name, time.Now())
	}
	r := Run{ID: id, Campaign: def.Name, App: def.App, Total: total, Window: def.WindowOrDefault(),
		State: StateRunning, Created: time.Now().UTC(), Scheduled: scheduled, Definition: b, ChunkRows: f.ChunkRows}
	if f.OnStart != nil {
		if err := f.OnStart(ctx, def); err != nil {
			return Run{}, fmt.Errorf("runs: starting %s: %w", def.Name, err)
		}
	}
	if err := f.Runs.Create(ctx, r); err != nil {
		return Run{}, err
	}
	task, opts := FeedTask(id)
	if _, err := f.Client.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return r, fmt.Errorf("runs: run %s created but its feeder not enqueued (run `campaign resume %s`): %w", id, id, err)
	}
	return r, nil
}

func newID(name string, t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return name + "-" + t.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

// Fire handles a scheduler tick: the first of any number of schedulers to
// claim (campaign, scheduled time) starts the run; the others do nothing.
func (f *Feeder) Fire(ctx context.Context, t *asynq.Task) error {
	var def campaign.Definition
	if err := json.Unmarshal(t.Payload(), &def); err != nil {
		return fmt.Errorf("runs: bad fire payload: %v: %w", err, asynq.SkipRetry)
	}
	tick, err := lastTick(def, time.Now())
	if err != nil {
		return fmt.Errorf("runs: %v: %w", err, asynq.SkipRetry)
	}
	ok, err := f.Runs.Claim(ctx, def.Name, tick)
	if err != nil || !ok {
		return err
	}
	id := def.Name + "-" + tick.UTC().Format("20060102T150405")
	r, err := f.Start(ctx, def, id, tick)
	if err != nil {
		return err
	}
	f.Log.Info("scheduled run started", "run", r.ID, "campaign", def.Name, "rows", r.Total)
	return nil
}

// lastTick is the latest scheduled time of def at or before now (a fire
// task runs a little after its tick). It looks back one second, minute,
// hour and day in turn, so that frequent schedules cost few steps.
func lastTick(def campaign.Definition, now time.Time) (time.Time, error) {
	for _, back := range []time.Duration{time.Second, time.Minute, time.Hour, 25 * time.Hour} {
		t, err := def.NextRun(now.Add(-back))
		if err != nil {
			return t, err
		}
		if t.After(now) {
			continue
		}
		for {
			next, err := def.NextRun(t)
			if err != nil || next.After(now) {
				return t, err
			}
			t = next
		}
	}
	return time.Time{}, fmt.Errorf("campaign %s has no scheduled time in the day before %s", def.Name, now.Format(time.RFC3339))
}
