package ratelimit

import (
	"errors"
	"fmt"
)

// ErrRedisUnavailable is wrapped, together with the cause, in every error
// caused by Redis (unreachable, timed out, or answering with an error). No
// call was granted: the limiter never falls back to an unlimited mode.
var ErrRedisUnavailable = errors.New("ratelimit: redis unavailable")

// ErrInvalidApp is wrapped in the error for an empty app ID or one that
// would break the Cluster hash tag (braces, spaces, control characters).
var ErrInvalidApp = errors.New("ratelimit: invalid app id")

// ErrCapTooHigh refuses a cap above WeChatMaxPerMinute set without force.
type ErrCapTooHigh struct {
	App       string
	PerMinute int
}

func (e *ErrCapTooHigh) Error() string {
	return fmt.Sprintf("ratelimit: cap %d/min for app %s is above WeChat's %d/min (force it to set it anyway)",
		e.PerMinute, e.App, WeChatMaxPerMinute)
}

// IsCapTooHigh reports whether err is or wraps an *ErrCapTooHigh.
func IsCapTooHigh(err error) bool {
	var e *ErrCapTooHigh
	return errors.As(err, &e)
}

// IsRedisUnavailable reports whether err wraps ErrRedisUnavailable.
func IsRedisUnavailable(err error) bool { return errors.Is(err, ErrRedisUnavailable) }

func redisErr(op, app string, err error) error {
	return fmt.Errorf("ratelimit: %s app %s: %w: %w", op, app, ErrRedisUnavailable, err)
}
