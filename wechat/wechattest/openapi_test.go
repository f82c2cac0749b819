package wechattest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	app2    = "wxfakeapp0000002"
	secret2 = "fakesecret2222222222222222222222"
)

func (h *harness) quota(tok, body string) reply {
	h.t.Helper()
	return h.do("POST", pathQuota+"?access_token="+url.QueryEscape(tok), body)
}

func (h *harness) rid(tok, rid string) reply {
	h.t.Helper()
	return h.do("POST", pathRID+"?access_token="+url.QueryEscape(tok), `{"rid":"`+rid+`"}`)
}

// ridOf returns the rid at the end of an error reply's errmsg.
func ridOf(t *testing.T, r reply) string {
	t.Helper()
	var e struct {
		Msg string `json:"errmsg"`
	}
	require.NoError(t, json.Unmarshal(r.body, &e))
	_, rid, ok := strings.Cut(e.Msg, " rid: ")
	require.True(t, ok, "errmsg %q has a rid", e.Msg)
	return rid
}

// lookup fetches a rid's request with tok and fails the test on an errcode.
func (h *harness) lookup(tok, rid string) ridRequest {
	h.t.Helper()
	r := h.rid(tok, rid)
	require.Zero(h.t, r.errcode(), string(r.body))
	var rep struct {
		Request ridRequest `json:"request"`
	}
	require.NoError(h.t, json.Unmarshal(r.body, &rep))
	return rep.Request
}

func TestQuotaCountsRequestsPerDay(t *testing.T) {
	h := start(t, func(o *Options) { o.RateLimit, o.RateWindow, o.DailyLimit = 100, 30*time.Second, 1000 })
	tok := h.stable(false).AccessToken
	const b = `{"cgi_path":"/wxa/getwxacodeunlimit"}`
	require.JSONEq(t, `{"errcode":0,"errmsg":"ok","quota":{"daily_limit":1000,"used":0,"remain":1000},
		"rate_limit":{"call_count":100,"refresh_second":30},"component_rate_limit":{"call_count":100,"refresh_second":30}}`,
		string(h.quota(tok, b).body))

	for range 3 {
		require.Zero(t, h.b(tok, `{"scene":"a","width":280}`).errcode())
	}
	require.Equal(t, 40169, h.b(tok, `{"scene":""}`).errcode(), "a refused call counts too")
	require.Equal(t, 40001, h.b("wxfake_"+strings.Repeat("A", 48), `{"scene":"a"}`).errcode(), "no app: not counted")
	require.Contains(t, string(h.quota(tok, b).body), `"quota":{"daily_limit":1000,"used":4,"remain":996}`)
	require.JSONEq(t, `{"errcode":0,"errmsg":"ok","quota":{"daily_limit":1000,"used":1,"remain":999}}`,
		string(h.quota(tok, `{"cgi_path":"/cgi-bin/stable_token"}`).body), "no rate_limit but for interface B")
	require.Contains(t, string(h.quota(tok, `{"cgi_path":"/cgi-bin/openapi/quota/get"}`).body), `"used":4,`,
		"quota/get counts itself, this call included")

	// 10:00:30 UTC is 18:00:30 in Beijing; the day ends at 16:00 UTC.
	h.clock.Advance(5*time.Hour + 59*time.Minute)
	tok = h.stable(false).AccessToken
	require.Contains(t, string(h.quota(tok, b).body), `"used":4,`, "still the same Beijing day")
	h.clock.Advance(time.Minute)
	require.Contains(t, string(h.quota(tok, b).body), `"used":0,`, "a new Beijing day, though not a new UTC day")
}

func TestQuotaUnlimitedRateAndDefaults(t *testing.T) {
	h := start(t, func(o *Options) { o.RateLimit, o.RateWindow = -1, 1500*time.Millisecond })
	tok := h.stable(false).AccessToken
	require.JSONEq(t, `{"errcode":0,"errmsg":"ok","quota":{"daily_limit":7200000,"used":0,"remain":7200000}}`,
		string(h.quota(tok, `{"cgi_path":"/wxa/getwxacodeunlimit"}`).body), "an unlimited rate reports no rate_limit")
	h.fake.Update(func(o *Options) { o.RateLimit = 7 })
	require.Contains(t, string(h.quota(tok, `{"cgi_path":"/wxa/getwxacodeunlimit"}`).body),
		`"rate_limit":{"call_count":7,"refresh_second":2}`, "1.5 s rounds up: never a higher rate than enforced")
}

func TestOpenAPIErrors(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	cases := []struct {
		name, method, path, body string
		tok                      string
		code                     int
	}{
		{"GET", "GET", pathQuota, "", tok, 43002},
		{"no token", "POST", pathQuota, `{"cgi_path":"/wxa/getwxacode"}`, "", 41001},
		{"bad token", "POST", pathRID, `{"rid":"00000000-00000000-00000000"}`, "x", 40014},
		{"empty body", "POST", pathQuota, "", tok, 44002},
		{"not json", "POST", pathQuota, "cgi_path=/wxa/getwxacode", tok, 47001},
		{"number", "POST", pathQuota, `{"cgi_path":5}`, tok, 47001},
		{"no cgi_path", "POST", pathQuota, `{}`, tok, 76021},
		{"unknown cgi_path", "POST", pathQuota, `{"cgi_path":"/wxa/nothing"}`, tok, 76021},
		{"sns", "POST", pathQuota, `{"cgi_path":"/sns/jscode2session"}`, tok, 76022},
		{"no slash", "POST", pathQuota, `{"cgi_path":"wxa/getwxacodeunlimit"}`, tok, 76003},
		{"with host", "POST", pathQuota, `{"cgi_path":"https://api.weixin.qq.com/wxa/getwxacodeunlimit"}`, tok, 76003},
		{"rid empty", "POST", pathRID, `{"rid":""}`, tok, 76002},
		{"rid missing", "POST", pathRID, `{}`, tok, 76002},
		{"rid malformed", "POST", pathRID, `{"rid":"61725984-6126f6f9"}`, tok, 76002},
		{"rid number", "POST", pathRID, `{"rid":7}`, tok, 47001},
		{"rid unknown", "POST", pathRID, `{"rid":"00000000-00000000-00000000"}`, tok, 76001},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path+"?access_token="+url.QueryEscape(tc.tok), tc.body)
			require.Equal(t, 200, r.status)
			require.Equal(t, "application/json; encoding=utf-8", r.ct)
			require.Equal(t, tc.code, r.errcode(), string(r.body))
			require.Regexp(t, ` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}"`, string(r.body))
		})
	}

	require.Equal(t, 200, h.do("POST", "/_fake/config", `{"openapi_errors":{"`+app+`":-1},"daily_limit":5}`).status)
	require.Equal(t, 5, h.fake.Options().DailyLimit)
	require.Equal(t, -1, h.quota(tok, `{"cgi_path":"/wxa/getwxacode"}`).errcode(), "injected")
	require.Equal(t, -1, h.rid(tok, "00000000-00000000-00000000").errcode(), "injected")
	require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode(), "code calls are not affected")
}

func TestRIDOfFailedCodeCall(t *testing.T) {
	h := start(t, func(o *Options) { o.Pages = []string{"pages/index/index"} })
	tok := h.stable(false).AccessToken
	const body = `{"scene":"a&b","page":"pages/nope"}`
	failed := h.b(tok, body)
	require.Equal(t, 41030, failed.errcode())
	rid := ridOf(t, failed)

	r := h.rid(tok, rid)
	require.NotContains(t, string(r.body), tok)
	got := h.lookup(tok, rid)
	require.GreaterOrEqual(t, got.CostInMS, int64(0))
	got.CostInMS = 0
	require.Equal(t, ridRequest{
		InvokeTime:   h.clock.Now().Unix(),
		RequestURL:   "access_token=REDACTED",
		RequestBody:  body,
		ResponseBody: strings.TrimSuffix(string(failed.body), "\n"),
		ClientIP:     "127.0.0.1",
	}, got)

	h.clock.Advance(7*24*time.Hour - time.Second)
	tok = h.stable(false).AccessToken
	require.Equal(t, body, h.lookup(tok, rid).RequestBody, "7 days minus a second: still there")
	h.clock.Advance(2 * time.Second)
	require.Equal(t, 76001, h.rid(tok, rid).errcode(), "older than 7 days")
}

func TestRIDOwnershipAndRedaction(t *testing.T) {
	h := start(t, func(o *Options) { o.Apps[app2] = secret2 })
	tok := h.stable(false).AccessToken
	tok2 := h.do("GET", "/cgi-bin/token?grant_type=client_credential&appid="+app2+"&secret="+secret2, "")
	var tr tokenReply
	require.NoError(t, json.Unmarshal(tok2.body, &tr))

	// A token fetch with a wrong secret belongs to the appid it names.
	const wrong = "wrongsecret0000000000000000000000"
	stableBody := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q}`, app, wrong)
	got := h.lookup(tok, ridOf(t, h.do("POST", "/cgi-bin/stable_token", stableBody)))
	require.Equal(t, fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":"REDACTED"}`, app), got.RequestBody)

	// Secrets in the query and tokens in the body are redacted.
	got = h.lookup(tok, ridOf(t, h.do("GET", "/cgi-bin/token?appid="+app+"&secret="+secret, "")))
	require.Equal(t, "appid="+app+"&secret=REDACTED", got.RequestURL)
	got = h.lookup(tok, ridOf(t, h.b(tok, `{"scene":"a","access_token":"`+tok+`"}`)))
	require.Equal(t, `{"scene":"a","access_token":"REDACTED"}`, got.RequestBody)
	require.Contains(t, got.ResponseBody, `"errcode":47001`)

	// Another app's rid, and a rid no app owns, answer 76003.
	other := ridOf(t, h.b(tr.AccessToken, `{"scene":""}`))
	require.Equal(t, 76003, h.rid(tok, other).errcode())
	require.Equal(t, `{"scene":""}`, h.lookup(tr.AccessToken, other).RequestBody)
	orphan := ridOf(t, h.b("wxfake_"+strings.Repeat("B", 48), `{"scene":"a"}`))
	require.Equal(t, 76003, h.rid(tok, orphan).errcode())

	// Errors of rid/get itself have rids too.
	self := ridOf(t, h.rid(tok, "nope"))
	require.Equal(t, `{"rid":"nope"}`, h.lookup(tok, self).RequestBody)
}

func TestRIDLogIsBounded(t *testing.T) {
	l := newRIDLog(3)
	for _, rid := range []string{"a", "b", "c", "b", "d"} {
		l.add(rid, ridRecord{appid: rid})
	}
	_, ok := l.get("a")
	require.False(t, ok, "the oldest is forgotten")
	for _, rid := range []string{"b", "c", "d"} {
		_, ok := l.get(rid)
		require.True(t, ok, rid)
	}
	require.Len(t, l.byRID, 3)
	l.add("e", ridRecord{})
	_, ok = l.get("b")
	require.False(t, ok, "re-adding b did not make it younger than c")
	require.Len(t, l.byRID, 3)
}

func TestRedactCredentials(t *testing.T) {
	cases := map[string]string{
		"access_token=wxfake_abc":                                   "access_token=REDACTED",
		"grant_type=x&appid=wx1&secret=s3cr3t":                      "grant_type=x&appid=wx1&secret=REDACTED",
		"a=1&ACCESS_TOKEN=t&b=2":                                    "a=1&ACCESS_TOKEN=REDACTED&b=2",
		"my_access_token=keep":                                      "my_access_token=keep",
		`{"appid":"wx1","secret":"s"}`:                              `{"appid":"wx1","secret":"REDACTED"}`,
		`{"access_token" : "a\"b", "x":1}`:                          `{"access_token" : "REDACTED", "x":1}`,
		`{"component_appsecret":"c","authorizer_access_token":"d"}`: `{"component_appsecret":"REDACTED","authorizer_access_token":"REDACTED"}`,
	}
	for in, want := range cases {
		require.Equal(t, want, redactCredentials(in), in)
	}
}
