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
	boundary := st.LastRateLimited.Truncate(time.Minute).Add(time.Minute)
	require.False(t, st.CooldownUntil.Before(boundary), "cooldown %v ends before the minute boundary %v", st.CooldownUntil, boundary)
	require.True(t, st.CooldownUntil.Before(boundary.Add(3*time.Second)), "jitter above the 3 s default")

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

// TestCooldownEndsAtMinuteBoundaryPlusJitter uses an injected clock shared by
// two instances.
func TestCooldownEndsAtMinuteBoundaryPlusJitter(t *testing.T) {
	const app = "wxclock"
	b := setup(t)
	ctx := ctxT(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 30, 500_000_000, time.UTC))
	cfg := Config{Clock: clock.Now, CooldownJitter: time.Second, LocalPacing: PacingRedisOnly}
	a, other := b.limiter(cfg), b.limiter(cfg)

	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	st, err := other.State(ctx, app)
	require.NoError(t, err)
	boundary := time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)
	require.False(t, st.CooldownUntil.Before(boundary))
	require.True(t, st.CooldownUntil.Before(boundary.Add(time.Second)))

	clock.Add(st.CooldownUntil.Sub(clock.Now()) - time.Millisecond)
	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, time.Millisecond, retry)

	clock.Add(time.Millisecond)
	ok, _, err = other.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok, "still refused after the cooldown")
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
