package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedisDownGivesAClearErrorAndNoGrant(t *testing.T) {
	const app = "wxdown"
	b := setup(t)
	l := b.limiter(Config{})
	ctx := ctxT(t)
	ok, _, err := l.Take(ctx, app)
	require.NoError(t, err)
	require.True(t, ok)

	b.srv.Stop()
	start := time.Now()
	_, err = l.Wait(ctx, app)
	require.ErrorIs(t, err, ErrRedisUnavailable)
	require.Contains(t, err.Error(), "connection refused")
	require.Less(t, time.Since(start), 5*time.Second)

	for range 2 { // the pacer's remaining tokens must not turn into grants
		ok, _, err = l.Take(ctx, app)
		require.False(t, ok)
		require.True(t, IsRedisUnavailable(err), "err = %v", err)
	}
	_, err = l.State(ctx, app)
	require.ErrorIs(t, err, ErrRedisUnavailable)
	require.ErrorIs(t, l.SetCap(ctx, app, 100, false), ErrRedisUnavailable)

	require.NoError(t, b.srv.Restart())
	// go-redis retries dialing in the background about once a second.
	require.Eventually(t, func() bool {
		_, err := l.Wait(ctx, app)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "no recovery after Redis came back")
}

// TestCancelWhileRedisHangsReturnsAtOnce: go-redis does not stop a socket
// read for a context, but Wait must still return when ctx ends, and the
// grant Redis makes after it resumes is given back.
func TestCancelWhileRedisHangsReturnsAtOnce(t *testing.T) {
	const app = "wxhang"
	b := setup(t)
	l := b.limiter(Config{Burst: 1, LocalPacing: PacingRedisOnly})
	ctx := ctxT(t)
	require.NoError(t, l.SetCap(ctx, app, 6, false)) // one slot per 10 s

	require.NoError(t, b.srv.Pause())
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.Wait(wctx, app)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), time.Second)
	require.NoError(t, b.srv.Resume())

	// The hung call was granted once Redis resumed, then given back.
	require.Eventually(t, func() bool {
		ok, _, err := b.limiter(Config{Burst: 1, LocalPacing: PacingRedisOnly}).Take(ctx, app)
		return err == nil && ok
	}, 3*time.Second, 50*time.Millisecond, "the late grant was not given back")
}
