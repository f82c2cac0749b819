package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/storage"
)

// Handler processes scene jobs; it is an asynq.Handler.
type Handler struct {
	deps Deps
	cfg  Config
	log  *slog.Logger
	apps AppSet

	mu   sync.Mutex
	held map[string]appHold // apps held after an error no retry cures
	// rejectedAt is the app's last rejected fresh token.
	rejectedAt map[string]freshReject
	runState   map[string]runState  // cached state of campaign runs
	parkFullAt map[string]time.Time // when each app's full park was last logged
	removed    map[string]removedApp
	waiting    map[string]int // jobs of this process waiting in place per rate budget (MaxWaiting)

	// parkChecked is when the park marker was last read, parkSeen when an
	// image was last known to be parked (0: none), unix nanoseconds.
	parkChecked, parkSeen atomic.Int64

	outage     outage            // storage unavailable since when, for the whole process
	outageWait outageWait        // how long jobs wait for unavailable storage
	storeHold  storeHold         // held after a configuration answer of the store
	holds      *apphold.Registry // the fleet's app holds
}

// NewHandler checks deps and returns a handler.
func NewHandler(d Deps, cfg Config) (*Handler, error) {
	if d.Redis == nil || d.Client == nil || d.Limiter == nil || d.Store == nil || d.Ledger == nil || d.Keys == nil {
		return nil, errors.New("worker: Redis, Client, Limiter, Store, Ledger and Keys are all required")
	}
	h := &Handler{deps: d, cfg: cfg.withDefaults(), log: d.Logger, apps: d.AppSet, held: map[string]appHold{}, rejectedAt: map[string]freshReject{}, runState: map[string]runState{},
		removed: map[string]removedApp{}, parkFullAt: map[string]time.Time{}, outageWait: defaultOutageWait}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.holds = h.cfg.Holds
	if h.holds == nil {
		h.holds = apphold.New(d.Redis, apphold.Config{Key: h.cfg.KeyPrefix + "holds"})
	}
	if h.apps != nil {
		return h, nil
	}
	if len(d.Apps) == 0 {
		return nil, errors.New("worker: no apps configured")
	}
	for _, a := range d.Apps {
		if err := code.ValidateApp(a.AppID); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
		if a.Tokens == nil {
			return nil, fmt.Errorf("worker: app %q needs a token source", a.AppID)
		}
	}
	h.apps = StaticApps(d.Apps)
	return h, nil
}

// job is one run of one task.
type job struct {
	jobs.Job
	id      string
	key     string
	params  storage.KeyParams
	tries   int // runs so far, this one included
	lastTry bool
	app     App
	force   bool // regenerate even if the object exists (never over another code)
	existed bool // the key held this job's code before it was generated
}

// ProcessTask runs one job. See the package doc for what each error does.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	j, err := h.prepare(ctx, t)
	if err != nil {
		return err
	}
	log := h.log.With("task", j.id, "app", j.App, "scene", j.Scene)
	if err := h.storeHeld(ctx, j); err != nil {
		return err // a code that cannot be stored is not generated
	}
	if done, err := h.checkExisting(ctx, j); done || err != nil {
		return h.transient(ctx, j, log, err)
	}
	img, err := h.parked(ctx, j.id)
	if err != nil {
		log.Warn("reading parked image", "err", err)
	}
	fromPark := img != nil
	if img == nil {
		if err := h.parkFull(ctx, j); err != nil {
			return err // the store is not taking what was fetched already
		}
		img, err = h.generate(ctx, j)
		if err != nil {
			return h.classify(ctx, j, log, err)
		}
	}
	return h.transient(ctx, j, log, h.store(ctx, j, img, fromPark))
}

// prepare decodes the task. Undecodable payloads and unknown apps are
// recorded as final failures and never retried.
func (h *Handler) prepare(ctx context.Context, t *asynq.Task) (*job, error) {
	id, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, inAsynq := asynq.GetMaxRetry(ctx)
	j := &job{id: id, tries: retried + 1, lastTry: inAsynq && retried >= maxRetry}
	var err error
	j.Job, err = jobs.Decode(t.Payload())
	if j.id == "" {
		j.id = j.TaskID() // outside asynq (tests, direct calls): the same deterministic id
	}
	if err == nil {
		switch j.app, err = h.apps.Lookup(ctx, j.App); {
		case isNotServed(err):
			return nil, h.unserved(ctx, j)
		case err != nil:
			return nil, h.appUnavailable(ctx, j, err)
		}
		h.forgetRemoved(j.App)
	}
	if err != nil {
		app := j.App
		if app == "" {
			app = "_unknown"
		}
		if id == "" { // outside asynq: key the record by the payload itself
			sum := sha256.Sum256(t.Payload())
			id = "payload-" + hex.EncodeToString(sum[:8])
		}
		o := jobs.Outcome{TaskID: id, Status: jobs.StatusFailed, Scene: j.Scene, Reason: "bad job: " + err.Error(), Tries: j.tries}
		if rerr := h.deps.Ledger.Record(ctx, app, o); rerr != nil {
			return nil, rerr // retried: the failure must be recorded
		}
		h.log.Error("bad job", "task", id, "err", err)
		return nil, fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	switch st := h.runGate(ctx, j.Run); {
	case st.state == runs.StateCancelled:
		return nil, fmt.Errorf("run %s cancelled: %w", j.Run, asynq.RevokeTask)
	case st.state == runs.StatePaused && !j.lastTry:
		return nil, h.yield(ctx, j, &YieldError{After: pausedDelay(time.Since(st.pausedSeen)), Reason: "run " + j.Run + " paused"})
	}
	j.force = j.Force || h.cfg.Force
	j.params = j.KeyParams(h.cfg.PNG)
	j.key = keyFor(h.deps.Keys, j.Job, j.params)
	if err := h.check(j); err != nil {
		return nil, h.recordFailed(ctx, j, "bad job: "+err.Error(), nil)
	}
	return j, nil
}

// unservedDelay is how long a job of an app this worker does not serve is
// handed back for: the lanes are shared by all apps, so another worker
// (one whose apps include it) takes it, or it waits for one to start. Short,
// because the app may have just been added to the registry (a job can
// arrive before this worker's next look at it); an unserved job costs one
// dequeue per period.
const unservedDelay = 10 * time.Second

// unserved hands back a job of an app this worker does not serve, as a
// non-failure (on its last asynq retry it is recorded as failed instead).
func (h *Handler) unserved(ctx context.Context, j *job) error {
	h.log.Debug("job of an app this worker does not serve handed back", "task", j.id, "app", j.App)
	return h.yield(ctx, j, &YieldError{After: unservedDelay + jitter(unservedDelay), Reason: "app " + j.App + " is not configured in this worker"})
}

// check applies enqueue's rules (jobs.Validate) and the store's key rules
// to the key the job would be stored under: a job that breaks them (an
// old payload, a key template making an over-long key) is a permanent
// failure before anything is called, never a retry.
func (h *Handler) check(j *job) error {
	if err := jobs.Validate(j.Job); err != nil {
		return err
	}
	if err := storage.CheckCodeKey(j.key); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	return nil
}

// runGate returns the state of the job's run (looked up at most once a
// second per run), and since when this process has seen it paused. Lookup
// errors count as running: a Redis hiccup must not stop generation.
func (h *Handler) runGate(ctx context.Context, run string) runState {
	if run == "" || h.deps.Runs == nil {
		return runState{}
	}
	h.mu.Lock()
	c, ok := h.runState[run]
	h.mu.Unlock()
	if !ok || time.Since(c.at) > time.Second {
		r, _, err := h.deps.Runs.Get(ctx, run)
		if err != nil {
			return runState{}
		}
		seen := c.pausedSeen
		switch {
		case r.State != runs.StatePaused:
			seen = time.Time{}
		case seen.IsZero():
			seen = time.Now()
		}
		c = runState{state: r.State, at: time.Now(), pausedSeen: seen}
		h.mu.Lock()
		h.runState[run] = c
		h.mu.Unlock()
	}
	return c
}

type runState struct {
	state      string
	at         time.Time
	pausedSeen time.Time // when this process first saw the run paused
}

// pausedDelay is how long a paused run's job is handed back for, given how
// long the run has been paused: 5 s at first, so a short pause resumes at
// once, growing to 2 min, so a long pause of a large window costs little
// (100,000 pending jobs come back about 800 times a second at most).
func pausedDelay(paused time.Duration) time.Duration {
	return min(max(paused/2, 5*time.Second), 2*time.Minute) + jitter(5*time.Second)
}

// KeyOf returns the object key the worker stores a job's code under (its
// explicit key, or the template's), for manifests.
func KeyOf(keys *storage.KeyTemplate, png bool) func(jobs.Job) string {
	return func(j jobs.Job) string { return keyFor(keys, j, j.KeyParams(png)) }
}

// keyFor is the job's explicit key, or the template's for its parameters.
func keyFor(keys *storage.KeyTemplate, j jobs.Job, p storage.KeyParams) string {
	if j.Key != "" {
		return j.Key
	}
	return keys.Key(p)
}

// Validate is jobs.Validate, the rules every job passes at enqueue, in
// campaign runs and again in this worker. The error is a *jobs.RowError
// naming the field.
func Validate(j jobs.Job) error { return jobs.Validate(j) }
