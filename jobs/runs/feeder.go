package runs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/storage"
)

// FeedTaskType is the asynq task that feeds one run; FeedQueue its queue.
// A feeder is an ordinary long task: if its worker dies, asynq hands it to
// another worker after the lease expires and it resumes from the checkpoint.
const (
	FeedTaskType = "wxacode:feed"
	FeedQueue    = "wxacode-feed"
)

// Feeder keeps at most Window jobs of a run pending in asynq, topping the
// window up as jobs finish and checkpointing how far it got.
type Feeder struct {
	Runs     *Store
	Client   *asynq.Client
	Enqueuer *jobs.Enqueuer // builds task options (TaskID, queue, retries)
	Store    storage.Store  // object sources, manifests
	// KeyOf gives a job's object key (the worker's key template), for the
	// manifest. Nil: the manifest has no keys.
	KeyOf    func(jobs.Job) string
	Validate jobs.Validator
	Log      *slog.Logger
	// Poll is how often a full window or a paused run is looked at again.
	// Default 250ms.
	Poll time.Duration
	// Batch is how many rows are enqueued between checkpoints. Default 1000.
	Batch int
	// PartRows is how many rows one manifest object holds. Default
	// ManifestPartRows.
	PartRows int
	// OnStart, if set, runs when a run is created, before its feeder: the
	// worker uses it to set the campaign's share of the app's rate.
	OnStart func(ctx context.Context, def campaign.Definition) error
	// Scenes issues short scenes for rows that carry parameters (a params
	// column, key or format); zero: such rows are recorded as failures.
	Scenes jobs.SceneIssuer
	// SourceDirs are the local directories file:// object sources outside
	// Store may be read from (campaign.Definition.CheckLocalObject); none
	// by default.
	SourceDirs []string

	stopMu sync.Mutex
	stopCh chan struct{} // closed by Stop
}

type feedPayload struct {
	Run string `json:"run"`
}

// FeedTask returns the asynq task that feeds run id. Its TaskID is fixed,
// so a run has one feeder at a time.
func FeedTask(id string) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(feedPayload{Run: id})
	return asynq.NewTask(FeedTaskType, b), []asynq.Option{
		asynq.Queue(FeedQueue), asynq.TaskID("feed-" + id), asynq.MaxRetry(1000), asynq.Timeout(30 * 24 * time.Hour),
	}
}

// ProcessTask feeds the run named in the task until it is done, cancelled
// or ctx ends (shutdown: the task goes back to the queue and resumes).
func (f *Feeder) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p feedPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Run == "" {
		return fmt.Errorf("runs: bad feed payload: %w", asynq.SkipRetry)
	}
	ctx, done := f.untilStopped(ctx)
	return done(f.Feed(ctx, p.Run))
}

// Feed runs the feeding loop of run id. It is safe to call again after a
// crash: rows before the checkpoint are not read again for enqueueing, rows
// after it are enqueued with deterministic TaskIDs (duplicates refused) and
// recorded per row (repeats not counted).
func (f *Feeder) Feed(ctx context.Context, id string) error {
	run, c, err := f.Runs.Get(ctx, id)
	if err != nil {
		return err
	}
	var def campaign.Definition
	if err := json.Unmarshal(run.Definition, &def); err != nil {
		return fmt.Errorf("runs: run %s: definition: %v: %w", id, err, asynq.SkipRetry)
	}
	src, err := def.Open(ctx, f.Store, c.Fed)
	if err != nil {
		return err
	}
	defer src.Close()
	fed := c.Fed
	for {
		run, c, err = f.Runs.Get(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case run.State == StateCancelled || run.State == StateDone:
			return nil
		case fed >= run.Total && c.Finished() >= run.Total && c.Retrying <= 0:
			return f.finish(ctx, run, def)
		}
		room := int64(run.Window) - (fed - c.Finished())
		if run.State == StatePaused || fed >= run.Total || room <= 0 {
			if err := sleep(ctx, cmp.Or(f.Poll, 250*time.Millisecond)); err != nil {
				return err
			}
			continue
		}
		if fed, err = f.feedBatch(ctx, run, def, src, fed, min(room, int64(cmp.Or(f.Batch, 1000)))); err != nil {
			return err
		}
	}
}

// feedBatch enqueues up to n rows and checkpoints. A source shorter than
// the run's total (the file changed) ends the run's input there. The
// batch's jobs are paced together (jobs.Enqueuer.Schedule: one schedule
// reservation per budget) and enqueued before the checkpoint moves.
func (f *Feeder) feedBatch(ctx context.Context, run Run, def campaign.Definition, src campaign.RowSource, fed, n int64) (int64, error) {
	var batch []rowJob
	for range n {
		idx, row, err := src.Next()
		if errors.Is(err, io.EOF) {
			if fed < run.Total {
				f.Log.Warn("run source ended early: total lowered", "run", run.ID, "rows", fed, "total", run.Total)
				if uerr := f.Runs.Update(ctx, run.ID, func(r *Run) { r.Total = fed }); uerr != nil {
					return fed, uerr
				}
			}
			break
		}
		var j jobs.Job
		if err == nil {
			j, err = f.sceneOf(ctx, row)
		}
		var re *jobs.RowError
		switch {
		case errors.As(err, &re):
			_, err = f.Runs.Record(ctx, run.ID, idx, jobs.StatusFailed, nil, rejected(re))
		case err != nil:
			return fed, err
		default:
			var ok bool
			if j, ok, err = f.prepare(ctx, run, def, idx, j); ok {
				batch = append(batch, rowJob{idx, j})
			}
		}
		if err != nil {
			return fed, err
		}
		fed = idx + 1
	}
	if err := f.enqueueAll(ctx, batch); err != nil {
		return fed, err
	}
	return fed, f.Runs.SetFed(ctx, run.ID, fed)
}

// rowJob is a run's row and the job it became.
type rowJob struct {
	idx int64
	job jobs.Job
}

// runJob is the job row idx becomes in run: run, row, force and the
// campaign's key set. Every place that needs its TaskID builds it here.
func runJob(run Run, def campaign.Definition, idx int64, j jobs.Job) (jobs.Job, error) {
	j.Run, j.Row, j.Force, j.High = run.ID, idx, !def.SkipExistingOrDefault(), def.Urgent()
	if def.RateShareOrDefault() < 1 {
		j.Budget = jobs.BudgetKey(j.App, def.Name)
	}
	if def.KeyTemplate != "" {
		key, err := campaignKey(def.KeyTemplate, j)
		if err != nil {
			return j, fmt.Errorf("runs: key_template: %v: %w", err, asynq.SkipRetry)
		}
		j.Key = key
	}
	return j, nil
}

// prepare makes row idx the run's job and validates it; a row that breaks
// a rule is recorded as the run's failure and not queued (ok false).
func (f *Feeder) prepare(ctx context.Context, run Run, def campaign.Definition, idx int64, j jobs.Job) (jobs.Job, bool, error) {
	j, err := runJob(run, def, idx, j)
	if err != nil {
		return j, false, err
	}
	if err := f.Validate(j); err != nil {
		fl := &Failure{Reason: "rejected: " + err.Error(), Input: true, Cause: err.Error()}
		var re *jobs.RowError
		if errors.As(err, &re) {
			fl = rejected(re)
		}
		fl.Scene = j.Scene
		_, err := f.Runs.Record(ctx, run.ID, idx, jobs.StatusFailed, nil, fl)
		return j, false, err
	}
	return j, true, nil
}

// enqueue makes row idx the run's job and enqueues it alone.
func (f *Feeder) enqueue(ctx context.Context, run Run, def campaign.Definition, idx int64, j jobs.Job) error {
	j, ok, err := f.prepare(ctx, run, def, idx, j)
	if !ok || err != nil {
		return err
	}
	return f.enqueueAll(ctx, []rowJob{{idx, j}})
}

// enqueueAll paces and enqueues prepared jobs. A job already there (a
// feeder that crashed after enqueueing it) is not an error.
func (f *Feeder) enqueueAll(ctx context.Context, batch []rowJob) error {
	js := make([]jobs.Job, len(batch))
	for i, b := range batch {
		js[i] = b.job
	}
	at := f.Enqueuer.Schedule(ctx, js)
	for i, j := range js {
		task, opts, err := f.Enqueuer.TaskAt(j, at[i])
		if err != nil {
			return err
		}
		_, err = f.Client.EnqueueContext(ctx, task, opts...)
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// campaignKey renders the campaign's own key template for a job. The
// extension follows the code (png when transparent); the worker converts
// the image to match the key.
func campaignKey(tmpl string, j jobs.Job) (string, error) {
	t, err := storage.ParseKeyTemplate(tmpl)
	if err != nil {
		return "", err
	}
	return t.Key(j.KeyParams(false)), nil
}

// rejected is the failure of a row whose input breaks a rule: the field
// and the rule are its cause, so that explain groups such rows by what is
// wrong with them, not by the first one's value.
func rejected(re *jobs.RowError) *Failure {
	cause := re.Reason
	if re.Field != "" {
		cause = re.Field + ": " + re.Reason
	}
	return &Failure{Reason: "rejected: " + re.Error(), Input: true, Cause: cause}
}
