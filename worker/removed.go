package worker

import (
	"context"
	"errors"
	"time"
)

// removedApp is when this process first and last saw jobs of an app the
// registry lists as removed.
type removedApp struct{ since, logged time.Time }

// removedLogEvery bounds the log lines about one removed app's jobs.
const removedLogEvery = time.Minute

// isNotServed reports an *AppError of an app never configured: such a job
// is a permanent failure.
func isNotServed(err error) bool {
	var ae *AppError
	return errors.As(err, &ae) && !ae.Removed
}

// appUnavailable hands back a job whose app cannot be used now: removed
// from the registry (held, not failed, until it is added again, with a
// delay growing like a paused run's), or whose token source could not be
// built (a configuration error: held for ConfigHold).
func (h *Handler) appUnavailable(ctx context.Context, j *job, err error) error {
	var ae *AppError
	if !errors.As(err, &ae) {
		h.log.Error("app's token source or cap could not be set up: its jobs are held", "app", j.App, "task", j.id, "err", err, "hold", h.cfg.ConfigHold)
		return h.yield(ctx, j, &YieldError{After: h.cfg.ConfigHold + jitter(10*time.Second), Reason: "app " + j.App + " cannot be set up: " + err.Error()})
	}
	now := time.Now()
	h.mu.Lock()
	r, ok := h.removed[j.App]
	if !ok {
		r.since = now
	}
	logIt := now.Sub(r.logged) >= removedLogEvery
	if logIt {
		r.logged = now
	}
	h.removed[j.App] = r
	h.mu.Unlock()
	if logIt {
		h.log.Warn("app removed from the app registry: its jobs are handed back, not failed, until it is added again (wxacode apps add)", "app", j.App, "task", j.id)
	}
	return h.yield(ctx, j, &YieldError{After: pausedDelay(now.Sub(r.since)), Reason: ae.Error()})
}

// forgetRemoved drops the removed-app state of app once it is served
// again.
func (h *Handler) forgetRemoved(app string) {
	h.mu.Lock()
	if _, ok := h.removed[app]; ok {
		delete(h.removed, app)
		h.log.Info("app served again: its held jobs resume", "app", app)
	}
	h.mu.Unlock()
}
