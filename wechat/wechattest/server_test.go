package wechattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	app    = "wxfakeapp0000001"
	secret = "fakesecret0123456789abcdef012345"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	fake  *Server
	srv   *httptest.Server
	clock *clock
}

func start(t *testing.T, tweak func(*Options)) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 2, 10, 0, 30, 0, time.UTC)}
	o := Options{Apps: map[string]string{app: secret}, Now: clk.Now}
	if tweak != nil {
		tweak(&o)
	}
	h := &harness{t: t, fake: New(o), clock: clk}
	h.srv = httptest.NewServer(h.fake)
	t.Cleanup(h.srv.Close)
	return h
}

type reply struct {
	status int
	ct     string
	body   []byte
	header http.Header
}

// errcode returns the body's errcode, 0 for a non-JSON body.
func (r reply) errcode() int {
	var e struct {
		Code int `json:"errcode"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Code
}

// do sends body as JSON (the Content-Type the client sends), if any.
func (h *harness) do(method, path, body string) reply {
	h.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json; charset=utf-8"
	}
	return h.doCT(method, path, ct, body)
}

func (h *harness) doCT(method, path, contentType, body string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	require.NoError(h.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b, resp.Header}
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	ErrCode     int    `json:"errcode"`
}

func (h *harness) stable(force bool) tokenReply {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": app, "secret": secret, "force_refresh": force})
	var tr tokenReply
	require.NoError(h.t, json.Unmarshal(h.do("POST", "/cgi-bin/stable_token", string(body)).body, &tr))
	return tr
}

func (h *harness) b(tok, body string) reply {
	h.t.Helper()
	return h.do("POST", "/wxa/getwxacodeunlimit?access_token="+url.QueryEscape(tok), body)
}

func TestStableTokenLifecycle(t *testing.T) {
	h := start(t, nil)
	t1 := h.stable(false)
	require.Equal(t, 7200, t1.ExpiresIn)
	h.clock.Advance(1000 * time.Second)
	again := h.stable(false)
	require.Equal(t, t1.AccessToken, again.AccessToken, "same token while valid")
	require.Equal(t, 6200, again.ExpiresIn)

	h.clock.Advance(6200*time.Second - 299*time.Second) // 299 s left: rotation time
	t2 := h.stable(false)
	require.NotEqual(t, t1.AccessToken, t2.AccessToken)
	require.GreaterOrEqual(t, t2.ExpiresIn, 300)
	require.Zero(t, h.b(t1.AccessToken, `{"scene":"a"}`).errcode(), "old token lives out its lifetime")
	h.clock.Advance(300 * time.Second)
	require.Equal(t, 42001, h.b(t1.AccessToken, `{"scene":"a"}`).errcode(), "then expires")
	require.Zero(t, h.b(t2.AccessToken, `{"scene":"a"}`).errcode())

	forced := h.stable(true)
	require.NotEqual(t, t2.AccessToken, forced.AccessToken)
	require.Equal(t, 40001, h.b(t2.AccessToken, `{"scene":"a"}`).errcode(), "force_refresh kills the old token at once")
	h.clock.Advance(10 * time.Second)
	require.Equal(t, forced.AccessToken, h.stable(true).AccessToken, "no second force within 30 s")
	for range 19 {
		h.clock.Advance(31 * time.Second)
		require.Zero(t, h.stable(true).ErrCode)
	}
	h.clock.Advance(31 * time.Second)
	require.Equal(t, 45009, h.stable(true).ErrCode, "20 forced refreshes a day")
	st := h.fake.Stats()
	require.EqualValues(t, 20, st.ForcedRefreshes)
	require.EqualValues(t, 25, st.TokenFetches["/cgi-bin/stable_token"])
}

func TestTokenEndpointErrors(t *testing.T) {
	h := start(t, func(o *Options) { o.TokenErrors = map[string]int{"wxfrozen": 40243}; o.Apps["wxfrozen"] = "s" })
	cases := []struct {
		name, method, path, body string
		code                     int
	}{
		{"stable GET", "GET", "/cgi-bin/stable_token", "", 43002},
		{"stable empty", "POST", "/cgi-bin/stable_token", "", 44002},
		{"stable not json", "POST", "/cgi-bin/stable_token", "appid=x", 47001},
		{"stable grant", "POST", "/cgi-bin/stable_token", `{"grant_type":"x","appid":"` + app + `","secret":"` + secret + `"}`, 40002},
		{"stable no appid", "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","secret":"x"}`, 41002},
		{"stable no secret", "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"x"}`, 41004},
		{"stable unknown app", "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxnone","secret":"x"}`, 40013},
		{"stable bad secret", "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"` + app + `","secret":"x"}`, 40125},
		{"stable frozen", "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxfrozen","secret":"s"}`, 40243},
		{"token bad secret", "GET", "/cgi-bin/token?grant_type=client_credential&appid=" + app + "&secret=x", "", 40125},
		{"token grant", "GET", "/cgi-bin/token?appid=" + app + "&secret=" + secret, "", 40002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body)
			require.Equal(t, 200, r.status)
			require.Equal(t, "application/json; encoding=utf-8", r.ct, "WeChat's non-standard error content type")
			require.Equal(t, tc.code, r.errcode())
			require.Regexp(t, ` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}"`, string(r.body))
		})
	}
}

func TestImagesAndQuirks(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	cases := []struct {
		body  string
		width int
		png   bool
	}{
		{`{"scene":"a"}`, 430, false},
		{`{"scene":"a","width":1280}`, 1280, false},
		{`{"scene":"a","width":280}`, 280, false},
		{`{"scene":"a","is_hyaline":true,"line_color":{"r":"10","g":20,"b":30}}`, 430, true},
	}
	for _, tc := range cases {
		r := h.b(tok, tc.body)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, "image/jpeg", r.ct, "always labelled image/jpeg")
		require.Equal(t, tc.png, bytes.HasPrefix(r.body, []byte("\x89PNG")))
		cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
		require.NoError(t, err)
		require.Equal(t, tc.width, cfg.Width, tc.body)
	}
	require.Equal(t, 43002, h.do("GET", "/wxa/getwxacodeunlimit?access_token="+tok, "").errcode())
	require.Equal(t, 40097, h.b(tok, `{"scene":"a","line_color":{"r":300}}`).errcode())
	require.Equal(t, 47001, h.b(tok, `{"scene":"a","line_color":"red"}`).errcode())
	require.Equal(t, 47001, h.b(tok, `{"scene":"a","width":"430"}`).errcode())
	require.Equal(t, 47001, h.b(tok, `{"scene":5}`).errcode())
	require.Equal(t, 47001, h.b(tok, `["scene"]`).errcode())
}

// A width outside 280-1280 gets 40189 on B and C (and A), as WeChat
// documents for a bad width (spec §3); with ClampWidth B and C draw it at
// the nearest bound instead (spec §8 leaves open which B does).
func TestWidthOutOfRange(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	c := func(body string) reply {
		return h.do("POST", "/cgi-bin/wxaapp/createwxaqrcode?access_token="+tok, body)
	}
	for _, w := range []int{1, 279, 1281, 2000} {
		require.Equal(t, 40189, h.b(tok, fmt.Sprintf(`{"scene":"a","width":%d}`, w)).errcode(), "B width %d", w)
		require.Equal(t, 40189, c(fmt.Sprintf(`{"path":"pages/c","width":%d}`, w)).errcode(), "C width %d", w)
		require.Equal(t, 40189, h.do("POST", "/wxa/getwxacode?access_token="+tok, fmt.Sprintf(`{"path":"pages/a","width":%d}`, w)).errcode(), "A width %d", w)
	}
	require.Zero(t, h.fake.Stats().Images)
	h.fake.Update(func(o *Options) { o.ClampWidth = true })
	for w, want := range map[int]int{1: 280, 2000: 1280} {
		for _, r := range []reply{h.b(tok, fmt.Sprintf(`{"scene":"a","width":%d}`, w)), c(fmt.Sprintf(`{"path":"pages/c","width":%d}`, w))} {
			require.Equal(t, 200, r.status, string(r.body))
			cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
			require.NoError(t, err)
			require.Equal(t, want, cfg.Width)
		}
	}
}

// With RateLimitCode 45011 a call over the limit gets 45011, the minute
// throttle, instead of 45009.
func TestRateLimitCode45011(t *testing.T) {
	h := start(t, func(o *Options) { o.RateLimit = 1; o.RateLimitCode = 45011 })
	tok := h.stable(false).AccessToken
	require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode())
	require.Equal(t, 45011, h.b(tok, `{"scene":"a"}`).errcode())
	require.EqualValues(t, 1, h.fake.Stats().Errcodes[45011])
	h.fake.Update(func(o *Options) { o.RateLimitCode = 0 })
	require.Equal(t, 45009, h.b(tok, `{"scene":"a"}`).errcode(), "default 45009")
}

func TestACBudgetAndNumUsed(t *testing.T) {
	h := start(t, func(o *Options) { o.ACBudget = 2 })
	tok := h.stable(false).AccessToken
	a := func(body string) reply {
		return h.do("POST", "/wxa/getwxacode?access_token="+tok, body)
	}
	r := a(`{"path":"pages/a?x=1"}`)
	require.Equal(t, "1", r.header.Get("Num-Used"))
	require.Equal(t, "1", a(`{"path":"pages/a?x=1"}`).header.Get("Num-Used"), "identical parameters count once")
	r = h.do("POST", "/cgi-bin/wxaapp/createwxaqrcode?access_token="+tok, `{"path":"pages/c"}`)
	require.Equal(t, "2", r.header.Get("Num-Used"))
	require.Equal(t, 45029, a(`{"path":"pages/b"}`).errcode())
	c, err := DecodeImage(r.body)
	require.NoError(t, err)
	require.Equal(t, Content{AppID: app, Page: "pages/c"}, c)
}

func TestRateWindows(t *testing.T) {
	t.Run("sliding counts rejected arrivals with CountRefused", func(t *testing.T) {
		h := start(t, func(o *Options) { o.RateLimit = 2; o.RateWindow = 10 * time.Second; o.CountRefused = true })
		tok := h.stable(false).AccessToken
		codes := func() (out []int) {
			out = append(out, h.b(tok, `{"scene":"a"}`).errcode())
			return out
		}
		require.Equal(t, []int{0}, codes())
		h.clock.Advance(5 * time.Second)
		require.Equal(t, []int{0}, codes())
		require.Equal(t, []int{45009}, codes(), "third in 10 s")
		h.clock.Advance(5 * time.Second) // first call left the window; the rejected one did not
		require.Equal(t, []int{45009}, codes())
		h.clock.Advance(10 * time.Second)
		require.Equal(t, []int{0}, codes())
	})
	t.Run("sliding counts only accepted arrivals by default", func(t *testing.T) {
		h := start(t, func(o *Options) { o.RateLimit = 2; o.RateWindow = 10 * time.Second })
		tok := h.stable(false).AccessToken
		code := func() int { return h.b(tok, `{"scene":"a"}`).errcode() }
		require.Zero(t, code())
		h.clock.Advance(5 * time.Second)
		require.Zero(t, code())
		require.Equal(t, 45009, code(), "third in 10 s")
		require.Equal(t, 45009, code(), "fourth in 10 s")
		h.clock.Advance(5 * time.Second) // the first call left the window; the refused ones never entered it
		require.Zero(t, code())
		require.Equal(t, 45009, code())
	})
	t.Run("fixed window resets on the boundary", func(t *testing.T) {
		h := start(t, func(o *Options) { o.RateLimit = 2; o.FixedWindow = true }) // clock at hh:00:30
		tok := h.stable(false).AccessToken
		require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode())
		require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode())
		require.Equal(t, 45009, h.b(tok, `{"scene":"a"}`).errcode())
		h.clock.Advance(30 * time.Second) // next wall-clock minute
		require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode())
		require.Equal(t, 4, h.fake.Stats().MaxWindowCalls[app], "stats use a sliding 60 s window across the boundary")
	})
	t.Run("negative limit is unlimited", func(t *testing.T) {
		h := start(t, func(o *Options) { o.RateLimit = -1 })
		tok := h.stable(false).AccessToken
		for range 5 {
			require.Zero(t, h.b(tok, `{"scene":"a","width":280}`).errcode())
		}
	})
}

func TestMaxWindowCalls(t *testing.T) {
	h := start(t, nil)
	h.fake.mu.Lock()
	base := h.clock.Now()
	for i := range 100 { // 100 arrivals, one every second
		h.fake.admitB(app, base.Add(time.Duration(i)*time.Second))
	}
	h.fake.mu.Unlock()
	require.Equal(t, 60, h.fake.Stats().MaxWindowCalls[app], "at most 60 arrivals in any 60 s")
}

func TestLatencyDistribution(t *testing.T) {
	s := New(Options{LatencyMedian: 100 * time.Millisecond, LatencyP99: 400 * time.Millisecond, Seed: 7})
	const n = 20000
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = s.pickLatency()
	}
	slices.Sort(d)
	require.InDelta(t, 100, d[n/2].Milliseconds(), 8, "median")
	require.InDelta(t, 400, d[n*99/100].Milliseconds(), 50, "p99")
	require.Equal(t, 50*time.Millisecond, New(Options{LatencyMedian: 50 * time.Millisecond}).pickLatency(), "constant without p99")
}

func TestFaultMix(t *testing.T) {
	h := start(t, func(o *Options) { o.PSystemError, o.PBadGateway, o.PTruncate = 0.2, 0.2, 0.2; o.Seed = 3 })
	tok := h.stable(false).AccessToken
	var sys, bad, trunc, ok int
	for range 100 {
		r := h.b(tok, `{"scene":"f","width":280}`)
		switch {
		case r.status == 502:
			require.Contains(t, string(r.body), "502 Bad Gateway")
			bad++
		case r.errcode() == -1:
			sys++
		case bytes.HasSuffix(r.body, []byte{0xFF, 0xD9}):
			ok++
		default:
			trunc++
		}
	}
	f := h.fake.Stats().Faults
	require.EqualValues(t, sys, f["system_error"])
	require.EqualValues(t, bad, f["bad_gateway"])
	require.EqualValues(t, trunc, f["truncate"])
	require.InDelta(t, 40, ok, 20, "about 40%% clean")
	require.Positive(t, sys*bad*trunc)
}

func TestControlEndpoints(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	r := h.do("POST", "/_fake/config", `{"rate_limit":1,"rate_window":"30s","latency_median":0.001,"pages":["pages/x"],"apps":{"wxnew":"s2"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	o := h.fake.Options()
	require.Equal(t, 1, o.RateLimit)
	require.Equal(t, 30*time.Second, o.RateWindow)
	require.Equal(t, time.Millisecond, o.LatencyMedian)
	require.Equal(t, []string{"pages/x"}, o.Pages)
	require.Equal(t, map[string]string{app: secret, "wxnew": "s2"}, o.Apps, "maps merge")
	require.Equal(t, 400, h.do("POST", "/_fake/config", `{"apps":{"wxbad":"x"},"rate_limit":7,"rate_window":"soon"}`).status)
	require.Equal(t, 1, h.fake.Options().RateLimit, "a bad patch changes nothing")
	require.NotContains(t, h.fake.Options().Apps, "wxbad", "not even a map entry")
	r = h.do("POST", "/_fake/config?replace=1", `{"apps":{"wxnew":"s2"},"code_errors":{"wxnew":48001}}`)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, map[string]string{"wxnew": "s2"}, h.fake.Options().Apps, "replace: the body is the whole of the options")
	require.Equal(t, DefaultPages, h.fake.Options().Pages, "replace: absent fields take their defaults")
	require.Equal(t, 5000, h.fake.Options().RateLimit)
	r = h.do("POST", "/_fake/config?replace=1", `{"apps":{"`+app+`":"`+secret+`"},"rate_limit":1,"pages":["pages/x"]}`)
	require.Equal(t, 200, r.status, string(r.body))
	require.Nil(t, h.fake.Options().CodeErrors, "replace clears maps")

	require.Equal(t, 41030, h.b(tok, `{"scene":"a","page":"pages/y"}`).errcode())
	require.Equal(t, 45009, h.b(tok, `{"scene":"a","page":"pages/y"}`).errcode())
	require.Equal(t, 200, h.do("POST", "/_fake/revoke?appid="+app, "").status)
	require.Equal(t, 40001, h.b(tok, `{"scene":"a"}`).errcode())
	require.Equal(t, 200, h.do("POST", "/_fake/burst?appid="+app+"&n=3", "").status)
	require.Equal(t, 400, h.do("POST", "/_fake/burst?appid="+app+"&n=x", "").status)

	var st Stats
	r = h.do("GET", "/_fake/stats", "")
	require.NoError(t, json.Unmarshal(r.body, &st))
	require.EqualValues(t, 1, st.Errcodes[41030])
	require.EqualValues(t, 1, st.Errcodes[45009])
	require.EqualValues(t, 2, st.Calls[app])
	require.EqualValues(t, 1, st.Calls[""], "a revoked token has no appid")
	require.EqualValues(t, 1, st.TokenFetches["/cgi-bin/stable_token"])
	require.NotContains(t, string(r.body), secret)
	require.NotContains(t, string(r.body), tok)
}

func TestOptionsJSONRoundTrip(t *testing.T) {
	in := Options{Apps: map[string]string{"a": "b"}, TokenTTL: time.Hour, RateWindow: time.Minute, PReset: 0.5, Seed: 9}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.Contains(t, string(b), `"token_ttl":"1h0m0s"`)
	var out Options
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in.TokenTTL, out.TokenTTL)
	require.Equal(t, in.RateWindow, out.RateWindow)
	require.Equal(t, in.PReset, out.PReset)
	require.Equal(t, in.Apps, out.Apps)
	require.NoError(t, json.Unmarshal([]byte(`{"token_ttl":7200}`), &out))
	require.Equal(t, 2*time.Hour, out.TokenTTL, "numbers are seconds")
	require.Error(t, json.Unmarshal([]byte(`{"token_ttl":true}`), &out))
}

func TestResetConnection(t *testing.T) {
	h := start(t, func(o *Options) { o.PReset = 1 })
	tok := h.stable(false).AccessToken
	_, err := h.srv.Client().Post(h.srv.URL+"/wxa/getwxacodeunlimit?access_token="+tok, "application/json", strings.NewReader(`{"scene":"a"}`))
	require.Error(t, err)
	require.EqualValues(t, 1, h.fake.Stats().Faults["reset"])
}

// A revocation that keeps the stable token: calls get 40001 and
// stable_token keeps answering with the same rejected token; a plain
// revocation afterwards heals it (a new token).
func TestRevokeKeepStable(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	require.Equal(t, 200, h.do("POST", "/_fake/revoke?appid="+app+"&keep=1", "").status)
	require.Equal(t, 40001, h.b(tok, `{"scene":"a"}`).errcode())
	require.Equal(t, tok, h.stable(false).AccessToken, "stable_token returns the rejected token")
	require.Equal(t, 40001, h.b(tok, `{"scene":"a"}`).errcode())
	h.fake.RevokeTokens(app)
	fresh := h.stable(false).AccessToken
	require.NotEqual(t, tok, fresh)
	require.Zero(t, h.b(fresh, `{"scene":"a"}`).errcode())

	h.fake.Update(func(o *Options) { o.RevokeKeepsStable = true })
	h.fake.RevokeTokens(app)
	require.Equal(t, 40001, h.b(fresh, `{"scene":"a"}`).errcode())
	require.Equal(t, fresh, h.stable(false).AccessToken, "the option makes every revocation keep it")
}

// WeChat takes JSON only: a code or stable_token body sent as a form, as
// text or without a Content-Type gets 47001; any parameters of
// application/json are fine.
func TestContentTypeChecked(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	stableBody := `{"grant_type":"client_credential","appid":"` + app + `","secret":"` + secret + `"}`
	for _, ct := range []string{"", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/jsonx"} {
		require.Equal(t, 47001, h.doCT("POST", "/wxa/getwxacodeunlimit?access_token="+tok, ct, `{"scene":"a"}`).errcode(), "B with %q", ct)
		require.Equal(t, 47001, h.doCT("POST", "/wxa/getwxacode?access_token="+tok, ct, `{"path":"a"}`).errcode(), "A with %q", ct)
		require.Equal(t, 47001, h.doCT("POST", "/cgi-bin/stable_token", ct, stableBody).errcode(), "stable_token with %q", ct)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		require.Zero(t, h.doCT("POST", "/wxa/getwxacodeunlimit?access_token="+tok, ct, `{"scene":"a"}`).errcode(), "B with %q", ct)
		require.Zero(t, h.doCT("POST", "/cgi-bin/stable_token", ct, stableBody).errcode(), "stable_token with %q", ct)
	}
	require.Equal(t, 44002, h.doCT("POST", "/wxa/getwxacodeunlimit?access_token="+tok, "", "").errcode(), "an empty body is 44002 first")
}

// Like a real mini-program, the fake has published some pages, not every
// page: without Pages only DefaultPages pass check_path; "*" publishes all.
func TestPublishedPagesByDefault(t *testing.T) {
	h := start(t, nil)
	tok := h.stable(false).AccessToken
	require.Equal(t, DefaultPages, h.fake.Options().Pages)
	require.Zero(t, h.b(tok, `{"scene":"a","page":"pages/index/index"}`).errcode())
	require.Zero(t, h.b(tok, `{"scene":"a"}`).errcode(), "the home page")
	require.Equal(t, 41030, h.b(tok, `{"scene":"a","page":"pages/never/published"}`).errcode())
	require.Zero(t, h.b(tok, `{"scene":"a","page":"pages/never/published","check_path":false}`).errcode())
	h.fake.Update(func(o *Options) { o.Pages = AllPages })
	require.Zero(t, h.b(tok, `{"scene":"a","page":"pages/never/published"}`).errcode())
}
