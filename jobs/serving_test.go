package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

func TestServingHeartbeats(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	s := NewServing(rdb, "")
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }

	n, err := s.Live(ctx, "wxA")
	require.NoError(t, err)
	require.Zero(t, n, "no worker yet")
	require.NoError(t, s.Beat(ctx, "w1", []string{"wxA", "wxB"}))
	require.NoError(t, s.Beat(ctx, "w2", []string{"wxA"}))
	for app, want := range map[string]int64{"wxA": 2, "wxB": 1, "wxC": 0} {
		n, err := s.Live(ctx, app)
		require.NoError(t, err)
		require.Equal(t, want, n, app)
	}
	ttl, err := rdb.PTTL(ctx, "wxacode:serving:{wxA}").Result()
	require.NoError(t, err)
	require.True(t, ttl > ServingTTL && ttl <= 2*ServingTTL, "the key expires on its own: %s", ttl)

	// w2 stops beating: after ServingTTL it no longer counts, and w1's
	// next beat drops it from the set.
	now = now.Add(ServingTTL + time.Second)
	n, _ = s.Live(ctx, "wxA")
	require.Zero(t, n)
	require.NoError(t, s.Beat(ctx, "w1", []string{"wxA"}))
	n, _ = s.Live(ctx, "wxA")
	require.EqualValues(t, 1, n)
	require.EqualValues(t, 1, rdb.ZCard(ctx, "wxacode:serving:{wxA}").Val(), "stale member removed")

	require.NoError(t, s.Leave(ctx, "w1", []string{"wxA", "wxB"}))
	n, _ = s.Live(ctx, "wxA")
	require.Zero(t, n, "a worker that left is gone at once")
	require.Regexp(t, `^.+:\d+:[0-9a-f]{6}$`, WorkerID())
}
