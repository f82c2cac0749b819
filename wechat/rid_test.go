package wechat

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestRIDOfFailedCall(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.Pages = []string{"pages/index/index"} })
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	req := code.Params{Scene: "order=7&x=1", Page: "pages/gone"}
	_, err = e.client.CodeUnlimited(ctx, ts, req)
	var failed *APIError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, 41030, failed.Code)

	info, err := e.client.RID(ctx, ts, failed.RID)
	require.NoError(t, err)
	require.Equal(t, e.clock.Now(), info.Invoked())
	require.Equal(t, "access_token=REDACTED", info.RequestURL)
	require.Equal(t, string(CodeBody(req)), info.RequestBody)
	require.Contains(t, info.ResponseBody, `"errcode":41030`)
	require.Contains(t, info.ResponseBody, failed.RID)
	require.Equal(t, "127.0.0.1", info.ClientIP)
	require.GreaterOrEqual(t, info.CostInMS, int64(0))
	printed := fmt.Sprintf("%v %+v %#v", info, info, info)
	require.NotContains(t, printed, tok)
	require.Empty(t, leaked(printed))

	// A token in the body of the failed call does not come back either.
	_, err = e.client.code(ctx, EndpointUnlimited, tok, []byte(`{"scene":"a","access_token":"`+tok+`"}`))
	require.ErrorAs(t, err, &failed)
	require.Equal(t, 47001, failed.Code)
	info, err = e.client.RID(ctx, ts, failed.RID)
	require.NoError(t, err)
	require.Equal(t, `{"scene":"a","access_token":"REDACTED"}`, info.RequestBody)
}

func TestRIDErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	tsB := e.stable(t, StableTokenConfig{AppID: appB, Secret: secretB})
	tokB, err := tsB.Token(ctx)
	require.NoError(t, err)
	_, err = e.client.code(ctx, EndpointUnlimited, tokB, []byte(`{"scene":""}`))
	var ofB *APIError
	require.ErrorAs(t, err, &ofB)

	for name, tc := range map[string]struct {
		rid  string
		code int
	}{
		"never issued":      {"00000000-00000000-00000000", ErrcodeRIDNotFound},
		"malformed":         {"61725984-6126f6f9", ErrcodeRIDInvalid},
		"another app's rid": {ofB.RID, ErrcodeNoPermission},
	} {
		_, err := e.client.RID(ctx, ts, tc.rid)
		var ae *APIError
		require.ErrorAs(t, err, &ae, name)
		require.Equal(t, tc.code, ae.Code, name)
		require.Equal(t, EndpointRID, ae.Endpoint)
		require.NotEmpty(t, ae.RID)
		require.True(t, IsPermanent(err), name)
	}
	info, err := e.client.RID(ctx, tsB, ofB.RID)
	require.NoError(t, err, "the owner may look")
	require.Equal(t, `{"scene":""}`, info.RequestBody)

	e.clock.Advance(7*24*time.Hour + time.Second)
	_, err = e.client.RID(ctx, tsB, ofB.RID)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrcodeRIDNotFound, ae.Code, "older than 7 days")

	sent := e.fake.Stats().Endpoints[EndpointRID]
	for _, rid := range []string{"", strings.Repeat("a", 129), "a b", "rid\n", "商品"} {
		_, err := e.client.RID(ctx, ts, rid)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%q", rid)
		require.Equal(t, "rid", ve.Field)
	}
	require.Equal(t, sent, e.fake.Stats().Endpoints[EndpointRID], "nothing sent")
}

func TestRIDRefreshesTokenOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ts := e.stable(t, StableTokenConfig{})
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	_, err = e.client.code(ctx, EndpointUnlimited, tok, []byte(`{"scene":"%"}`))
	var failed *APIError
	require.ErrorAs(t, err, &failed)

	e.fake.RevokeTokens(appA)
	info, err := e.client.RID(ctx, ts, failed.RID)
	require.NoError(t, err, "refreshed after 40001; the rid still belongs to the app")
	require.Equal(t, `{"scene":"%"}`, info.RequestBody)
	require.EqualValues(t, 1, e.fake.Stats().Errcodes[40001])
	require.EqualValues(t, 2, fetches(e, stablePath))

	_, err = e.client.RID(ctx, StaticToken(tok), failed.RID)
	require.True(t, IsTokenRejected(err), "%v", err)
	require.EqualValues(t, 2, e.fake.Stats().Errcodes[40001], "the same token is not sent twice")
}

// WeChat itself returns the caller's token in request_url; RID must redact
// it wherever it appears.
func TestRIDRedactsWhatWeChatReturns(t *testing.T) {
	const tok = wechattest.TokenPrefix + "REALTOKENabcdefghijklmnopqrstuvwxyz0123456789AB"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","request":{"invoke_time":1635156704,"cost_in_ms":30,`+
			`"request_url":"access_token=%[1]s&component_access_token=%[1]s",`+
			`"request_body":"{\"scene\":\"a\",\"access_token\":\"%[1]s\",\"secret\":\"%[2]s\"}",`+
			`"response_body":"{\"errcode\":45009,\"errmsg\":\"reach max api daily quota limit rid: 617682e0-09059ac5-34a8e2ea\"}",`+
			`"client_ip":"113.1.70.51"}}`, tok, secretA)
	}))
	defer srv.Close()
	c := NewClient(Config{BaseURL: srv.URL, Logger: testLogger()})
	info, err := c.RID(context.Background(), StaticToken("t"), "617682e0-09059ac5-34a8e2ea")
	require.NoError(t, err)
	require.Equal(t, RIDInfo{
		InvokeTime:   1635156704,
		CostInMS:     30,
		RequestURL:   "access_token=REDACTED&component_access_token=REDACTED",
		RequestBody:  `{"scene":"a","access_token":"REDACTED","secret":"REDACTED"}`,
		ResponseBody: `{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 617682e0-09059ac5-34a8e2ea"}`,
		ClientIP:     "113.1.70.51",
	}, info)
	require.Equal(t, time.Unix(1635156704, 0), info.Invoked())
}
