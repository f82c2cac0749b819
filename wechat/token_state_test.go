package wechat

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

// The shared token's state is readable without the token, and the
// OnTokenFetch hook sees each fetch with its result.
func TestSharedTokenStateAndFetchHook(t *testing.T) {
	e := newEnv(t, nil)
	var seen []string
	e.client.onFetch = func(appid, endpoint string, err error) { seen = append(seen, fmt.Sprint(appid, endpoint, err)) }
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	st, err := ReadSharedTokenState(ctx, rdb, "", appA)
	require.NoError(t, err)
	require.False(t, st.Cached)
	ts := e.stable(t, StableTokenConfig{Redis: rdb})
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	st, err = ReadSharedTokenState(ctx, rdb, "", appA)
	require.NoError(t, err)
	require.True(t, st.Cached)
	require.True(t, st.ExpiresAt.After(e.clock.Now()))
	require.True(t, st.RefreshAt.Before(st.ExpiresAt))
	require.NotContains(t, fmt.Sprintf("%+v", st), tok)
	require.Equal(t, []string{appA + EndpointStableToken + "<nil>"}, seen)
	_, err = e.client.fetchStable(ctx, appA, "wrong-secret")
	require.Error(t, err)
	require.Len(t, seen, 2)
	require.NotContains(t, seen[1], "wrong-secret")
}
