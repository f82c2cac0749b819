package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// ReportRateLimited tells the fleet that a call for app was refused with a
// rate-limit error (45009, 45011). If the app is not paused already, a
// fleet-wide pause starts: 1 s after a first refusal, then one probe call;
// each refused probe doubles the pause, up to the next minute boundary plus
// a random jitter. When a probe goes unrefused the rate resumes just below
// what WeChat was seen to accept (doc.go says how that is estimated).
// Reports during a pause are counted but change nothing (they come from
// calls that were already in flight). This process pauses at once, until
// the minute boundary while it waits for Redis's answer and for good if
// Redis cannot be reached; in that case the error wraps ErrRedisUnavailable
// and the other processes are not told.
func (l *Limiter) ReportRateLimited(ctx context.Context, app string, errcode int) error {
	a, err := l.app(app)
	if err != nil {
		return err
	}
	jitter := l.jitter()
	a.reported(l.now().Truncate(time.Minute).Add(time.Minute + jitter))
	v, err := l.run(ctx, app, opReport, 0, jitter.Microseconds(), errcode)
	if err != nil {
		return err
	}
	p := parser{v: v}
	started, cool, eff, now, decreased := p.int(0) == 1, p.int(1), p.float(2), p.int(3), p.int(5) == 1
	if p.err != nil {
		return redisErr(opReport, app, p.err)
	}
	a.learn(reply{cool: cool, now: now, eff: eff}, l.now())
	if started {
		l.cfg.Logger.Info("ratelimit: rate-limited by WeChat, fleet-wide cooldown",
			"app", app, "errcode", errcode, "until", micros(cool), "effective_per_minute", eff,
			"rate_lowered", decreased)
	}
	return nil
}

func (l *Limiter) jitter() time.Duration {
	if l.cfg.CooldownJitter <= 0 {
		return 0
	}
	return rand.N(l.cfg.CooldownJitter)
}

// SetCap stores app's cap in calls per minute in Redis; every process uses
// it from its next call, without a restart. perMinute 0 removes the cap (the
// app falls back to each process's DefaultPerMinute). A cap above
// WeChatMaxPerMinute is refused with *ErrCapTooHigh unless force is set. The
// adaptive rate stays at or below the new cap. Redis failures wrap
// ErrRedisUnavailable; a cancelled ctx returns ctx.Err().
func (l *Limiter) SetCap(ctx context.Context, app string, perMinute int, force bool) error {
	if err := validApp(app); err != nil {
		return err
	}
	switch {
	case perMinute < 0:
		return fmt.Errorf("ratelimit: cap %d/min for app %s: want 0 (default) or more", perMinute, app)
	case perMinute > WeChatMaxPerMinute && !force:
		return &ErrCapTooHigh{App: app, PerMinute: perMinute}
	}
	key := CapKey(l.cfg.KeyPrefix, app)
	var err error
	if perMinute == 0 {
		err = l.rdb.Del(ctx, key).Err()
	} else {
		err = l.rdb.Set(ctx, key, perMinute, 0).Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return redisErr("setcap", app, err)
	}
	l.cfg.Logger.Info("ratelimit: cap set", "app", app, "per_minute", perMinute, "forced", force && perMinute > WeChatMaxPerMinute)
	return nil
}
