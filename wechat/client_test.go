package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestGetUnlimitedImages(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.Pages = []string{"pages/item/detail"} })
	tok := e.token(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		req    code.Params
		format code.Format
		width  int
		page   string
	}{
		{"default jpeg", code.Params{Scene: "item42"}, code.JPEG, 430, ""},
		{"published page", code.Params{Scene: "a=1&b=2", Page: "pages/item/detail", Rendering: code.Rendering{Width: 280}}, code.JPEG, 280, "pages/item/detail"},
		{"unpublished page with check_path false", code.Params{Scene: "x", Page: "pages/new/one", CheckPath: ptr(false)}, code.JPEG, 430, "pages/new/one"},
		{"hyaline is png labelled jpeg", code.Params{Scene: "hy", Rendering: code.Rendering{IsHyaline: true, EnvVersion: "trial", Width: 300}}, code.PNG, 300, ""},
		{"line colour", code.Params{Scene: "col", Rendering: code.Rendering{LineColor: &code.Color{R: 10, G: 40, B: 90}}}, code.JPEG, 430, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := e.client.GetUnlimited(ctx, tok, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.format, img.Format)
			got, err := wechattest.DecodeImage(img.Data)
			require.NoError(t, err)
			require.Equal(t, wechattest.Content{AppID: appA, Page: tc.page, Scene: tc.req.Scene}, got)
		})
	}
	require.EqualValues(t, len(cases), e.fake.Stats().Images)
}

// TestErrcodes drives every documented errcode through the client, with
// raw bodies where the client's own validation would stop the request.
func TestErrcodes(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) {
		o.Pages = []string{"pages/index/index"}
		o.ACBudget = 2
		o.CodeErrors = map[string]int{appB: 48001}
	})
	ctx := context.Background()
	tok := e.token(t)
	trB, err := e.client.fetchStable(ctx, appB, secretB)
	require.NoError(t, err)
	cases := []struct {
		name     string
		endpoint string
		token    string
		body     string
		code     int
		class    func(error) bool
	}{
		{"40169 empty scene", EndpointUnlimited, tok, `{"scene":""}`, 40169, IsPermanent},
		{"40169 missing scene", EndpointUnlimited, tok, `{"page":"pages/index/index"}`, 40169, IsPermanent},
		{"40169 33 characters", EndpointUnlimited, tok, `{"scene":"` + strings.Repeat("a", 33) + `"}`, 40169, IsPermanent},
		{"40129 percent", EndpointUnlimited, tok, `{"scene":"a%20b"}`, 40129, IsPermanent},
		{"40129 html-escaped ampersand", EndpointUnlimited, tok, `{"scene":"a\u0026b"}`, 40129, IsPermanent},
		{"41030 unpublished page", EndpointUnlimited, tok, `{"scene":"a","page":"pages/other/x"}`, 41030, IsPermanent},
		{"41030 leading slash", EndpointUnlimited, tok, `{"scene":"a","page":"/pages/index/index","check_path":false}`, 41030, IsPermanent},
		{"41030 query", EndpointUnlimited, tok, `{"scene":"a","page":"pages/index/index?x=1"}`, 41030, IsPermanent},
		{"40097 empty env_version", EndpointUnlimited, tok, `{"scene":"a","env_version":""}`, 40097, IsPermanent},
		{"40097 bad env_version", EndpointUnlimited, tok, `{"scene":"a","env_version":"release_error"}`, 40097, IsPermanent},
		{"47001 number for boolean", EndpointUnlimited, tok, `{"scene":"a","is_hyaline":1}`, 47001, IsPermanent},
		{"47001 not json", EndpointUnlimited, tok, `scene=a`, 47001, IsPermanent},
		{"47001 token in body", EndpointUnlimited, tok, `{"scene":"a","access_token":"x"}`, 47001, IsPermanent},
		{"44002 empty body", EndpointUnlimited, tok, ``, 44002, IsPermanent},
		{"85096 scancode_time", EndpointUnlimited, tok, `{"scene":"a","page":"pages/x?scancode_time=1"}`, 85096, IsPermanent},
		{"48001 unauthorized app", EndpointUnlimited, trB.AccessToken, `{"scene":"a"}`, 48001, IsPermanent},
		{"41001 missing token", EndpointUnlimited, "", `{"scene":"a"}`, 41001, IsPermanent},
		{"40014 malformed token", EndpointUnlimited, "not-a-token", `{"scene":"a"}`, 40014, IsTokenInvalid},
		{"40001 unknown token", EndpointUnlimited, wechattest.TokenPrefix + strings.Repeat("A", 48), `{"scene":"a"}`, 40001, IsTokenInvalid},
		{"40159 A path too long", EndpointA, tok, `{"path":"` + strings.Repeat("p", 1025) + `"}`, 40159, IsPermanent},
		{"40189 A width", EndpointA, tok, `{"path":"p","width":100}`, 40189, IsPermanent},
		{"40189 B width below 280", EndpointUnlimited, tok, `{"scene":"a","width":279}`, 40189, IsPermanent},
		{"40189 B width above 1280", EndpointUnlimited, tok, `{"scene":"a","width":1281}`, 40189, IsPermanent},
		{"40189 C width", EndpointC, tok, `{"path":"p","width":2000}`, 40189, IsPermanent},
		{"40159 C path too long", EndpointC, tok, `{"path":"` + strings.Repeat("p", 129) + `"}`, 40159, IsPermanent},
		{"85096 C scancode_time", EndpointC, tok, `{"path":"p?scancode_time=2"}`, 85096, IsPermanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.code(ctx, tc.endpoint, tc.token, []byte(tc.body))
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.code, ae.Code)
			require.Equal(t, tc.endpoint, ae.Endpoint)
			require.Len(t, ae.RID, 26, "rid parsed from errmsg %q", ae.Msg)
			require.True(t, tc.class(err), "class of %v", err)
			require.NotContains(t, err.Error(), tok)
		})
	}
	// Account-level codes the fake injects per appid.
	for errcode, class := range map[int]func(error) bool{48001: IsPermanent, 61007: IsPermanent, 50002: IsPermanent,
		48004: IsPermanent, 45011: IsRateLimited, -1: IsRetryable} {
		e.fake.Update(func(o *wechattest.Options) { o.CodeErrors[appB] = errcode })
		_, err := e.client.GetUnlimited(ctx, trB.AccessToken, code.Params{Scene: "a"})
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, errcode, ae.Code)
		require.True(t, class(err), "class of %v", err)
	}
	st := e.fake.Stats()
	require.EqualValues(t, 3, st.Errcodes[40169])
	require.EqualValues(t, 3, st.Errcodes[47001])
	require.EqualValues(t, 1, st.Errcodes[44002])
}

func TestExpiredToken42001(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	e.clock.Advance(7201 * time.Second)
	_, err := e.client.GetUnlimited(context.Background(), tok, code.Params{Scene: "a"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 42001, ae.Code)
	require.True(t, IsTokenInvalid(err))
}

func TestRateLimit45009(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.RateLimit = 3 })
	tok := e.token(t)
	ctx := context.Background()
	for i := range 3 {
		_, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "s" + string(rune('a'+i))})
		require.NoError(t, err)
	}
	_, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "s"})
	require.True(t, IsRateLimited(err), "4th call in the window: %v", err)
	e.clock.Advance(61 * time.Second)
	_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "s"})
	require.NoError(t, err, "window slid past")

	e.clock.Advance(61 * time.Second) // a fresh window: only the burst can refuse
	e.fake.BurstRateLimit(appA, 2)
	for range 2 {
		_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "s"})
		require.True(t, IsRateLimited(err))
	}
	_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "s"})
	require.NoError(t, err, "burst over")
	require.Equal(t, 4, e.fake.Stats().MaxWindowCalls[appA])
}

// A width the strict fake would answer 40189 (outside 280-1280) is refused
// by the client before any call, on B and C; the bounds themselves are
// drawn at their size.
func TestWidthValidatedBeforeAnyCall(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	ctx := context.Background()
	for _, w := range []int{-1, 279, 1281, 2000} {
		_, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "w", Rendering: code.Rendering{Width: w}})
		require.True(t, IsPermanent(err) && !isAPIError(err), "width %d: %v", w, err)
		require.ErrorContains(t, err, "width")
		_, err = e.client.CreateQRCodeC(ctx, appA, tok, "pages/c", w)
		require.ErrorContains(t, err, "width")
	}
	require.Zero(t, e.fake.Stats().Calls[appA], "nothing sent")
	for _, w := range []int{280, 1280} {
		img, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "w", Rendering: code.Rendering{Width: w}})
		require.NoError(t, err, "width %d", w)
		require.NotEmpty(t, img.Data)
	}
}

// With the fake answering its rate limit with 45011 (the minute throttle),
// the client classes it as interface B's rate limit, like 45009.
func TestRateLimit45011(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.RateLimit = 1; o.RateLimitCode = 45011 })
	tok := e.token(t)
	ctx := context.Background()
	_, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "a"})
	require.NoError(t, err)
	_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "b"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 45011, ae.Code)
	require.True(t, IsRateLimited(err))
	require.False(t, IsPermanent(err) || IsRetryable(err))
}

func isAPIError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae)
}

func TestBudgetAC(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.ACBudget = 2 })
	tok := e.token(t)
	ctx := context.Background()
	img, err := e.client.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a?x=1&y=2"})
	require.NoError(t, err)
	got, err := wechattest.DecodeImage(img.Data)
	require.NoError(t, err)
	require.Equal(t, "pages/a?x=1&y=2", got.Page, "'&' reaches WeChat unescaped")
	_, err = e.client.CreateQRCodeC(ctx, appA, tok, "pages/c", 0)
	require.NoError(t, err)
	_, err = e.client.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/third"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 45029, ae.Code, "the fake's lifetime budget")
	require.True(t, IsPermanent(err))

	// The client's own budget refuses without a request.
	small := NewClient(Config{BaseURL: e.srv.URL, ACBudget: 1, Logger: testLogger()})
	_, err = small.CreateQRCodeC(ctx, appA, tok, "pages/c", 0)
	require.NoError(t, err, "identical C body counts once at the fake")
	before := e.fake.Stats().Calls[appA]
	_, err = small.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/d"})
	var be *BudgetError
	require.ErrorAs(t, err, &be)
	require.True(t, IsPermanent(err))
	require.Equal(t, before, e.fake.Stats().Calls[appA], "nothing sent")
	require.Equal(t, 1, small.ACSpent())

	zero := NewClient(Config{BaseURL: e.srv.URL, Logger: testLogger()})
	_, err = zero.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/d"})
	require.ErrorAs(t, err, &be, "ACBudget 0 refuses A and C")
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name   string
		tweak  func(*wechattest.Options)
		reason string
	}{
		{"system error", func(o *wechattest.Options) { o.PSystemError = 1 }, ""},
		{"502 html", func(o *wechattest.Options) { o.PBadGateway = 1 }, "neither JSON nor JPEG/PNG"},
		{"truncated image", func(o *wechattest.Options) { o.PTruncate = 1 }, "truncated JPEG"},
		{"reset", func(o *wechattest.Options) { o.PReset = 1 }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tok := e.token(t)
			e.fake.Update(tc.tweak)
			_, err := e.client.GetUnlimited(context.Background(), tok, code.Params{Scene: "f"})
			require.Error(t, err)
			require.True(t, IsRetryable(err), "%v", err)
			require.False(t, IsPermanent(err))
			require.NotContains(t, err.Error(), tok)
			var ue *UnknownResponseError
			if tc.reason != "" {
				require.ErrorAs(t, err, &ue)
				require.Equal(t, tc.reason, ue.Reason)
			}
			if tc.name == "502 html" {
				require.Equal(t, http.StatusBadGateway, ue.Status)
				require.Contains(t, string(ue.Sample), "502 Bad Gateway")
			}
		})
	}
}

// An image with bytes after its end marker (JPEG EOI, PNG IEND) decodes: it
// is accepted, and holds its code.
func TestTrailingBytesAccepted(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.PTrailing = 1 })
	tok := e.token(t)
	for _, hy := range []bool{false, true} {
		scene := fmt.Sprintf("trail%v", hy)
		img, err := e.client.GetUnlimited(context.Background(), tok, code.Params{Scene: scene, Rendering: code.Rendering{IsHyaline: hy}})
		require.NoError(t, err)
		want := code.JPEG
		if hy {
			want = code.PNG
		}
		require.Equal(t, want, img.Format)
		require.False(t, img.Format.Complete(img.Data), "the body does not end at its end marker")
		c, err := wechattest.DecodeImage(img.Data)
		require.NoError(t, err)
		require.Equal(t, scene, c.Scene)
	}
	require.EqualValues(t, 2, e.fake.Stats().Faults["trailing"])
}

func TestLatencyAndTimeout(t *testing.T) {
	e := newEnv(t, func(o *wechattest.Options) { o.LatencyMedian = 300 * time.Millisecond })
	tok := e.token(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: "slow"})
	require.Less(t, time.Since(start), 250*time.Millisecond)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.True(t, IsRetryable(err))
	require.NotContains(t, err.Error(), tok)
	require.Contains(t, err.Error(), "access_token=REDACTED")
}

func TestResponseCap(t *testing.T) {
	big := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		if r.URL.Query().Get("access_token") == "chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = w.Write([]byte(big))
	}))
	defer srv.Close()
	c := NewClient(Config{BaseURL: srv.URL, MaxResponseBytes: 1024, Logger: testLogger()})
	for _, tok := range []string{"sized", "chunked"} {
		_, err := c.GetUnlimited(context.Background(), tok, code.Params{Scene: "a"})
		var ue *UnknownResponseError
		require.ErrorAs(t, err, &ue, tok)
		require.Equal(t, "body larger than the size cap", ue.Reason)
		require.True(t, IsRetryable(err))
	}
}

func TestClientSendsJSONHeadersAndBody(t *testing.T) {
	var gotCT, gotBody, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCT, gotQuery = r.Header.Get("Content-Type"), r.URL.RawQuery
		b := make([]byte, 512)
		n, _ := r.Body.Read(b)
		gotBody = string(b[:n])
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		_, _ = w.Write([]byte(`{"errcode":-1,"errmsg":"system error rid: 1-2-3"}`))
	}))
	defer srv.Close()
	c := NewClient(Config{BaseURL: srv.URL + "/", Logger: testLogger()})
	_, err := c.GetUnlimited(context.Background(), "t+k/=", code.Params{Scene: "a&b", Page: "pages/i"})
	var ae *APIError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "1-2-3", ae.RID)
	require.Equal(t, "application/json; charset=utf-8", gotCT)
	require.Equal(t, `{"scene":"a&b","page":"pages/i"}`, gotBody)
	require.Equal(t, "access_token=t%2Bk%2F%3D", gotQuery)
}

func TestDefaults(t *testing.T) {
	c := NewClient(Config{})
	require.Equal(t, DefaultBaseURL, c.BaseURL())
	require.EqualValues(t, 4<<20, c.maxBody)
	require.Equal(t, 30*time.Second, c.http.Timeout)
	tr := c.http.Transport.(*http.Transport)
	require.Equal(t, 15*time.Second, tr.ResponseHeaderTimeout)
	require.Equal(t, 100, tr.MaxIdleConnsPerHost)
}

// The A+C budget counted in Redis is the app's for life: shared by every
// client (process) and not reset by a new one (a restart).
func TestACBudgetSharedInRedis(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	counter := NewRedisACCounter(rdb, "")
	proc := func() *Client {
		return NewClient(Config{BaseURL: e.srv.URL, ACBudget: 3, ACCounter: NewRedisACCounter(rdb, ""), Logger: testLogger()})
	}
	p1, p2 := proc(), proc()
	_, err := p1.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a1"})
	require.NoError(t, err)
	_, err = p2.CreateQRCodeC(ctx, appA, tok, "pages/c1", 0)
	require.NoError(t, err)
	restarted := proc()
	_, err = restarted.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a2"})
	require.NoError(t, err, "the third of three")
	var be *BudgetError
	for _, c := range []*Client{p1, p2, restarted, proc()} {
		_, err = c.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a3"})
		require.ErrorAs(t, err, &be)
		require.True(t, be.Shared)
		require.Equal(t, 3, be.Used)
		require.Contains(t, err.Error(), "3 already sent")
	}
	used, err := counter.Used(ctx, appA)
	require.NoError(t, err)
	require.Equal(t, 3, used)
	other, err := counter.Used(ctx, appB)
	require.NoError(t, err)
	require.Zero(t, other, "counted per app")
	require.EqualValues(t, 3, e.fake.Stats().Endpoints[EndpointA]+e.fake.Stats().Endpoints[EndpointC], "refusals send nothing")
}
