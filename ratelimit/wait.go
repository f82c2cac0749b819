package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Grant describes one call granted by WaitGrant.
type Grant struct {
	// Waited is the real time spent waiting.
	Waited time.Duration
	// Slot is the instant, in Redis time, the call was scheduled for. The
	// fleet-wide guarantee is stated on these instants.
	Slot time.Time
}

// Wait blocks until the caller may make one call for app, and reports how
// long it waited. It returns ctx.Err() if ctx ends first; a slot it had
// already reserved is then given back (reused by another waiter of the fleet
// at its exact time, or undone if it was the newest), so cancellation
// consumes nothing unless Redis fails during the give-back. If Redis cannot be
// reached it returns an error wrapping ErrRedisUnavailable at once: no call
// may be made.
//
// Calls already granted up to Config.ReserveHorizon ahead in other processes
// still happen after a rate-limit report; this process's own waiters drop
// their slots when it reports.
func (l *Limiter) Wait(ctx context.Context, app string) (waited time.Duration, err error) {
	g, err := l.WaitGrant(ctx, app)
	return g.Waited, err
}

// WaitGrant is Wait that also returns the scheduled slot.
func (l *Limiter) WaitGrant(ctx context.Context, app string) (Grant, error) {
	start := time.Now()
	a, err := l.app(app)
	if err != nil {
		return Grant{}, err
	}
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	paced, err := a.pace(ctx)
	if err != nil {
		return Grant{Waited: time.Since(start)}, err
	}
	for {
		r, err := l.reserve(ctx, app, a)
		if err != nil {
			a.unpace(paced)
			return Grant{Waited: time.Since(start)}, err
		}
		switch l.await(ctx, a, r) {
		case slotReached:
			return Grant{Waited: time.Since(start), Slot: micros(r.slot)}, nil
		case slotCancelled:
			l.giveBack(ctx, app, r)
			a.unpace(paced)
			return Grant{Waited: time.Since(start)}, ctx.Err()
		}
		// slotDropped: this process reported a rate-limit error; ask again.
	}
}

// reserve returns a slot at most ReserveHorizon ahead, polling Redis while
// the horizon is full or the app cools down. Only one goroutine per app and
// process polls; the others queue behind it without round trips.
func (l *Limiter) reserve(ctx context.Context, app string, a *local) (reply, error) {
	if err := a.lock(ctx); err != nil {
		return reply{}, err
	}
	defer a.unlock()
	for {
		if err := sleep(ctx, a.cooldownLeft(l.now())); err != nil {
			return reply{}, err
		}
		r, err := l.acquire(ctx, app, l.cfg.ReserveHorizon)
		if err != nil {
			return reply{}, err
		}
		a.learn(r, l.now())
		if err := ctx.Err(); err != nil {
			if r.granted {
				l.giveBack(ctx, app, r)
			}
			return reply{}, err
		}
		if r.granted {
			return r, nil
		}
		if err := sleep(ctx, r.wait); err != nil {
			return reply{}, err
		}
	}
}

type outcome int

const (
	slotReached outcome = iota
	slotCancelled
	slotDropped
)

// await sleeps until the reserved slot.
func (l *Limiter) await(ctx context.Context, a *local, r reply) outcome {
	if r.wait <= 0 {
		return slotReached
	}
	wake := a.wakeCh()
	t := time.NewTimer(r.wait)
	defer t.Stop()
	select {
	case <-t.C:
		return slotReached
	case <-ctx.Done():
		return slotCancelled
	case <-wake:
		return slotDropped
	}
}

// giveBack returns an unused slot. On failure the slot is lost (the fleet
// only goes slower), which is logged.
func (l *Limiter) giveBack(ctx context.Context, app string, r reply) {
	_, err := l.run(ctx, app, opCancel, 0, r.slot, r.tatAfter, r.interval)
	if err != nil {
		l.cfg.Logger.Warn("ratelimit: could not give back a cancelled slot", "app", app, "err", err)
	}
}

// Take takes one slot for app if one is free now and reports ok. Otherwise it
// consumes nothing and says how long to wait before a slot may be free (the
// rest of a cooldown, or the pacing interval). It never blocks beyond one
// Redis round trip. If Redis cannot be reached it returns ok false and an
// error wrapping ErrRedisUnavailable.
func (l *Limiter) Take(ctx context.Context, app string) (ok bool, retryAfter time.Duration, err error) {
	a, err := l.app(app)
	if err != nil {
		return false, 0, err
	}
	if err := ctx.Err(); err != nil {
		return false, 0, err
	}
	if left := a.cooldownLeft(l.now()); left > 0 {
		return false, left, nil
	}
	paced, wait := a.try()
	if wait > 0 {
		return false, wait, nil
	}
	r, err := l.acquire(ctx, app, 0)
	if err != nil {
		a.unpace(paced)
		return false, 0, err
	}
	a.learn(r, l.now())
	if !r.granted {
		a.unpace(paced)
		return false, r.wait, nil
	}
	if err := ctx.Err(); err != nil {
		l.giveBack(ctx, app, r)
		a.unpace(paced)
		return false, 0, err
	}
	return true, 0, nil
}

// HoldThroughPause reports whether a caller that Take just told to wait
// longer than it would like should wait anyway (with Wait) rather than hand
// its work back: yes while app pauses after a rate-limit error (a cooldown,
// or the wait for a probe round's verdict) and fewer than
// Config.PauseWaiters callers of this process hold a seat. Callers handed
// back come back late and one by one, so probe rounds would not fill; a
// few kept in place fill the next round at once. On true the caller must
// call release when its wait ends. It does not contact Redis; an invalid
// app gives false.
func (l *Limiter) HoldThroughPause(app string) (release func(), ok bool) {
	a, err := l.app(app)
	if err != nil || !a.paused(l.now()) || !a.hold(l.cfg.PauseWaiters) {
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(a.unhold) }, true
}
