package ratelimit

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSetCapTakesEffectInAnotherInstance(t *testing.T) {
	const app = "wxcap"
	b := setup(t)
	ctx := ctxT(t)
	admin, worker := b.limiter(Config{}), b.limiter(Config{Burst: 3})
	ok, _, err := worker.Take(ctx, app) // the worker is running before the change
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, admin.SetCap(ctx, app, 120, false))
	granted := 0
	for range 10 {
		ok, _, err := worker.Take(ctx, app)
		require.NoError(t, err)
		if ok {
			granted++
		}
	}
	require.Equal(t, 2, granted, "burst 3 at 120/min: one taken before, two more")
	st, err := worker.State(ctx, app)
	require.NoError(t, err)
	require.Equal(t, 120, st.CapPerMinute)
	require.Equal(t, 120.0, st.EffectivePerMinute)

	require.NoError(t, admin.SetCap(ctx, app, 0, false))
	st, err = worker.State(ctx, app)
	require.NoError(t, err)
	require.Equal(t, DefaultPerMinute, st.CapPerMinute, "cap 0 falls back to the default")
}

func TestSetCapAboveWeChatLimitNeedsForce(t *testing.T) {
	const app = "wxforce"
	b := setup(t)
	ctx := ctxT(t)
	l := b.limiter(Config{})
	err := l.SetCap(ctx, app, 5001, false)
	var tooHigh *ErrCapTooHigh
	require.True(t, errors.As(err, &tooHigh), "err = %v", err)
	require.Equal(t, ErrCapTooHigh{App: app, PerMinute: 5001}, *tooHigh)
	require.True(t, IsCapTooHigh(err))
	st, err := l.State(ctx, app)
	require.NoError(t, err)
	require.Equal(t, DefaultPerMinute, st.CapPerMinute, "a refused cap was stored")

	require.NoError(t, l.SetCap(ctx, app, WeChatMaxPerMinute, false))
	require.NoError(t, l.SetCap(ctx, app, 6000, true))
	st, err = l.State(ctx, app)
	require.NoError(t, err)
	require.Equal(t, 6000, st.CapPerMinute)
	require.Error(t, l.SetCap(ctx, app, -1, true))
}

func TestInvalidAppIDs(t *testing.T) {
	b := setup(t)
	l := b.limiter(Config{})
	ctx := ctxT(t)
	for _, app := range []string{"", "wx{1}", "wx 1", "wx\n"} {
		_, err := l.Wait(ctx, app)
		require.ErrorIs(t, err, ErrInvalidApp, "%q", app)
		_, _, err = l.Take(ctx, app)
		require.ErrorIs(t, err, ErrInvalidApp, "%q", app)
		require.ErrorIs(t, l.SetCap(ctx, app, 10, false), ErrInvalidApp)
		require.ErrorIs(t, l.ReportRateLimited(ctx, app, 45009), ErrInvalidApp)
		_, err = l.State(ctx, app)
		require.ErrorIs(t, err, ErrInvalidApp)
	}
}

func TestDefaultCapAboveWeChatLimitIsLowered(t *testing.T) {
	b := setup(t)
	l := b.limiter(Config{DefaultPerMinute: 9000})
	st, err := l.State(ctxT(t), "wxdefault")
	require.NoError(t, err)
	require.Equal(t, WeChatMaxPerMinute, st.CapPerMinute)
}

// TestRaisedCapReachesQueuedWaiters: waiters queued at a low rate are not
// held by local pacing delays computed at that rate once the cap goes up.
func TestRaisedCapReachesQueuedWaiters(t *testing.T) {
	const app, waiters = "wxraise", 30
	b := setup(t)
	ctx := ctxT(t)
	admin := b.limiter(Config{})
	require.NoError(t, admin.SetCap(ctx, app, 600, false)) // 30 calls would take 3 s
	l := b.limiter(Config{Burst: 1, ReserveHorizon: 300 * time.Millisecond})
	ok, _, err := l.Take(ctx, app) // learn the low rate
	require.NoError(t, err)
	require.True(t, ok)

	start := time.Now()
	errs := make(chan error, waiters)
	for range waiters {
		go func() { _, err := l.Wait(ctx, app); errs <- err }()
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, admin.SetCap(ctx, app, 60000, true))
	for range waiters {
		require.NoError(t, <-errs)
	}
	require.Less(t, time.Since(start), 1500*time.Millisecond)
}
