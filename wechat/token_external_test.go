package wechat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/internal/redistest"
)

func TestStaticToken(t *testing.T) {
	var ts TokenSource = StaticToken("tok")
	got, err := ts.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok", got)
	require.NoError(t, ts.Invalidate(context.Background(), "tok"))
	require.NotContains(t, StaticToken("tok123").String(), "tok123")
}

func TestRedisKeyTokenSource(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	ts := NewRedisKeyTokenSource(rdb, "platform:authorizer:{wx1}")
	_, err := ts.Token(ctx)
	var tu *TokenUnavailableError
	require.ErrorAs(t, err, &tu, "missing key")
	require.True(t, IsRetryable(err))

	require.NoError(t, rdb.Set(ctx, "platform:authorizer:{wx1}", "raw-token-1\n", 0).Err())
	got, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "raw-token-1", got)

	require.NoError(t, rdb.Set(ctx, "platform:authorizer:{wx1}", `{"authorizer_access_token":"json-token-2","expires_in":7200}`, 0).Err())
	require.NoError(t, ts.Invalidate(ctx, "raw-token-1"))
	got, err = ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "json-token-2", got, "read on every call")

	require.NoError(t, rdb.Set(ctx, "platform:authorizer:{wx1}", "bad token", 0).Err())
	_, err = ts.Token(ctx)
	require.ErrorAs(t, err, &tu)
}

func TestHTTPTokenSource(t *testing.T) {
	var hits atomic.Int32
	var body atomic.Value
	body.Store(`{"access_token":"central-1","expires_in":7200}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	ctx := context.Background()
	ts := NewHTTPTokenSource(srv.URL+"/token?appid=wx1&secret=topsecret", nil)
	for range 5 {
		got, err := ts.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, "central-1", got)
	}
	require.EqualValues(t, 1, hits.Load(), "cached")

	body.Store("central-2")
	require.NoError(t, ts.Invalidate(ctx, "central-1"))
	got, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "central-2", got)

	bad := NewHTTPTokenSource(srv.URL+"/token?fail=1&access_token=abc", srv.Client())
	_, err = bad.Token(ctx)
	var tu *TokenUnavailableError
	require.ErrorAs(t, err, &tu)
	require.Contains(t, err.Error(), "HTTP 503")
	require.Contains(t, err.Error(), "access_token=REDACTED")
	require.NotContains(t, err.Error(), "abc")
}

func TestCommandTokenSource(t *testing.T) {
	ctx := context.Background()
	ts := NewCommandTokenSource("echo", `{"access_token":"cmd-token","expires_in":600}`)
	got, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "cmd-token", got)
	require.NoError(t, ts.Invalidate(ctx, "cmd-token"))

	_, err = NewCommandTokenSource("false", "--secret=hunter2").Token(ctx)
	var tu *TokenUnavailableError
	require.ErrorAs(t, err, &tu)
	require.NotContains(t, err.Error(), "hunter2", "arguments are not echoed")

	_, err = NewCommandTokenSource().Token(ctx)
	require.True(t, IsConfigError(err))
}
