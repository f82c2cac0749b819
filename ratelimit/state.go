package ratelimit

import (
	"context"
	"time"
)

// State is a snapshot of one app's fleet-wide limiter, for metrics.
type State struct {
	App string
	// Now is the Redis time of the snapshot.
	Now time.Time
	// CapPerMinute is the configured cap (SetCap), or the reader's
	// DefaultPerMinute if none is set.
	CapPerMinute int
	// EffectivePerMinute is the adaptive rate now in force (at most the cap).
	EffectivePerMinute float64
	// CooldownUntil is the end of the current or last cooldown (zero if none).
	CooldownUntil time.Time
	// RateLimitedTotal counts every ReportRateLimited ever made for the app.
	RateLimitedTotal int64
	// RateLimitedLastHour counts reports in the last 60 minutes.
	RateLimitedLastHour int64
	// LastRateLimited is the time of the last report (zero if none), and
	// LastErrCode its errcode.
	LastRateLimited time.Time
	LastErrCode     string
	// CallsLastMinute is the calls granted in the last 60 s, from 10 s
	// buckets: the newest six whole, and the share of the oldest one still
	// inside the window (so within part of one bucket's calls). Calls are
	// counted at their slot times, so reservations a little in the future
	// are included.
	CallsLastMinute int64
}

// InCooldown reports whether the app was cooling down at s.Now.
func (s State) InCooldown() bool { return s.Now.Before(s.CooldownUntil) }

// State reads app's state. It changes nothing. Redis failures wrap
// ErrRedisUnavailable.
func (l *Limiter) State(ctx context.Context, app string) (State, error) {
	if err := validApp(app); err != nil {
		return State{}, err
	}
	v, err := l.run(ctx, app, opState, 0)
	if err != nil {
		return State{}, err
	}
	p := parser{v: v}
	s := State{
		App: app, Now: micros(p.int(0)), CooldownUntil: optTime(p.int(1)),
		EffectivePerMinute: p.float(2), CapPerMinute: int(p.int(3)),
		RateLimitedTotal: p.int(4), LastRateLimited: optTime(p.int(5)), LastErrCode: p.str(6),
		RateLimitedLastHour: p.int(7), CallsLastMinute: int64(p.float(8) + 0.5),
	}
	if p.err != nil {
		return State{}, redisErr(opState, app, p.err)
	}
	return s, nil
}

func optTime(us int64) time.Time {
	if us <= 0 {
		return time.Time{}
	}
	return micros(us)
}
