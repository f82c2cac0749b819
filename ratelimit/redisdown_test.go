package ratelimit

import (
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
