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
	for _, k := range []string{"wxacode:serving:workers", "wxacode:serving:{w1}"} {
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		require.True(t, ttl > ServingTTL && ttl <= 2*ServingTTL, "%s expires on its own: %s", k, ttl)
	}
	require.ElementsMatch(t, []string{"wxA", "wxB"}, rdb.SMembers(ctx, "wxacode:serving:{w1}").Val(), "one key per worker holds its apps")

	// w2 stops beating: after ServingTTL it no longer counts, and w1's
	// next beat drops it from the set.
	now = now.Add(ServingTTL + time.Second)
	n, _ = s.Live(ctx, "wxA")
	require.Zero(t, n)
	require.NoError(t, s.Beat(ctx, "w1", []string{"wxA"}))
	n, _ = s.Live(ctx, "wxA")
	require.EqualValues(t, 1, n)
	n, _ = s.Live(ctx, "wxB")
	require.Zero(t, n, "w1's changed app set was written again")
	require.EqualValues(t, 1, rdb.ZCard(ctx, "wxacode:serving:workers").Val(), "stale member removed")

	// The app set expired (a Redis restart, a long pause): the next beat
	// writes it again although it did not change.
	require.NoError(t, rdb.Del(ctx, "wxacode:serving:{w1}").Err())
	require.NoError(t, s.Beat(ctx, "w1", []string{"wxA"}))
	n, _ = s.Live(ctx, "wxA")
	require.EqualValues(t, 1, n)

	require.NoError(t, s.Leave(ctx, "w1"))
	n, _ = s.Live(ctx, "wxA")
	require.Zero(t, n, "a worker that left is gone at once")
	require.Regexp(t, `^.+:\d+:[0-9a-f]{6}$`, WorkerID())
}
