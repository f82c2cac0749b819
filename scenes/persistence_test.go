package scenes

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

func TestCheckPersistence(t *testing.T) {
	ctx := context.Background()
	check := func(rdb redis.UniversalClient) error {
		s, err := New(rdb, Config{})
		require.NoError(t, err)
		return s.CheckPersistence(ctx)
	}

	bare := redistest.Start(t) // --save "" --appendonly no
	require.ErrorIs(t, check(bare.Client(t)), ErrNoPersistence)
	require.NoError(t, check(redistest.Start(t, "--appendonly", "yes").Client(t)))
	require.NoError(t, check(redistest.Start(t, "--save", "3600 1").Client(t)))

	// An ACL user without CONFIG learns nothing, and is told nothing.
	admin := bare.Client(t)
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">pw", "~*", "+@all", "-config").Err())
	limited := redis.NewClient(&redis.Options{Addr: bare.Addr, Username: "app", Password: "pw"})
	defer limited.Close()
	require.NoError(t, check(limited))

	down := redistest.Start(t)
	client := down.Client(t)
	down.Stop()
	err := check(client)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoPersistence)
}
