package wechat

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestLogsHoldNoSecrets drives every logging path (token fetches, failed
// fetches, calls, errors carrying URLs) and checks the captured lines.
// TestMain repeats the check over every line of the whole run.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.TokenErrors = map[string]int{appB: 40243} })
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	_, err := e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "log"})
	require.NoError(t, err)
	e.fake.RevokeTokens(appA)
	_, err = e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "log2"})
	require.NoError(t, err)
	bad := e.stable(t, StableTokenConfig{AppID: appB, Secret: secretB})
	_, err = bad.Token(ctx)
	require.True(t, IsConfigError(err))
	_, err = NewClientCredentialTokenSource(StableTokenConfig{AppID: appA, Secret: secretA, Client: e.client})
	require.NoError(t, err)
	tok, _ := ts.Token(ctx)
	e.fake.Update(func(o *wechattest.Options) { o.PReset = 1 })
	_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "reset"})
	require.Error(t, err)
	require.Empty(t, leaked(err.Error()))

	text := strings.Join(capturedLines(), "\n")
	for _, want := range []string{"wechat token fetched", "wechat call", "errcode=40001", "token fetch failed", "access_token=REDACTED"} {
		require.Contains(t, text, want, "the logging path was exercised")
	}
	for _, l := range capturedLines() {
		require.Empty(t, leaked(l), l)
	}
	require.NotEmpty(t, leaked("x "+secretA), "the check detects a secret")
	require.NotEmpty(t, leaked("x "+tok), "the check detects a token")
}
