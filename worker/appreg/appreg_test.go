package appreg

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

func TestPutRefusesLiteralSecret(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	r := New(rdb, "")
	_, err := r.Put(context.Background(), worker.AppConfig{AppID: "wxA", Secret: "s3cr3t-value"})
	require.ErrorIs(t, err, ErrLiteralSecret)
	require.NotContains(t, err.Error(), "s3cr3t-value")
	n, err := rdb.Exists(context.Background(), r.hashKey(), r.versionKey()).Result()
	require.NoError(t, err)
	require.Zero(t, n, "nothing written")
}

func TestPutRemoveAll(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	r := New(rdb, "")
	v0, err := r.Version(ctx)
	require.NoError(t, err)
	require.Zero(t, v0)
	v1, err := r.Put(ctx, worker.AppConfig{AppID: "wxA", Token: worker.TokenConfig{RedisKey: "platform:token:wxA"}, RatePerMinute: 1000})
	require.NoError(t, err)
	require.EqualValues(t, 1, v1)
	was, v2, err := r.Remove(ctx, "wxA")
	require.NoError(t, err)
	require.True(t, was)
	require.EqualValues(t, 2, v2)
	all, v, err := r.All(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, v)
	require.True(t, all["wxA"].Removed)
	was, _, err = r.Remove(ctx, "wxA")
	require.NoError(t, err)
	require.False(t, was, "already removed")
}

// countingBuild builds redis_key token sources and counts its calls.
func countingBuild(rdb redis.UniversalClient, n *atomic.Int64) func(context.Context, worker.AppConfig) (worker.App, error) {
	return func(_ context.Context, a worker.AppConfig) (worker.App, error) {
		n.Add(1)
		ts, err := a.TokenSource(nil, rdb)
		return worker.App{AppID: a.AppID, Tokens: ts, Weight: a.Weight}, err
	}
}

// The set follows the registry: an app added is served at once (a miss
// re-checks the version), one removed is an AppError with Removed, one
// changed is built again; the template fills the token source.
func TestSetFollowsRegistry(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	r := New(rdb, "")
	var builds atomic.Int64
	static := []worker.AppConfig{{AppID: "wxA", Token: worker.TokenConfig{RedisKey: "k:wxA"}}}
	s := NewSet(SetConfig{Registry: r, Static: static, MissRecheck: 1, Build: countingBuild(rdb, &builds),
		Defaults: worker.AppDefaults{Token: worker.TokenConfig{RedisKey: "platform:token:{appid}"}, RatePerMinute: 3000}})
	_, err := s.Refresh(ctx)
	require.NoError(t, err)
	require.Zero(t, builds.Load(), "nothing built before a job")

	_, err = s.Lookup(ctx, "wxB")
	var ae *worker.AppError
	require.ErrorAs(t, err, &ae)
	require.False(t, ae.Removed)

	_, err = r.Put(ctx, worker.AppConfig{AppID: "wxB"})
	require.NoError(t, err)
	b, err := s.Lookup(ctx, "wxB")
	require.NoError(t, err, "served without waiting for Run")
	require.IsType(t, &wechat.RedisKeyTokenSource{}, b.Tokens)
	require.Equal(t, []string{"wxA", "wxB"}, s.Names())
	_, err = s.Lookup(ctx, "wxB")
	require.NoError(t, err)
	require.EqualValues(t, 1, builds.Load(), "built once")

	_, err = r.Put(ctx, worker.AppConfig{AppID: "wxB", RatePerMinute: 100})
	require.NoError(t, err)
	_, err = s.Refresh(ctx)
	require.NoError(t, err)
	_, err = s.Lookup(ctx, "wxB")
	require.NoError(t, err)
	require.EqualValues(t, 2, builds.Load(), "changed: built again")

	_, _, err = r.Remove(ctx, "wxB")
	require.NoError(t, err)
	_, _, err = r.Remove(ctx, "wxA")
	require.NoError(t, err)
	_, err = s.Refresh(ctx)
	require.NoError(t, err)
	for _, id := range []string{"wxA", "wxB"} {
		_, err = s.Lookup(ctx, id)
		require.ErrorAs(t, err, &ae, id)
		require.True(t, ae.Removed, "%s: a removed app (the file's too) is held, not unknown", id)
	}
	require.Empty(t, s.Names())
}

// A refresh costs one GET when nothing changed, whatever the number of
// apps.
func TestRefreshIsOneCommandWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	r := New(rdb, "")
	for i := range 1000 {
		_, err := r.Put(ctx, worker.AppConfig{AppID: fmt.Sprintf("wx%04d", i), Token: worker.TokenConfig{RedisKey: "k"}})
		require.NoError(t, err)
	}
	var n atomic.Int64
	s := NewSet(SetConfig{Registry: r, Build: countingBuild(rdb, &n)})
	_, err := s.Refresh(ctx)
	require.NoError(t, err)
	require.Len(t, s.Names(), 1000)
	before := commands(t, rdb)
	for range 10 {
		changed, err := s.Refresh(ctx)
		require.NoError(t, err)
		require.False(t, changed)
	}
	// INFO itself counts once.
	require.EqualValues(t, 10+1, commands(t, rdb)-before)
}

func commands(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	var n int64
	info, err := rdb.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	_, err = fmt.Sscanf(info[strings.Index(info, "total_commands_processed:"):], "total_commands_processed:%d", &n)
	require.NoError(t, err)
	return n
}
