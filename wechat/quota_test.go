package wechat

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestQuotaCountsServedCalls(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) {
		o.RateLimit, o.RateWindow, o.DailyLimit = 4500, time.Minute, 100000
		o.Pages = []string{"pages/index/index"}
	})
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	before, err := e.client.Quota(ctx, ts, EndpointUnlimited)
	require.NoError(t, err)
	require.Equal(t, Quota{
		DailyQuota:         DailyQuota{DailyLimit: 100000, Used: 0, Remain: 100000},
		RateLimit:          RateLimit{CallCount: 4500, RefreshSecond: 60},
		ComponentRateLimit: RateLimit{CallCount: 4500, RefreshSecond: 60},
	}, before)
	require.Equal(t, 4500.0, before.PerMinute())

	const n = 7
	for i := range n {
		_, err := e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "q" + string(rune('a'+i)), Rendering: code.Rendering{Width: 280}})
		require.NoError(t, err)
	}
	_, err = e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "q", Page: "pages/unpublished"})
	require.True(t, IsPermanent(err), "41030: %v", err)
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	_, err = e.client.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a"})
	require.NoError(t, err)

	after, err := e.client.Quota(ctx, ts, EndpointUnlimited)
	require.NoError(t, err)
	require.EqualValues(t, n+1, after.Used-before.Used, "every B call the fake answered for the app, the refused one too")
	require.EqualValues(t, e.fake.Stats().Calls[appA]-1, after.Used, "the fake's own count of B calls (its Calls holds the A call too)")
	require.Equal(t, after.DailyLimit-after.Used, after.Remain)
	a, err := e.client.Quota(ctx, ts, EndpointA)
	require.NoError(t, err)
	require.EqualValues(t, 1, a.Used, "interface A is counted apart")
	require.Zero(t, a.PerMinute(), "no rate_limit reported for A")

	e.fake.Update(func(o *wechattest.Options) { o.RateLimit, o.RateWindow = 100, 30*time.Second })
	q, err := e.client.Quota(ctx, ts, EndpointUnlimited)
	require.NoError(t, err)
	require.Equal(t, RateLimit{CallCount: 100, RefreshSecond: 30}, q.RateLimit, "follows the fake's configured rate")
	require.Equal(t, 200.0, q.PerMinute())
}

func TestQuotaErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	for path, code := range map[string]int{
		"/wxa/nothing":        ErrcodeCGIPathNotFound,
		"/sns/jscode2session": ErrcodeCGIPathNoPermission,
	} {
		_, err := e.client.Quota(ctx, ts, path)
		var ae *APIError
		require.ErrorAs(t, err, &ae, path)
		require.Equal(t, code, ae.Code)
		require.Equal(t, EndpointQuota, ae.Endpoint)
		require.Len(t, ae.RID, 26)
		require.True(t, IsPermanent(err))
		require.False(t, IsRetryable(err))
	}

	sent := e.fake.Stats().Endpoints[EndpointQuota]
	for _, path := range []string{"", "wxa/getwxacodeunlimit", "https://api.weixin.qq.com/wxa/getwxacodeunlimit",
		"/wxa/getwxacodeunlimit?x=1", "/wxa/get wxacode", "/" + strings.Repeat("a", 256)} {
		_, err := e.client.Quota(ctx, ts, path)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, path)
		require.Equal(t, "cgi_path", ve.Field)
		require.True(t, IsPermanent(err))
	}
	require.Equal(t, sent, e.fake.Stats().Endpoints[EndpointQuota], "nothing sent")

	// What the validation prevents: WeChat's 76003 for a path without '/'.
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	err = e.client.openAPI(ctx, EndpointQuota, tok, []byte(`{"cgi_path":"wxa/getwxacodeunlimit"}`), &Quota{})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrcodeNoPermission, ae.Code)

	e.fake.Update(func(o *wechattest.Options) { o.OpenAPIErrors = map[string]int{appA: -1} })
	_, err = e.client.Quota(ctx, ts, EndpointUnlimited)
	require.True(t, IsRetryable(err), "injected system error: %v", err)
	e.fake.Update(func(o *wechattest.Options) { o.OpenAPIErrors[appA] = 45009 })
	_, err = e.client.Quota(ctx, ts, EndpointUnlimited)
	require.ErrorAs(t, err, &ae)
	require.Equal(t, EndpointQuota, ae.Endpoint, "a 45009 here is quota/get's own limit")
}

func TestQuotaRefreshesTokenOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	old, err := ts.Token(ctx)
	require.NoError(t, err)
	e.fake.RevokeTokens(appA)
	q, err := e.client.Quota(ctx, ts, EndpointUnlimited)
	require.NoError(t, err, "refreshed after 40001")
	require.EqualValues(t, 5000, q.CallCount, "the fake's default rate")
	require.EqualValues(t, 1, e.fake.Stats().Errcodes[40001])
	require.EqualValues(t, 2, fetches(e, stablePath), "one refetch")
	fresh, err := ts.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, old, fresh)

	_, err = e.client.Quota(ctx, StaticToken(old), EndpointUnlimited)
	var tr *TokenRejectedError
	require.ErrorAs(t, err, &tr, "a token that cannot be replaced: %v", err)
	require.True(t, tr.Reused)
	require.EqualValues(t, 2, e.fake.Stats().Errcodes[40001], "the same token is not sent twice")
	require.NotContains(t, err.Error(), old)

	e.clock.Advance(7201 * time.Second)
	_, err = e.client.Quota(ctx, StaticToken(fresh), EndpointUnlimited)
	require.ErrorAs(t, err, &tr, "42001: %v", err)
	require.Equal(t, 42001, tr.Err.Code)
	require.EqualValues(t, 1, e.fake.Stats().Errcodes[42001])

	_, err = e.client.Quota(ctx, &freshTokens{}, EndpointUnlimited)
	require.ErrorAs(t, err, &tr)
	require.False(t, tr.Reused, "a fresh token rejected too")
}

func TestPerMinute(t *testing.T) {
	for _, tc := range []struct {
		r    RateLimit
		want float64
	}{
		{RateLimit{5000, 60}, 5000},
		{RateLimit{4200000, 60}, 4200000},
		{RateLimit{100, 30}, 200},
		{RateLimit{10, 1}, 600},
		{RateLimit{90, 3600}, 1.5},
		{RateLimit{0, 60}, 0},
		{RateLimit{10, 0}, 0},
		{RateLimit{10, -5}, 0},
		{RateLimit{}, 0},
	} {
		require.Equal(t, tc.want, tc.r.PerMinute(), "%+v", tc.r)
	}
}
