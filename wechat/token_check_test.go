package wechat

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

// A token cached in Redis hides a wrong secret from the token source;
// CheckSecret still finds it, with one stable_token call and no code call,
// and leaves the cached token valid for its other holders.
func TestCheckSecretSeesThroughTheCache(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	ctx := context.Background()
	tok, err := e.process(t, rs.Client(t)).Token(ctx)
	require.NoError(t, err)
	wrong, err := NewStableTokenSource(StableTokenConfig{AppID: appA, Secret: "SECRETwrongwrongwrongwrongwrong1", Client: e.client, Redis: rs.Client(t)})
	require.NoError(t, err)
	cached, err := wrong.Token(ctx)
	require.NoError(t, err, "the cache hides the wrong secret")
	require.Equal(t, tok, cached)
	before := fetches(e, stablePath)

	err = e.client.CheckSecret(ctx, appA, "SECRETwrongwrongwrongwrongwrong1")
	require.True(t, IsConfigError(err), "%v", err)
	require.Contains(t, err.Error(), "invalid app secret")
	require.NotContains(t, err.Error(), "SECRETwrong")
	require.NoError(t, e.client.CheckSecret(ctx, appA, secretA))
	require.Equal(t, before+2, fetches(e, stablePath), "one stable_token call per check")
	require.Zero(t, e.fake.Stats().Calls[appA], "no interface B call")
	require.Zero(t, e.fake.Stats().ForcedRefreshes, "normal mode: nobody's token rotates")
	again, err := e.process(t, rs.Client(t)).Token(ctx)
	require.NoError(t, err)
	require.Equal(t, tok, again, "the shared token is still the same")
	require.True(t, IsConfigError(e.client.CheckSecret(ctx, appA, "")))
}
