package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/code"
)

// Validator checks one job against WeChat's rules before it is enqueued.
// It returns nil, a *RowError naming the field (Line is filled in by the
// caller), or any error (reported as the row's reason).
type Validator func(Job) error

// EnqueueConfig tunes an Enqueuer. Every zero value takes the default.
type EnqueueConfig struct {
	// Workers is how many goroutines enqueue in parallel. Default 16; the
	// Redis pool should be at least this large.
	Workers int
	// MaxRetry is asynq's retry budget per task. Default 25. The worker
	// decides finality itself well before that; the slack is for lease
	// expiries after crashes, which asynq counts as failures.
	MaxRetry int
	// Timeout bounds one handler run, limiter waits included. Default 30m.
	Timeout time.Duration
	// Attempts is how often one row's enqueue is tried when Redis errors.
	// Default 4 (with 100 ms, 400 ms, 1.6 s pauses).
	Attempts int
	// Pacer schedules each job on its app's fleet-wide schedule (a
	// ProcessAt per task, see Pacer). Nil: no pacing, every job is due at
	// once.
	Pacer Pacer
}

func (c EnqueueConfig) withDefaults() EnqueueConfig {
	c.Workers = cmp.Or(c.Workers, 16)
	c.MaxRetry = cmp.Or(c.MaxRetry, 25)
	c.Timeout = cmp.Or(c.Timeout, 30*time.Minute)
	c.Attempts = cmp.Or(c.Attempts, 4)
	return c
}

// Counts is the running tally of an enqueue, safe to read while it runs.
type Counts struct {
	Read      atomic.Int64 // rows read (valid or not)
	Enqueued  atomic.Int64 // new tasks in asynq
	Duplicate atomic.Int64 // rows whose TaskID already existed
	Rejected  atomic.Int64 // rows that failed parsing or validation
	Failed    atomic.Int64 // valid rows that could not be enqueued (Redis errors)
	// Lines, Header and Empty are the reader's Lines, set when reading
	// stops (0 for a Reader that is not a LineCounter).
	Lines, Header, Empty atomic.Int64
}

// Summary is a snapshot of Counts. After a complete read every line is
// accounted for: Lines = Header + Empty + Enqueued + Duplicate + Rejected
// + Failed (Unaccounted is 0), and Read = Lines - Header - Empty.
type Summary struct {
	Lines, Header, Empty                        int64
	Read, Enqueued, Duplicate, Rejected, Failed int64
	PerApp                                      map[string]int64 // enqueued per app
}

// Snapshot reads the counters.
func (c *Counts) Snapshot() Summary {
	return Summary{Lines: c.Lines.Load(), Header: c.Header.Load(), Empty: c.Empty.Load(), Read: c.Read.Load(),
		Enqueued: c.Enqueued.Load(), Duplicate: c.Duplicate.Load(), Rejected: c.Rejected.Load(), Failed: c.Failed.Load()}
}

// Unaccounted is how many lines of the input no count holds: 0 after a
// complete read, the lines read ahead but not processed when reading
// stopped early (ctx ended, Redis refused a scene batch).
func (s Summary) Unaccounted() int64 {
	return s.Lines - s.Header - s.Empty - s.Enqueued - s.Duplicate - s.Rejected - s.Failed
}

// countLines copies r's Lines into c, if r counts them.
func (c *Counts) countLines(r Reader) {
	if lc, ok := r.(LineCounter); ok {
		l := lc.Lines()
		c.Lines.Store(l.Read)
		c.Header.Store(l.Header)
		c.Empty.Store(l.Empty)
	}
}

// Enqueuer puts jobs into asynq, one task per job, in parallel.
type Enqueuer struct {
	client *asynq.Client
	cfg    EnqueueConfig
	Counts Counts
}

// NewEnqueuer returns an Enqueuer writing through client.
func NewEnqueuer(client *asynq.Client, cfg EnqueueConfig) *Enqueuer {
	return &Enqueuer{client: client, cfg: cfg.withDefaults()}
}

// Run reads every row of r, validates it, and enqueues the valid ones.
// Each rejected row (bad value, or a valid row Redis refused after
// Attempts tries) is passed to reject, which may be called from several
// goroutines one at a time. Run returns the summary and a non-nil error if
// the input could not be read to its end, ctx ended, or any valid row could
// not be enqueued: then Summary says exactly how many rows did what.
func (e *Enqueuer) Run(ctx context.Context, r Reader, validate Validator, reject func(*RowError)) (Summary, error) {
	var mu sync.Mutex
	rejectSafe := func(re *RowError) {
		mu.Lock()
		defer mu.Unlock()
		reject(re)
	}
	rows := make(chan Row, 4*e.cfg.Workers)
	timed := make(chan timedRow, 4*e.cfg.Workers)
	perApp := make([]map[string]int64, e.cfg.Workers)
	var wg sync.WaitGroup
	for i := range e.cfg.Workers {
		perApp[i] = map[string]int64{}
		wg.Go(func() { e.work(ctx, timed, perApp[i], rejectSafe) })
	}
	go e.pace(ctx, rows, timed)
	readErr := e.feed(ctx, r, validate, rows, rejectSafe)
	close(rows)
	wg.Wait()
	s := e.Counts.Snapshot()
	s.PerApp = map[string]int64{}
	for _, m := range perApp {
		for app, n := range m {
			s.PerApp[app] += n
		}
	}
	if readErr != nil {
		return s, readErr
	}
	if s.Failed > 0 {
		return s, fmt.Errorf("jobs: %d valid rows could not be enqueued (listed as rejects)", s.Failed)
	}
	return s, ctx.Err()
}

// feed reads and validates rows and hands the valid ones to the workers.
func (e *Enqueuer) feed(ctx context.Context, r Reader, validate Validator, rows chan<- Row, reject func(*RowError)) error {
	return Check(ctx, r, validate, &e.Counts, reject, func(row Row) error {
		select {
		case rows <- row:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// Check reads every row of r and validates it, calling reject for each bad
// row and accept (if not nil) for each good one. It counts into c, the
// reader's lines included. It stops at the first error from the input or
// from accept.
func Check(ctx context.Context, r Reader, validate Validator, c *Counts, reject func(*RowError), accept func(Row) error) error {
	defer c.countLines(r)
	for ctx.Err() == nil {
		row, err := r.Next()
		if err == io.EOF {
			return nil
		}
		var re *RowError
		if errors.As(err, &re) && !isFatal(err) {
			c.Read.Add(1)
			c.Rejected.Add(1)
			reject(re)
			continue
		}
		if err != nil {
			return fmt.Errorf("jobs: reading input after %d rows: %w", c.Read.Load(), err)
		}
		c.Read.Add(1)
		if err := validate(row.Job); err != nil {
			c.Rejected.Add(1)
			reject(asRowError(err, row.Line))
			continue
		}
		if accept != nil {
			if err := accept(row); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

func isFatal(err error) bool {
	var f fatalHeader
	return errors.As(err, &f)
}

func asRowError(err error, line int64) *RowError {
	var re *RowError
	if errors.As(err, &re) {
		cp := *re
		cp.Line = line
		return &cp
	}
	return &RowError{Line: line, Reason: err.Error()}
}

func (e *Enqueuer) work(ctx context.Context, rows <-chan timedRow, perApp map[string]int64, reject func(*RowError)) {
	for row := range rows {
		err := e.enqueue(ctx, row.Job, row.at)
		switch {
		case err == nil:
			e.Counts.Enqueued.Add(1)
			perApp[row.Job.App]++
		case errors.Is(err, asynq.ErrTaskIDConflict):
			e.Counts.Duplicate.Add(1)
		default:
			e.Counts.Failed.Add(1)
			reject(&RowError{Line: row.Line, Field: code.FieldScene, Value: row.Job.Scene, Reason: "not enqueued: " + err.Error()})
		}
	}
}

// enqueue tries one job up to Attempts times while Redis errors.
func (e *Enqueuer) enqueue(ctx context.Context, j Job, at time.Time) error {
	task, opts, err := e.TaskAt(j, at)
	if err != nil {
		return err
	}
	pause := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err = e.client.EnqueueContext(ctx, task, opts...)
		if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) || attempt == e.cfg.Attempts || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		pause *= 4
	}
}

// Task builds the asynq task and options of a job, due at once.
func (e *Enqueuer) Task(j Job) (*asynq.Task, []asynq.Option, error) {
	return e.TaskAt(j, time.Time{})
}

// TaskAt builds the asynq task and options of a job due at at (a time not
// in the future: due at once, straight to its lane's pending list).
func (e *Enqueuer) TaskAt(j Job, at time.Time) (*asynq.Task, []asynq.Option, error) {
	payload, err := j.Encode()
	if err != nil {
		return nil, nil, err
	}
	opts := []asynq.Option{
		asynq.TaskID(j.TaskID()),
		asynq.Queue(j.QueueAt(at, time.Now())),
		asynq.MaxRetry(e.cfg.MaxRetry),
		asynq.Timeout(e.cfg.Timeout),
	}
	if at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	return asynq.NewTask(TaskType, payload), opts, nil
}
