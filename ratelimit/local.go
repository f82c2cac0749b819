package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// local is what one process knows about one app. It only ever delays or
// refuses; grants come from Redis alone.
type local struct {
	gate    chan struct{} // one Redis poller per app per process
	pacer   *rate.Limiter // nil with PacingRedisOnly
	clock   func() time.Time
	horizon time.Duration // longest local pacing delay

	mu        sync.Mutex
	coolUntil time.Time     // cached fleet cooldown, on the local clock
	heldUntil time.Time     // end of the last pause denial (cooldown or probe verdict)
	holders   int           // callers waiting through a pause (HoldThroughPause)
	wake      chan struct{} // closed when this process reports a rate-limit error
	eff       float64       // last effective rate seen, per minute
}

func newLocal(cfg Config, clock func() time.Time) *local {
	a := &local{gate: make(chan struct{}, 1), wake: make(chan struct{}), clock: clock, horizon: cfg.ReserveHorizon}
	if cfg.LocalPacing == PacingLocal {
		a.pacer = rate.NewLimiter(perSecond(float64(cfg.DefaultPerMinute)), cfg.Burst)
	}
	return a
}

func perSecond(perMinute float64) rate.Limit { return rate.Limit(perMinute / 60) }

// lock takes the poller gate; waiting on it is cancellable.
func (a *local) lock(ctx context.Context) error {
	select {
	case a.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *local) unlock() { <-a.gate }

// learn caches what a script reply says about the fleet.
func (a *local) learn(r reply, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.coolUntil = now.Add(time.Duration(max(0, r.cool-r.now)) * time.Microsecond)
	if !r.granted && r.reason == 2 {
		a.heldUntil = now.Add(r.wait)
	}
	if a.pacer != nil && r.eff > 0 && r.eff != a.eff {
		a.pacer.SetLimitAt(now, perSecond(r.eff))
	}
	a.eff = r.eff
}

func (a *local) cooldownLeft(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(0, a.coolUntil.Sub(now))
}

// reported starts a local cooldown and wakes this process's waiters, whose
// reserved slots are dropped: they ask again and meet the fleet cooldown.
func (a *local) reported(until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.coolUntil = until
	close(a.wake)
	a.wake = make(chan struct{})
}

// paused reports whether the app was last seen pausing (a cooldown or the
// wait for a probe round's verdict) until after now.
func (a *local) paused(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return now.Before(a.coolUntil) || now.Before(a.heldUntil)
}

// hold takes one of n seats for waiting through a pause.
func (a *local) hold(n int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.holders >= n {
		return false
	}
	a.holders++
	return true
}

func (a *local) unhold() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.holders--
}

func (a *local) wakeCh() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.wake
}

// pace waits for the local pacer. The returned reservation (nil without a
// pacer) must be cancelled if the caller ends up not calling. A delay beyond
// the horizon is not taken: local reservations made at a low rate would not
// shrink if the cap were raised, so such waiters poll Redis instead.
func (a *local) pace(ctx context.Context) (*rate.Reservation, error) {
	if a.pacer == nil {
		return nil, nil
	}
	now := a.clock()
	r := a.pacer.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > a.horizon {
		r.CancelAt(now)
		return nil, nil
	}
	if err := sleep(ctx, d); err != nil {
		r.CancelAt(a.clock())
		return nil, err
	}
	return r, nil
}

// unpace gives back a pacer reservation that was not used for a call.
func (a *local) unpace(r *rate.Reservation) {
	if r != nil {
		r.CancelAt(a.clock())
	}
}

// sleep waits d or until ctx is done, and returns ctx.Err() in that case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// try takes a pacer token if one is free now. Otherwise it takes nothing
// and returns how long until one is: the fleet cannot grant this process
// more than its whole budget, so asking Redis sooner would be a lost round
// trip.
func (a *local) try() (*rate.Reservation, time.Duration) {
	if a.pacer == nil {
		return nil, 0
	}
	now := a.clock()
	r := a.pacer.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}
