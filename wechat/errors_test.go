package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestPredicates(t *testing.T) {
	api := func(code int) error { return fmt.Errorf("wrapped: %w", &APIError{Code: code}) }
	type want struct{ retry, token, rate, perm, config bool }
	cases := []struct {
		name string
		err  error
		want want
	}{
		{"-1", api(-1), want{retry: true}},
		{"40001", api(40001), want{token: true}},
		{"40014", api(40014), want{token: true}},
		{"42001", api(42001), want{token: true}},
		{"45009", api(45009), want{rate: true}},
		{"45011", api(45011), want{rate: true}},
		{"40097", api(40097), want{perm: true}},
		{"40129", api(40129), want{perm: true}},
		{"40169", api(40169), want{perm: true}},
		{"41030", api(41030), want{perm: true}},
		{"47001", api(47001), want{perm: true}},
		{"85096", api(85096), want{perm: true}},
		{"48001", api(48001), want{perm: true}},
		{"61007", api(61007), want{perm: true}},
		{"45029", api(45029), want{perm: true}},
		{"unknown code", api(99999), want{}},
		{"unknown body", &UnknownResponseError{Status: 502}, want{retry: true}},
		{"transport", &TransportError{Err: errors.New("connection reset")}, want{retry: true}},
		{"net timeout", &net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, want{retry: true}},
		{"deadline", context.DeadlineExceeded, want{retry: true}},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), want{}},
		{"token unavailable", &TokenUnavailableError{Source: "x", Err: errors.New("y")}, want{retry: true}},
		{"validation", &ValidationError{Field: "scene"}, want{perm: true}},
		{"budget", &BudgetError{}, want{perm: true}},
		{"config 40125", &ConfigError{AppID: "a", Err: &APIError{Code: 40125}}, want{perm: true, config: true}},
		{"config 40001 at fetch", &ConfigError{AppID: "a", Err: &APIError{Code: 40001}}, want{perm: true, config: true}},
		// A token endpoint's 45009 is its daily quota, its 45011 its own
		// minute limit: neither is interface B's limit (no B cooldown).
		{"token endpoint 45009", &TokenQuotaError{AppID: "a", Err: &APIError{Code: 45009, Endpoint: EndpointStableToken}}, want{}},
		{"bare stable_token 45009", &APIError{Code: 45009, Endpoint: EndpointStableToken}, want{}},
		{"cgi-bin/token 45011", &APIError{Code: 45011, Endpoint: EndpointToken}, want{}},
		{"B 45009", &APIError{Code: 45009, Endpoint: EndpointUnlimited}, want{rate: true}},
		{"token rejected twice", &TokenRejectedError{Err: &APIError{Code: 40001}}, want{}},
		{"token reused", &TokenRejectedError{Err: &APIError{Code: 42001}, Reused: true}, want{}},
		{"nil", nil, want{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := want{IsRetryable(tc.err), IsTokenInvalid(tc.err), IsRateLimited(tc.err), IsPermanent(tc.err), IsConfigError(tc.err)}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://api.weixin.qq.com/wxa/getwxacodeunlimit?access_token=ABC.def-1": "https://api.weixin.qq.com/wxa/getwxacodeunlimit?access_token=REDACTED",
		"/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s3cr3t":    "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=REDACTED",
		`Post "http://x/y?access_token=T&z=1": EOF`:                              `Post "http://x/y?access_token=REDACTED&z=1": EOF`,
		"/a?component_access_token=C&authorizer_access_token=D":                  "/a?component_access_token=REDACTED&authorizer_access_token=REDACTED",
		"https://h/p?appid=wx1#frag":                                             "https://h/p?appid=wx1#frag",
		"https://h/p?my_access_token_count=3":                                    "https://h/p?my_access_token_count=3",
	}
	for in, want := range cases {
		require.Equal(t, want, RedactURL(in), in)
	}
}

// A 45009 from either token endpoint, as the client really parses it, is a
// *TokenQuotaError: not B's rate limit, not retryable, and remembered for a
// minute (no refetch storm), and no B call is sent for it.
func TestTokenEndpoint45009IsTheDailyQuota(t *testing.T) {
	for _, ep := range []string{EndpointStableToken, EndpointToken} {
		t.Run(ep, func(t *testing.T) {
			e := newEnv(t, func(o *wechattest.Options) { o.TokenErrors = map[string]int{appA: 45009} })
			cfg := StableTokenConfig{AppID: appA, Secret: secretA, Client: e.client, Clock: e.clock.Now}
			var ts TokenSource
			var err error
			if ep == EndpointToken {
				ts, err = NewClientCredentialTokenSource(cfg)
			} else {
				ts, err = NewStableTokenSource(cfg)
			}
			require.NoError(t, err)
			for range 3 {
				_, err := e.client.CodeUnlimited(context.Background(), ts, code.Params{Scene: "q"})
				require.True(t, IsTokenQuota(err), "%v", err)
				require.False(t, IsRateLimited(err), "not interface B's minute limit")
				require.False(t, IsRetryable(err))
				require.False(t, IsConfigError(err))
				var tq *TokenQuotaError
				require.ErrorAs(t, err, &tq)
				require.Equal(t, ep, tq.Err.Endpoint)
				require.Contains(t, err.Error(), "daily quota")
			}
			st := e.fake.Stats()
			require.EqualValues(t, 1, st.TokenFetches[ep], "remembered: one fetch")
			require.Zero(t, st.Endpoints[EndpointUnlimited], "no B call without a token")
		})
	}
}

func TestIsAccountBlocked(t *testing.T) {
	for _, c := range []int{48001, 48004, 50002, 61007} {
		err := fmt.Errorf("x: %w", &APIError{Code: c, Endpoint: EndpointUnlimited})
		require.True(t, IsAccountBlocked(err), "%d", c)
		require.True(t, IsPermanent(err), "%d", c)
	}
	require.False(t, IsAccountBlocked(&APIError{Code: 40129, Endpoint: EndpointUnlimited}))
	require.False(t, IsAccountBlocked(&APIError{Code: 48001, Endpoint: EndpointStableToken}), "a token endpoint's answer")
	require.False(t, IsAccountBlocked(errors.New("48001")))
}

// A -1 from the token endpoint (injected with TokenErrors, fake-wechat
// --token-error) is transient: retryable, neither a rate limit nor a
// configuration problem, and the next fetch after the short backoff heals.
func TestTokenEndpointBusyIsTransient(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.TokenErrors = map[string]int{appA: -1} })
	ts := e.stable(t, StableTokenConfig{})
	_, err := e.client.CodeUnlimited(context.Background(), ts, code.Params{Scene: "busy"})
	require.True(t, IsRetryable(err), "%v", err)
	require.False(t, IsRateLimited(err))
	require.False(t, IsConfigError(err))
	require.False(t, IsTokenQuota(err))
	require.EqualValues(t, -1, func() int { var ae *APIError; errors.As(err, &ae); return ae.Code }())
	e.fake.Update(func(o *wechattest.Options) { o.TokenErrors = nil })
	_, err = e.client.CodeUnlimited(context.Background(), ts, code.Params{Scene: "busy"})
	require.Error(t, err, "the failure is remembered for a moment: no fetch storm")
	e.clock.Advance(2 * time.Second)
	_, err = e.client.CodeUnlimited(context.Background(), ts, code.Params{Scene: "busy"})
	require.NoError(t, err, "healed after the short backoff")
	require.EqualValues(t, 2, e.fake.Stats().TokenFetches[EndpointStableToken])
}
