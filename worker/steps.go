package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
)

// checkExisting looks at the job's key before WeChat is called. Nothing
// there: go on. This job's code there: record "skipped" and stop, or with
// force go on and replace it. Another code there: a recorded failure "key
// holds another code", with or without force: a code is never stored over
// another code's object. Unavailable storage hands the job back
// (storageFailed).
func (h *Handler) checkExisting(ctx context.Context, j *job) (bool, error) {
	info, err := h.deps.Store.Stat(ctx, j.key)
	h.storageAnswered(err)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, h.storageFailed(ctx, j, fmt.Errorf("checking %s: %w", j.key, err))
	}
	if err := holds(info, j); err != nil {
		return true, h.recordFailed(ctx, j, err.Error(), nil)
	}
	if j.force {
		j.existed = true
		return false, nil
	}
	o := h.outcome(j, jobs.StatusSkipped)
	o.SHA256, o.Bytes = info.Metadata[storage.MetaSHA256], int(info.Size)
	return true, h.record(ctx, j, o)
}

// holds checks that an existing object holds this job's code: the same
// appid, page, scene and rendering in its metadata (either form, see
// storage.StoredCodeOf). An object without metadata (a local sidecar lost
// in a crash) is accepted under a template key, which only this code can
// have (keys are derived injectively from the parameters), and refused
// under an explicit key, where it could be anything.
func holds(info storage.ObjectInfo, j *job) error {
	c, ok, err := storage.StoredCodeOf(info.Metadata)
	switch {
	case err != nil:
		return fmt.Errorf("key holds another code: %s has unreadable metadata: %v", j.key, err)
	case !ok && j.Key != "":
		return fmt.Errorf("key holds another code: %s holds an object without metadata, which may be anything", j.key)
	case !ok:
		return nil
	}
	if diff := c.Differs(j.params); diff != "" {
		return fmt.Errorf("key holds another code: %s holds %s", j.key, diff)
	}
	return nil
}

// generate waits for the app's turn and calls interface B, cooling the
// whole fleet down on each rate-limit error and trying again.
func (h *Handler) generate(ctx context.Context, j *job) (*wechat.Image, error) {
	t := Turn{Client: h.deps.Client, Limiter: h.deps.Limiter, Metrics: h.deps.Metrics, Log: h.log}
	wait := func(ctx context.Context) error { return h.waitTurn(ctx, j) }
	for {
		img, err := t.Call(ctx, wait, j.App, j.app.Tokens, j.Params, "task", j.id)
		if !wechat.IsRateLimited(err) {
			return img, err
		}
	}
}

// waitTurn takes a slot of the app's fleet-wide budget. If the budget is
// free within MaxHold it waits for it (a reservation, one Redis round
// trip); if not (the app is cooling down, or many jobs are queued on its
// cap) the job is handed back to asynq as a non-failure, so that one app
// cannot hold every worker slot. On its last asynq retry a job always waits:
// a non-failure there would still be archived (asynq checks exhaustion
// before IsFailure).
func (h *Handler) waitTurn(ctx context.Context, j *job) error {
	if hd, held := h.heldUntil(ctx, j.app); held {
		return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(10*time.Second), Reason: "app held: " + hd.reason})
	}
	if j.Budget != "" {
		if err := h.take(ctx, j, j.Budget); err != nil {
			return err
		}
	}
	return h.take(ctx, j, j.App)
}

// take takes one slot of a fleet-wide budget (the app's, or a campaign's
// share of it), waiting up to MaxHold, else handing the job back.
func (h *Handler) take(ctx context.Context, j *job, key string) error {
	ok, after, err := h.deps.Limiter.Take(ctx, key)
	if err != nil || ok {
		return err // Redis down: no calls, retried with backoff
	}
	switch {
	case j.lastTry:
	case after > h.cfg.MaxHold:
		// During a pause after a 45009 a few jobs per process wait in place,
		// so that the probe rounds fill at once (ratelimit.HoldThroughPause).
		release, hold := h.deps.Limiter.HoldThroughPause(key)
		if !hold {
			h.log.Debug("job handed back", "task", j.id, "budget", key, "after", after)
			return &YieldError{After: after + jitter(h.cfg.MaxHold), Reason: "rate budget " + key + " at its cap or cooling down"}
		}
		defer release()
	default:
		release, seated := h.seat(key)
		if !seated {
			h.log.Debug("job handed back: enough wait for its budget", "task", j.id, "budget", key, "after", after)
			return &YieldError{After: after + jitter(h.cfg.MaxHold), Reason: "rate budget " + key + " at its cap: enough jobs of this worker wait for it"}
		}
		defer release()
	}
	start := time.Now()
	_, err = h.deps.Limiter.Wait(ctx, key)
	h.deps.Metrics.LimiterWait(key, time.Since(start))
	return err
}

// seat takes one of the MaxWaiting places of budget key for a job about
// to wait for its slot; false if they are all taken. release gives it back.
func (h *Handler) seat(key string) (release func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting[key] >= h.cfg.MaxWaiting {
		return nil, false
	}
	if h.waiting == nil {
		h.waiting = map[string]int{}
	}
	h.waiting[key]++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.waiting[key]--; h.waiting[key] <= 0 {
			delete(h.waiting, key)
		}
	}, true
}

// callCode is the errcode of an interface B call for metrics.
func callCode(err error) int {
	var ae *wechat.APIError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ae):
		return ae.Code
	}
	return metrics.NoAnswer
}

// yield hands the job back, except on its last asynq retry, where asynq
// would archive even a non-failure: there the job is recorded as failed.
func (h *Handler) yield(ctx context.Context, j *job, y *YieldError) error {
	if j.lastTry {
		return h.recordFailed(ctx, j, "gave up on its last retry: "+y.Reason, nil)
	}
	h.deps.Metrics.Job(j.App, metrics.OutcomeHandedBack)
	return y
}

// store converts the image to the key's format if needed, puts it (a few
// tries), and records the outcome. If the put keeps failing the image is
// parked in Redis so that the retry does not call WeChat again; fromPark
// says the image came from there (it is dropped once stored).
func (h *Handler) store(ctx context.Context, j *job, img *wechat.Image, fromPark bool) error {
	data, err := convert(img, j.params.Format)
	if err != nil {
		return h.recordFailed(ctx, j, "image conversion: "+err.Error(), nil)
	}
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	opts := storage.PutOptions{
		ContentType: j.params.Format.ContentType(),
		Metadata:    storage.Metadata(j.params, hexsum, time.Now()),
		// Replace only what checkExisting found to be this code; anything
		// that appeared since is checked by acceptExisting.
		IfAbsent: !j.existed,
	}
	if err := h.put(ctx, j, data, opts); err != nil {
		if perr := h.park(context.WithoutCancel(ctx), j, img); perr != nil {
			h.log.Warn("could not park image", "task", j.id, "err", perr)
		}
		return err
	}
	o := h.outcome(j, jobs.StatusStored)
	o.SHA256, o.Bytes = hexsum, len(data)
	if err := h.record(ctx, j, o); err != nil {
		return err
	}
	if fromPark {
		h.unpark(ctx, j)
	}
	return nil
}

// put tries the upload StoreAttempts times. A conditional create that
// finds the object already there (a concurrent duplicate) is success if
// it holds the same scene. If storage stays unavailable the job is handed
// back (storageFailed); store parks the image either way.
func (h *Handler) put(ctx context.Context, j *job, data []byte, opts storage.PutOptions) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = h.deps.Store.Put(ctx, j.key, data, opts)
		h.deps.Metrics.Store(j.App, len(data), err)
		h.storageAnswered(err)
		if errors.Is(err, storage.ErrExists) {
			return h.acceptExisting(ctx, j)
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
		if attempt >= h.cfg.StoreAttempts {
			return h.storageFailed(ctx, j, fmt.Errorf("storing %s: %w", j.key, err))
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// acceptExisting checks the object a conditional create found in place:
// success if it holds the job's code, a recorded key collision if not.
func (h *Handler) acceptExisting(ctx context.Context, j *job) error {
	info, err := h.deps.Store.Stat(ctx, j.key)
	h.storageAnswered(err)
	if err != nil {
		return h.storageFailed(ctx, j, err)
	}
	if err := holds(info, j); err != nil {
		return h.recordFailed(ctx, j, err.Error(), nil)
	}
	return nil
}

// convert returns the image bytes in the format its key promises.
func convert(img *wechat.Image, f code.Format) ([]byte, error) {
	switch {
	case f == code.PNG && img.Format != code.PNG:
		return storage.ToPNG(img.Data)
	case f != code.PNG && img.Format != code.JPEG:
		return storage.ToJPEG(img.Data, storage.DefaultJPEGQuality)
	}
	return img.Data, nil
}

// record writes an outcome. A plain job's goes to the app's ledger. A
// campaign job's goes to its run's per-row ledger (bitmaps and each open
// chunk's digests in Redis, sealed chunks in the store), and the app's
// ledger only counts it, so that a run of
// millions of codes does not keep an outcome record per code; failures are
// kept in full in both.
func (h *Handler) record(ctx context.Context, j *job, o jobs.Outcome) error {
	err := h.recordOutcome(ctx, j, o)
	if err == nil {
		h.deps.Metrics.Job(j.App, string(o.Status))
	}
	return err
}

func (h *Handler) recordOutcome(ctx context.Context, j *job, o jobs.Outcome) error {
	if j.Run == "" || h.deps.Runs == nil {
		return h.deps.Ledger.Record(ctx, j.App, o)
	}
	if o.Status == jobs.StatusFailed {
		if err := h.deps.Ledger.Record(ctx, j.App, o); err != nil {
			return err
		}
		f := &runs.Failure{Scene: o.Scene, Code: o.Code, Msg: o.Msg, RID: o.RID, Reason: o.Reason}
		_, err := h.deps.Runs.Record(ctx, j.Run, j.Row, o.Status, nil, f)
		return err
	}
	sum, _ := hex.DecodeString(o.SHA256)
	n, err := h.deps.Runs.Record(ctx, j.Run, j.Row, o.Status, sum, nil)
	switch {
	case err != nil:
		return err
	case n == 2: // failed before: the app's ledger holds the failure and moves it
		return h.deps.Ledger.Record(ctx, j.App, o)
	case n == 1:
		return h.deps.Ledger.Count(ctx, j.App, o.Status)
	}
	return nil
}

func (h *Handler) outcome(j *job, s jobs.Status) jobs.Outcome {
	return jobs.Outcome{TaskID: j.id, Status: s, Scene: j.Scene, Page: j.Page, Key: j.key,
		Tries: j.tries, Run: j.Run, Row: j.Row, At: time.Now()}
}

// recordFailed records a final failure and tells asynq not to retry. If
// the ledger cannot be written the job is retried instead, so that no
// outcome goes unrecorded.
func (h *Handler) recordFailed(ctx context.Context, j *job, reason string, ae *wechat.APIError) error {
	o := h.outcome(j, jobs.StatusFailed)
	o.Key, o.Reason = "", reason
	if ae != nil {
		o.Code, o.Msg, o.RID = ae.Code, ae.Msg, ae.RID
	}
	if err := h.record(ctx, j, o); err != nil {
		return err
	}
	h.log.Error("job failed", "task", j.id, "app", j.App, "scene", j.Scene, "errcode", o.Code, "rid", o.RID, "reason", reason)
	return fmt.Errorf("%s: %w", reason, asynq.SkipRetry)
}

// classify turns a generation error into the job's next step.
func (h *Handler) classify(ctx context.Context, j *job, log *slog.Logger, err error) error {
	var ae *wechat.APIError
	errors.As(err, &ae)
	switch {
	case ctx.Err() != nil:
		return err
	}
	if herr, held := h.holdErr(ctx, j, log, err); held { // before IsPermanent, which matches config errors
		return herr
	}
	switch {
	case wechat.IsPermanent(err):
		return h.recordFailed(ctx, j, "permanent: "+err.Error(), ae)
	}
	return h.transient(ctx, j, log, err)
}

// transient passes control errors through, and makes any other error a
// retry with backoff until MaxAttempts, then a recorded final failure.
func (h *Handler) transient(ctx context.Context, j *job, log *slog.Logger, err error) error {
	var y *YieldError
	if err == nil || errors.Is(err, asynq.SkipRetry) || errors.As(err, &y) || ctx.Err() != nil {
		return err
	}
	var ae *wechat.APIError
	errors.As(err, &ae)
	if j.tries >= h.cfg.MaxAttempts || j.lastTry {
		return h.recordFailed(ctx, j, fmt.Sprintf("gave up after %d tries: %v", j.tries, err), ae)
	}
	h.deps.Metrics.Job(j.App, metrics.OutcomeRetry)
	if ae != nil {
		log.Warn("transient error, will retry", "errcode", ae.Code, "rid", ae.RID, "try", j.tries)
	} else {
		log.Warn("transient error, will retry", "err", err, "try", j.tries)
	}
	return err
}

// onError is asynq's ErrorHandler: it records the tasks asynq gives up on
// by itself (panics or lease expiries past MaxRetry) so none is lost.
func (h *Handler) onError(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if errors.Is(err, asynq.SkipRetry) || retried < maxRetry {
		return
	}
	// asynq may have cancelled ctx (lease lost, deadline): record anyway.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	id, _ := asynq.GetTaskID(ctx)
	j, derr := jobs.Decode(t.Payload())
	if derr != nil {
		return // recorded by prepare
	}
	o := jobs.Outcome{TaskID: id, Status: jobs.StatusFailed, Scene: j.Scene, Page: j.Page,
		Reason: "archived by asynq after retries: " + err.Error(), Tries: retried + 1, Run: j.Run, Row: j.Row, At: time.Now()}
	if rerr := h.record(ctx, &job{Job: j, id: id}, o); rerr != nil {
		h.log.Error("could not record archived task", "task", id, "err", rerr)
	}
}
