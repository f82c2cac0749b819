package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
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
		{"config 45009 is no rate limit", &ConfigError{Err: &APIError{Code: 45009}}, want{perm: true, config: true}},
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
