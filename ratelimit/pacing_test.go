package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// commandCounter counts the script commands a client sends (EVALSHA, and
// EVAL after NOSCRIPT): the limiter's round trips. Connection handshakes
// (HELLO, CLIENT) are not counted.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func countingLimiter(b *bundle, cfg Config) (*Limiter, *commandCounter) {
	c := b.client()
	var cc commandCounter
	c.AddHook(&cc)
	cfg.Logger = cmpLogger(nil)
	return New(c, cfg), &cc
}

// TestLocalPacingSavesRoundTripsOnTake: once this process alone has used the
// whole burst, the local pacer answers Take without asking Redis.
func TestLocalPacingSavesRoundTripsOnTake(t *testing.T) {
	const app = "wxpace"
	for _, tc := range []struct {
		pacing   Pacing
		min, max int64
	}{
		// EVALSHA (NOSCRIPT) + EVAL, one more grant, and one refusal by Redis
		// if a pacer token refilled (the run took over a second).
		{PacingLocal, 3, 4},
		{PacingRedisOnly, 101, 101},
	} {
		b := setup(t)
		ctx := ctxT(t)
		require.NoError(t, b.limiter(Config{}).SetCap(ctx, app, 60, false))
		l, cc := countingLimiter(b, Config{Burst: 2, LocalPacing: tc.pacing})
		granted := 0
		for range 100 {
			ok, retry, err := l.Take(ctx, app)
			require.NoError(t, err)
			if ok {
				granted++
			} else {
				require.Greater(t, retry, time.Duration(0))
			}
		}
		require.Equal(t, 2, granted, "pacing %d", tc.pacing)
		n := cc.n.Load()
		t.Logf("pacing %d: %d commands for 100 Take", tc.pacing, n)
		require.GreaterOrEqual(t, n, tc.min)
		require.LessOrEqual(t, n, tc.max)
	}
}

// TestWaitIsOneRoundTripPerCall: one process, many goroutines.
func TestWaitIsOneRoundTripPerCall(t *testing.T) {
	const app, calls = "wxrtt", 300
	b := setup(t)
	ctx := ctxT(t)
	require.NoError(t, b.limiter(Config{}).SetCap(ctx, app, 60000, true))
	l, cc := countingLimiter(b, Config{})
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(calls)
	for range 20 {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				_, err := l.Wait(ctx, app)
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	n := cc.n.Load()
	t.Logf("%d commands for %d calls", n, calls)
	require.LessOrEqual(t, n, int64(calls+1), "more than one round trip per call (+1 script load)")
}
