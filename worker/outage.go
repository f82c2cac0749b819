package worker

import (
	"context"
	"sync"
	"time"

	"github.com/wxacode/wxacode/storage"
)

// outage is this process's view of storage: since when it has been
// unavailable. It is shared by all jobs, so that delays and log lines
// follow the outage rather than each job.
type outage struct {
	mu      sync.Mutex
	since   time.Time // first unavailable error since the last success; zero while reachable
	overran bool      // the outage outlasted StorageOutageLimit (logged once)
}

// down notes an unavailable error at now. It returns how long the outage
// has lasted and whether this error began it.
func (o *outage) down(now time.Time) (lasted time.Duration, began bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		o.since = now
		return 0, true
	}
	return now.Sub(o.since), false
}

// up ends the outage at now, returning how long it lasted; ended is false
// if storage was not unavailable.
func (o *outage) up(now time.Time) (lasted time.Duration, ended bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		return 0, false
	}
	lasted, o.since, o.overran = now.Sub(o.since), time.Time{}, false
	return lasted, true
}

// overrun reports whether this is the first call since the outage began.
func (o *outage) overrun() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	first := !o.overran
	o.overran = true
	return first
}

// outageWait shapes how long a job waits for unavailable storage: base
// doubled for every step of outage, up to max, drawn from the upper half.
type outageWait struct{ step, base, max time.Duration }

// defaultOutageWait waits 5-10 s early in an outage and up to 30-60 s
// after 1.5 min: short outages cost little, and thousands of jobs handed
// back do not hammer a store that is coming back.
var defaultOutageWait = outageWait{step: 30 * time.Second, base: 10 * time.Second, max: time.Minute}

func (w outageWait) after(lasted time.Duration) time.Duration {
	return backoff(int(min(lasted/w.step, 30)), w.base, w.max)
}

// storageAnswered notes the result of a storage call. An answer about the
// object (found, not found, exists) ends an outage, logged once.
func (h *Handler) storageAnswered(err error) {
	if err != nil && !storage.IsNotFound(err) && !storage.IsExists(err) {
		return
	}
	if lasted, ended := h.outage.up(time.Now()); ended {
		h.deps.Metrics.StorageAvailable()
		h.log.Info("storage available again", "down", lasted.Round(time.Millisecond).String())
	}
}

// storageFailed hands the job back as a non-failure when err means that
// storage is unavailable (storage.IsUnavailable): like a WeChat cooldown,
// an outage is waited out without using up tries, and an image already
// fetched stays parked. Any other error, and every error once storage has
// been unavailable for longer than StorageOutageLimit, is returned as is
// for the transient path: tries, then a recorded failure.
func (h *Handler) storageFailed(ctx context.Context, j *job, err error) error {
	if ctx.Err() == nil && storage.IsConfigAnswer(err) {
		return h.holdStore(ctx, j, err) // see storehold.go
	}
	if ctx.Err() != nil || !storage.IsUnavailable(err) {
		return err
	}
	now := time.Now()
	lasted, began := h.outage.down(now)
	if began {
		h.deps.Metrics.StorageUnavailable(now)
		h.log.Warn("storage unavailable: jobs wait", "err", err, "limit", h.cfg.StorageOutageLimit.String())
	}
	if limit := h.cfg.StorageOutageLimit; limit >= 0 && lasted > limit {
		if h.outage.overrun() {
			h.log.Error("storage unavailable for longer than the outage limit: jobs count tries again", "down", lasted.Round(time.Second).String(), "limit", limit.String(), "err", err)
		}
		return err
	}
	return h.yield(ctx, j, &YieldError{After: h.outageWait.after(lasted), Reason: "storage unavailable: " + err.Error()})
}
