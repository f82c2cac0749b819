package worker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs/runs"
)

// YieldError hands a job back to asynq without counting a failure: the app
// is cooling down, held, or at its cap for longer than MaxHold.
type YieldError struct {
	After  time.Duration
	Reason string
}

func (e *YieldError) Error() string {
	return fmt.Sprintf("worker: yield for %s: %s", e.After.Round(time.Millisecond), e.Reason)
}

// IsFailure tells asynq which errors count against a task's retries:
// everything but a YieldError and a feeder handed back while stopping.
func IsFailure(err error) bool {
	var y *YieldError
	return !errors.As(err, &y) && !errors.Is(err, runs.ErrStopping)
}

// retryDelay is asynq's RetryDelayFunc: a yield waits as long as it asked;
// a failure backs off exponentially with jitter.
func (h *Handler) retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var y *YieldError
	switch {
	case errors.As(err, &y):
		return y.After
	case errors.Is(err, runs.ErrStopping):
		return time.Second // a feeder handed back by a stopping worker resumes elsewhere
	}
	return backoff(n, h.cfg.BackoffBase, h.cfg.BackoffMax)
}

// backoff is base·2^n capped at max, drawn uniformly from its upper half.
func backoff(n int, base, max time.Duration) time.Duration {
	d := max
	if n < 30 && base<<n < max && base<<n > 0 {
		d = base << n
	}
	return d/2 + rand.N(d/2+1)
}

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
