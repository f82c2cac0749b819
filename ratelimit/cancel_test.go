package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cancelSetup: one slot per 200 ms, no burst, reservations up to 2 s ahead.
func cancelSetup(t *testing.T, app string) (*bundle, *Limiter) {
	t.Helper()
	b := setup(t)
	l := b.limiter(Config{Burst: 1, ReserveHorizon: 2 * time.Second, LocalPacing: PacingRedisOnly})
	require.NoError(t, l.SetCap(ctxT(t), app, 300, false))
	ok, _, err := l.Take(ctxT(t), app)
	require.NoError(t, err)
	require.True(t, ok)
	return b, l
}

type waitResult struct {
	g   Grant
	err error
}

func startWait(ctx context.Context, l *Limiter, app string) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() { g, err := l.WaitGrant(ctx, app); ch <- waitResult{g, err} }()
	return ch
}

func TestCancelledNewestReservationIsUndone(t *testing.T) {
	const app = "wxundo"
	b, l := cancelSetup(t, app)
	ctx, cancel := context.WithCancel(ctxT(t))
	w := startWait(ctx, l, app) // holds the slot at +200 ms
	time.Sleep(50 * time.Millisecond)
	cancel()
	r := <-w
	require.ErrorIs(t, r.err, context.Canceled)
	require.Less(t, r.g.Waited, 150*time.Millisecond, "cancellation did not return promptly")

	// Without the undo the next free slot would be 200 ms later.
	ok, retry, err := b.limiter(Config{Burst: 1, LocalPacing: PacingRedisOnly}).Take(ctxT(t), app)
	require.NoError(t, err)
	require.False(t, ok)
	require.Less(t, retry, 200*time.Millisecond)
}

func TestCancelledSlotIsReusedAtItsTime(t *testing.T) {
	const app = "wxhole"
	_, l := cancelSetup(t, app)
	ctx1, cancel1 := context.WithCancel(ctxT(t))
	w1 := startWait(ctx1, l, app) // +200 ms
	time.Sleep(30 * time.Millisecond)
	w2 := startWait(ctxT(t), l, app) // +400 ms
	time.Sleep(30 * time.Millisecond)
	cancel1()
	require.ErrorIs(t, (<-w1).err, context.Canceled)

	w3 := startWait(ctxT(t), l, app)
	r3, r2 := <-w3, <-w2
	require.NoError(t, r3.err)
	require.NoError(t, r2.err)
	require.True(t, r3.g.Slot.Before(r2.g.Slot), "the given-back slot was not reused: %v vs %v", r3.g.Slot, r2.g.Slot)
	require.Less(t, r3.g.Waited, 250*time.Millisecond)
}

func TestCancelledWhileCoolingDownConsumesNothing(t *testing.T) {
	const app = "wxcoolcancel"
	b := setup(t)
	l := b.limiter(Config{})
	ctx := ctxT(t)
	require.NoError(t, l.ReportRateLimited(ctx, app, 45009))
	before, err := b.client().HGetAll(ctx, Keys("", app)[0]).Result()
	require.NoError(t, err)

	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = l.Wait(wctx, app)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	after, err := b.client().HGetAll(ctx, Keys("", app)[0]).Result()
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestAlreadyCancelledContextReturnsAtOnce(t *testing.T) {
	b := setup(t)
	l := b.limiter(Config{})
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	_, err := l.Wait(ctx, "wxdone")
	require.ErrorIs(t, err, context.Canceled)
	ok, _, err := l.Take(ctx, "wxdone")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ok)
	n, err := b.client().Exists(ctxT(t), Keys("", "wxdone")...).Result()
	require.NoError(t, err)
	require.Zero(t, n, "a cancelled call touched Redis")
}
