package wechat

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeOpenAPI parses replies as WeChat sends them (the first two are
// real quota/get answers quoted on the developer forum) and broken ones.
func TestDecodeOpenAPI(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   Quota
		code   int    // expected errcode of an *APIError
		rid    string // and its rid
		reason string // expected reason (a prefix) of an *UnknownResponseError
	}{
		{name: "with rate limits", status: 200, body: `{"errcode": 0,"rate_limit": {"refresh_second": 60,"call_count": 4200000},
			"errmsg": "ok","component_rate_limit": {"refresh_second": 60,"call_count": 1050000},
			"quota": {"remain": 1000000,"used": 0,"daily_limit": 1000000}}`,
			want: Quota{DailyQuota{1000000, 0, 1000000}, RateLimit{4200000, 60}, RateLimit{1050000, 60}}},
		{name: "quota only (older replies)", status: 200,
			body: `{"errcode": 0, "errmsg": "ok","quota": { "remain": 772239, "used": 227761,"daily_limit": 1000000}}`,
			want: Quota{DailyQuota: DailyQuota{1000000, 227761, 772239}}},
		{name: "errcode", status: 200,
			body: `{"errcode":76021,"errmsg":"cgi_path not found, please check rid: 62df8a6c-39719003-38bb0596"}`,
			code: 76021, rid: "62df8a6c-39719003-38bb0596"},
		{name: "html 502", status: 502, body: "<html>502 Bad Gateway</html>", reason: "not a JSON object"},
		{name: "empty", status: 200, body: "", reason: "not a JSON object"},
		{name: "array", status: 200, body: `[{"errcode":0}]`, reason: "not a JSON object"},
		{name: "no errcode", status: 200, body: `{"quota":{"used":1}}`, reason: "JSON without errcode"},
		{name: "null", status: 200, body: `null`, reason: "JSON without errcode"},
		{name: "ok with 500", status: 500, body: `{"errcode":0,"errmsg":"ok"}`, reason: "errcode 0 with a non-200 status"},
		{name: "wrong type", status: 200, body: `{"errcode":0,"quota":{"used":"many"}}`,
			reason: "malformed reply: json: cannot unmarshal string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var q Quota
			err := decodeOpenAPI(EndpointQuota, &response{status: tc.status, contentType: "application/json", body: []byte(tc.body)}, &q)
			var ae *APIError
			var ue *UnknownResponseError
			switch {
			case tc.code != 0:
				require.ErrorAs(t, err, &ae)
				require.Equal(t, APIError{Code: tc.code, Msg: ae.Msg, RID: tc.rid, Endpoint: EndpointQuota}, *ae)
				require.True(t, IsPermanent(err))
			case tc.reason != "":
				require.ErrorAs(t, err, &ue)
				require.True(t, strings.HasPrefix(ue.Reason, tc.reason), ue.Reason)
				require.Equal(t, tc.status, ue.Status)
				require.Equal(t, tc.body, string(ue.Sample))
				require.True(t, IsRetryable(err))
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want, q)
			}
		})
	}
}

func FuzzDecodeOpenAPI(f *testing.F) {
	f.Add(200, []byte(`{"errcode":0,"errmsg":"ok","request":{"invoke_time":1,"request_url":"access_token=abc"}}`))
	f.Add(200, []byte(`{"errcode":0,"request":{"request_url":7}} access_token=abc`))
	f.Add(200, []byte(`{"errcode":76001,"errmsg":"rid not found rid: a-b-c"}`))
	f.Add(502, []byte(`<html>`))
	f.Add(200, []byte(`{"errcode":0,"quota":{"daily_limit":1e3}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for _, ep := range []string{EndpointQuota, EndpointRID} {
			var out struct {
				Quota
				Request *RIDInfo `json:"request"`
			}
			err := decodeOpenAPI(ep, &response{status: status, body: body}, &out)
			var ae *APIError
			var ue *UnknownResponseError
			switch {
			case err == nil:
			case errors.As(err, &ae):
				if ae.Code == 0 || ae.Endpoint != ep {
					t.Fatalf("bad API error %+v", ae)
				}
			case errors.As(err, &ue):
				if ep == EndpointRID && ue.Sample != nil {
					t.Fatalf("a rid reply kept a sample: %q", ue.Sample)
				}
				if !IsRetryable(err) {
					t.Fatalf("unknown reply not retryable: %v", err)
				}
			default:
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
