package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCooldownReportedByOneInstanceStopsTheOthers(t *testing.T) {
	const app = "wxcool"
	b := setup(t)
	ctx := ctxT(t)
	a, other := b.limiter(Config{}), b.limiter(Config{})
	ok, _, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	st, err := other.State(ctx, app)
	require.NoError(t, err)
	require.True(t, st.InCooldown())
	pause := st.CooldownUntil.Sub(st.LastRateLimited)
	require.True(t, pause == time.Second || st.CooldownUntil.Sub(st.LastRateLimited.Truncate(time.Minute)) <= time.Minute+3*time.Second,
		"a first pause of 1 s (or up to the minute boundary plus jitter, if that is sooner): %v", pause)

	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.InDelta(t, st.CooldownUntil.Sub(st.Now).Seconds(), retry.Seconds(), 0.5)

	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	waited, err := other.Wait(wctx, app)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.InDelta(t, 0.3, waited.Seconds(), 0.2)
}

// TestCooldownDropsSlotsReservedInTheReportingProcess: a waiter that holds a
// future slot when its own process reports does not call at that slot.
func TestCooldownDropsSlotsReservedInTheReportingProcess(t *testing.T) {
	const app = "wxdrop"
	b := setup(t)
	ctx := ctxT(t)
	l := b.limiter(Config{Burst: 1, LocalPacing: PacingRedisOnly})
	require.NoError(t, l.SetCap(ctx, app, 120, false)) // one slot per 500 ms
	ok, _, err := l.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok)

	done := make(chan error, 1)
	wctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	go func() { _, err := l.Wait(wctx, app); done <- err }()
	time.Sleep(100 * time.Millisecond) // the waiter now holds the slot at +500 ms
	require.NoError(t, l.ReportRateLimited(ctx, app, 45011))
	require.ErrorIs(t, <-done, context.DeadlineExceeded, "the waiter called during the cooldown")
}

// TestCooldownIsShortThenOneProbe uses an injected clock shared by two
// instances: a refusal pauses the fleet for 1 s, then exactly one call (the
// probe) goes; the others wait 3 s for its verdict.
func TestCooldownIsShortThenOneProbe(t *testing.T) {
	const app = "wxclock"
	b := setup(t)
	ctx := ctxT(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 30, 500_000_000, time.UTC))
	cfg := Config{Clock: clock.Now, CooldownJitter: time.Second, LocalPacing: PacingRedisOnly}
	a, other := b.limiter(cfg), b.limiter(cfg)

	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	st, err := other.State(ctx, app)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 1, 12, 0, 31, 500_000_000, time.UTC), st.CooldownUntil.UTC())

	clock.Add(time.Second - time.Millisecond)
	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, time.Millisecond, retry)

	clock.Add(time.Millisecond)
	ok, _, err = other.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok, "the probe")
	for _, l := range []*Limiter{a, other} {
		ok, retry, err = l.Take(ctx, app)
		require.NoError(t, err)
		require.False(t, ok, "one probe for the whole fleet")
		require.Equal(t, 3*time.Second, retry)
	}
	clock.Add(3 * time.Second)
	ok, _, err = a.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok, "the probe was not refused: calls resume")
}

func TestReportWithoutRedisStillPausesThisProcess(t *testing.T) {
	const app = "wxlocal"
	b := setup(t)
	ctx := ctxT(t)
	l := b.limiter(Config{})
	b.srv.Stop()
	err := l.ReportRateLimited(ctx, app, 45009)
	require.True(t, IsRedisUnavailable(err), "err = %v", err)
	ok, retry, err := l.Take(ctx, app)
	require.NoError(t, err, "the local cooldown answers without Redis")
	require.False(t, ok)
	require.Greater(t, retry, time.Duration(0))
	require.False(t, errors.Is(err, ErrRedisUnavailable))
}
