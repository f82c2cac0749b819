package ratelimit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// During a pause after a 45009 a bounded number of callers per process may
// wait in place (the next probe round then fills at once); outside a pause,
// none: callers told to wait long hand their work back as before.
func TestHoldThroughPauseSeatsAFewCallersOnlyDuringAPause(t *testing.T) {
	const app = "wxhold"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{PauseWaiters: 2})
	takeN(t, a, clock, app, 100, 12500*time.Microsecond)
	_, ok := a.HoldThroughPause(app)
	require.False(t, ok, "no pause: no seat")

	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	r1, ok := a.HoldThroughPause(app)
	require.True(t, ok, "the cooldown: first seat")
	r2, ok := a.HoldThroughPause(app)
	require.True(t, ok, "second seat")
	_, ok = a.HoldThroughPause(app)
	require.False(t, ok, "PauseWaiters 2: the third hands its work back")
	r1()
	r1() // a second release frees nothing more
	r3, ok := a.HoldThroughPause(app)
	require.True(t, ok, "a released seat is free again")
	_, ok = a.HoldThroughPause(app)
	require.False(t, ok)
	r2()
	r3()

	// The pause is over; one process sends the probe, the other is told to
	// wait for its verdict: that process may hold callers too.
	untilCooldownEnds(t, a, clock, app, 0)
	_, ok = other.HoldThroughPause(app)
	require.False(t, ok, "other has not seen the pause")
	ok, _, err := a.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok, "the probe")
	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, probeWait, retry, "waiting for the probe's verdict")
	r, ok := other.HoldThroughPause(app)
	require.True(t, ok, "the verdict's wait is a pause")
	r()

	clock.Add(probeWait)
	ok, _, err = other.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok, "the probe went unrefused")
	_, ok = other.HoldThroughPause(app)
	require.False(t, ok, "no pause any more")
}

func TestHoldThroughPauseNegativeMeansNone(t *testing.T) {
	const app = "wxnohold"
	clock, a, _ := adaptiveSetup(t, Config{PauseWaiters: -1})
	takeN(t, a, clock, app, 10, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctxT(t), app, 45009))
	_, ok := a.HoldThroughPause(app)
	require.False(t, ok)
}
