package ratelimit

import (
	"cmp"
	"log/slog"
	"time"
)

const (
	// DefaultPerMinute is the cap of an app that has no cap of its own:
	// 4% under WeChat's limit, to leave room for clock skew and other callers.
	DefaultPerMinute = 4800
	// WeChatMaxPerMinute is WeChat's documented limit on interface B per app.
	WeChatMaxPerMinute = 5000
)

// Pacing selects whether an in-process golang.org/x/time/rate limiter sits in
// front of Redis.
type Pacing int

const (
	// PacingLocal (the zero value) puts an x/time/rate limiter, set to the
	// app's fleet-wide rate and burst, in front of Redis. It only ever delays
	// or refuses locally (one process can never be granted more than the whole
	// fleet), so it cannot break the fleet-wide guarantee; it saves round trips
	// when one process asks faster than the fleet rate, and it keeps
	// single-process reservations at "now" so cancellations cost nothing.
	PacingLocal Pacing = iota
	// PacingRedisOnly sends every request to Redis.
	PacingRedisOnly
)

// Config tunes a Limiter. The zero value is ready to use.
type Config struct {
	// KeyPrefix starts every Redis key. Zero value: "wxacode:rl:". Keys are
	// <KeyPrefix>{<app>}:<name>, so one app's keys share a Cluster hash slot.
	KeyPrefix string
	// DefaultPerMinute is the cap of apps without a cap set by SetCap.
	// Zero or negative: DefaultPerMinute (4800). Values above
	// WeChatMaxPerMinute are lowered to it (use SetCap with force instead).
	DefaultPerMinute int
	// Burst is how many calls may start at the same instant after an idle
	// period. No window of length W ever holds more than
	// cap*W/60s + Burst calls (in Redis time). Zero or negative: 5.
	Burst int
	// CooldownJitter is the upper bound of the random delay added after a
	// minute boundary when refused probes have grown the pause up to it, so
	// that fleets do not all probe at the same instant. Zero: 3s. Negative:
	// no jitter.
	CooldownJitter time.Duration
	// DecreaseFactor is CUBIC's beta. After a refusal the rate resumes at
	// 0.97 of what WeChat was seen to accept per minute (see doc.go), never
	// below DecreaseFactor squared times the rate before the refusal; it
	// also sets how fast the rate climbs back (RecoveryTime). Zero, negative
	// or above 1: 0.7. 1 keeps the rate unchanged after refusals.
	DecreaseFactor float64
	// RecoveryTime scales the climb after a refusal: from DecreaseFactor
	// times the cap the rate would be back at the cap after RecoveryTime
	// (CUBIC, RFC 8312); from just below the estimate it levels off near
	// the estimate, then speeds up to the cap, so a limit raised again is
	// found within about RecoveryTime. Zero or negative: 90 s (shorter means
	// a raised limit is found sooner and more probing refusals). A third
	// of it is how long the climb from the estimate to the cap takes once
	// the rate has held a minute without a refusal (doc.go).
	RecoveryTime time.Duration
	// MinPerMinute is the floor of the adaptive rate (never above the cap).
	// Zero or negative: 60.
	MinPerMinute int
	// ReserveHorizon is how far ahead Wait may reserve a slot. A waiter that
	// is cancelled gives its slot back for others to reuse; a longer horizon
	// means fewer polls but more calls that still happen after another
	// process reported a rate-limit error. Zero or negative: 1s.
	ReserveHorizon time.Duration
	// PauseWaiters is how many callers per app in this process
	// HoldThroughPause lets wait through a pause (a cooldown or the wait for
	// a probe round's verdict) instead of handing their work back, so that
	// the next probe round fills at once. Zero: 16, a full round. Negative:
	// none.
	PauseWaiters int
	// LocalPacing selects the in-process pacer. Zero value: PacingLocal.
	LocalPacing Pacing
	// CallTimeout is the deadline of one Redis round trip. The call is not
	// cut short by the caller's context, so a grant is never lost in flight:
	// the caller returns at once and a late grant is given back. It bounds
	// socket reads only if the client has ContextTimeoutEnabled; otherwise
	// the client's ReadTimeout, WriteTimeout and MaxRetries do. Zero or
	// negative: 5s.
	CallTimeout time.Duration
	// Clock replaces the current time, for tests only. Nil (the default): the
	// script uses Redis TIME, so the clocks of the machines do not matter.
	// When set, its value is sent to the script instead of Redis TIME
	// (processes with different clocks would then break the fleet guarantee);
	// local sleeps still use real timers.
	Clock func() time.Time
	// Logger receives cooldown and cap changes. Nil: slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	c.KeyPrefix = cmp.Or(c.KeyPrefix, "wxacode:rl:")
	c.DefaultPerMinute = min(positive(c.DefaultPerMinute, DefaultPerMinute), WeChatMaxPerMinute)
	c.Burst = positive(c.Burst, 5)
	switch {
	case c.CooldownJitter == 0:
		c.CooldownJitter = 3 * time.Second
	case c.CooldownJitter < 0:
		c.CooldownJitter = 0
	}
	if c.DecreaseFactor <= 0 || c.DecreaseFactor > 1 {
		c.DecreaseFactor = 0.7
	}
	c.RecoveryTime = positive(c.RecoveryTime, 90*time.Second)
	c.MinPerMinute = positive(c.MinPerMinute, 60)
	c.ReserveHorizon = positive(c.ReserveHorizon, time.Second)
	switch {
	case c.PauseWaiters == 0:
		c.PauseWaiters = 16
	case c.PauseWaiters < 0:
		c.PauseWaiters = 0
	}
	c.CallTimeout = positive(c.CallTimeout, 5*time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// positive returns v, or def when v is zero or negative.
func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
