package scenes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

type response struct {
	code int
	hdr  http.Header
	body string
}

func do(t *testing.T, method, url string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestHandler(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t, Config{Prefix: "h"})
	params := `{"shop":"上海店","q":"a=1&b=<2>","id":9}`
	scene, err := s.Issue(ctx, []byte(params))
	require.NoError(t, err)
	srv := httptest.NewServer(Handler(s, HandlerConfig{Logger: quietLogger()}))
	defer srv.Close()

	ok := do(t, "GET", srv.URL+"/s/"+scene, nil)
	require.Equal(t, http.StatusOK, ok.code, ok.body)
	require.Equal(t, `{"id":9,"q":"a=1&b=<2>","shop":"上海店"}`, ok.body)
	require.Equal(t, "application/json; charset=utf-8", ok.hdr.Get("Content-Type"))
	require.Equal(t, "public, max-age=86400", ok.hdr.Get("Cache-Control"))
	require.Equal(t, "*", ok.hdr.Get("Access-Control-Allow-Origin"))
	etag := ok.hdr.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{32}"$`, etag)

	t.Run("percent-encoded path is unescaped once", func(t *testing.T) {
		r := do(t, "GET", srv.URL+"/s/"+fmt.Sprintf("%%%02X", scene[0])+scene[1:], nil)
		require.Equal(t, http.StatusOK, r.code)
		require.Equal(t, ok.body, r.body)
		r = do(t, "GET", srv.URL+"/s/"+fmt.Sprintf("%%25%02X", scene[0])+scene[1:], nil)
		require.Equal(t, http.StatusBadRequest, r.code, "a double-encoded scene must not be decoded twice")
	})
	t.Run("HEAD", func(t *testing.T) {
		r := do(t, "HEAD", srv.URL+"/s/"+scene, nil)
		require.Equal(t, http.StatusOK, r.code)
		require.Empty(t, r.body)
		require.Equal(t, etag, r.hdr.Get("ETag"))
		require.Equal(t, strconv.Itoa(len(ok.body)), r.hdr.Get("Content-Length"))
	})
	t.Run("ETag and 304", func(t *testing.T) {
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			r := do(t, "GET", srv.URL+"/s/"+scene, map[string]string{"If-None-Match": inm})
			require.Equal(t, http.StatusNotModified, r.code, inm)
			require.Empty(t, r.body)
			require.Equal(t, etag, r.hdr.Get("ETag"))
		}
		r := do(t, "GET", srv.URL+"/s/"+scene, map[string]string{"If-None-Match": `"other"`})
		require.Equal(t, http.StatusOK, r.code)
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			method, path string
			code         int
		}{
			{"GET", "/s/NeverIssued9", http.StatusNotFound},
			{"GET", "/s/a-b", http.StatusBadRequest},
			{"GET", "/s/a%3Db", http.StatusBadRequest},
			{"GET", "/s/", http.StatusBadRequest},
			{"GET", "/s/" + strings.Repeat("x", 33), http.StatusBadRequest},
			{"GET", "/s/" + scene + "/more", http.StatusBadRequest},
			{"GET", "/other", http.StatusNotFound},
			{"POST", "/s/" + scene, http.StatusMethodNotAllowed},
			{"DELETE", "/s/" + scene, http.StatusMethodNotAllowed},
		}
		for _, tt := range tests {
			r := do(t, tt.method, srv.URL+tt.path, nil)
			require.Equal(t, tt.code, r.code, "%s %s: %s", tt.method, tt.path, r.body)
			require.Equal(t, "application/json; charset=utf-8", r.hdr.Get("Content-Type"))
			require.Equal(t, "no-store", r.hdr.Get("Cache-Control"))
			require.Regexp(t, `^\{"error":"[^"]+"\}\n$`, r.body)
			if tt.code == http.StatusMethodNotAllowed {
				require.Equal(t, "GET, HEAD, OPTIONS", r.hdr.Get("Allow"))
			}
		}
	})
	t.Run("CORS preflight", func(t *testing.T) {
		r := do(t, "OPTIONS", srv.URL+"/s/"+scene, nil)
		require.Equal(t, http.StatusNoContent, r.code)
		require.Equal(t, "*", r.hdr.Get("Access-Control-Allow-Origin"))
		require.Contains(t, r.hdr.Get("Access-Control-Allow-Methods"), "GET")
	})
}

func TestHandlerMaxAge(t *testing.T) {
	s, _ := setup(t, Config{})
	scene, err := s.Issue(context.Background(), []byte(`{"a":1}`))
	require.NoError(t, err)
	for _, tt := range []struct {
		cfg  HandlerConfig
		want string
	}{
		{HandlerConfig{MaxAge: 90 * 1e9}, "public, max-age=90"},
		{HandlerConfig{MaxAge: -1}, "no-cache"},
	} {
		rec := httptest.NewRecorder()
		Handler(s, tt.cfg).ServeHTTP(rec, httptest.NewRequest("GET", "/s/"+scene, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, tt.want, rec.Header().Get("Cache-Control"))
	}
}

// A client over its rate gets 429 with Retry-After while another client is
// still served. The rate is so low that no token refills during the test.
func TestHandlerRateLimitsPerClient(t *testing.T) {
	s, _ := setup(t, Config{})
	scene, err := s.Issue(context.Background(), []byte(`{"a":1}`))
	require.NoError(t, err)
	srv := httptest.NewServer(Handler(s, HandlerConfig{RatePerSecond: 0.001, Burst: 3, TrustProxy: true}))
	defer srv.Close()
	url := srv.URL + "/s/" + scene

	codes := map[int]int{}
	for i := range 30 {
		// The left entries are the client's own claims; only the last counts.
		r := do(t, "GET", url, map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.%d.%d, 203.0.113.7", i, i)})
		codes[r.code]++
		if r.code == http.StatusTooManyRequests {
			secs, err := strconv.Atoi(r.hdr.Get("Retry-After"))
			require.NoError(t, err)
			require.Positive(t, secs)
			require.Equal(t, "no-store", r.hdr.Get("Cache-Control"))
		}
	}
	require.Equal(t, 3, codes[http.StatusOK], "the burst")
	require.Equal(t, 27, codes[http.StatusTooManyRequests])

	other := do(t, "GET", url, map[string]string{"X-Forwarded-For": "198.51.100.1"})
	require.Equal(t, http.StatusOK, other.code, "another client must not be limited")
}

// Without TrustProxy the header is ignored: a client cannot pick a fresh
// bucket per request by forging it.
func TestHandlerIgnoresForwardedForUnlessTrusted(t *testing.T) {
	s, _ := setup(t, Config{})
	scene, err := s.Issue(context.Background(), []byte(`{"a":1}`))
	require.NoError(t, err)
	srv := httptest.NewServer(Handler(s, HandlerConfig{RatePerSecond: 0.001, Burst: 2}))
	defer srv.Close()
	limited := 0
	for i := range 10 {
		r := do(t, "GET", srv.URL+"/s/"+scene, map[string]string{"X-Forwarded-For": fmt.Sprintf("10.0.0.%d", i)})
		if r.code == http.StatusTooManyRequests {
			limited++
		}
	}
	require.Equal(t, 8, limited)
}

func TestHandlerRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(srv.Client(t), Config{})
	require.NoError(t, err)
	srv.Stop()
	rec := httptest.NewRecorder()
	Handler(s, HandlerConfig{Logger: quietLogger()}).ServeHTTP(rec, httptest.NewRequest("GET", "/s/Abc", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, `{"error":"temporarily unavailable"}`+"\n", rec.Body.String())
}

func TestClientsTableIsBounded(t *testing.T) {
	c := newClients(5, 1, 1)
	keep := netip.MustParsePrefix("192.0.2.1/32")
	c.limiter(keep)
	for i := range 1000 {
		c.limiter(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 32))
		c.limiter(keep) // recently seen: never the one evicted
		require.LessOrEqual(t, c.len(), 5)
	}
	_, ok := c.byKey[keep]
	require.True(t, ok)
}

// A flood of distinct addresses through the handler keeps the table bounded.
func TestHandlerFloodOfAddresses(t *testing.T) {
	s, _ := setup(t, Config{})
	h := Handler(s, HandlerConfig{MaxClients: 50, TrustProxy: true}).(*handler)
	for i := range 2000 {
		req := httptest.NewRequest("GET", "/s/x-y", nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.1", i>>8, i&255))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	require.Equal(t, 50, h.clients.len())
}

func TestClientKey(t *testing.T) {
	tests := []struct {
		remote, xff string
		trust       bool
		want        string
	}{
		{"192.0.2.7:5555", "", false, "192.0.2.7/32"},
		{"192.0.2.7:5555", "203.0.113.1", false, "192.0.2.7/32"},
		{"192.0.2.7:5555", "203.0.113.1", true, "203.0.113.1/32"},
		{"192.0.2.7:5555", "1.1.1.1, 203.0.113.1", true, "203.0.113.1/32"},
		{"192.0.2.7:5555", "garbage", true, "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", false, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:443", "", false, "192.0.2.9/32"},
		{"192.0.2.7:5555", "[2001:db8::1]", true, "2001:db8::/64"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/s/x", nil)
		req.RemoteAddr = tt.remote
		if tt.xff != "" {
			req.Header.Set("X-Forwarded-For", tt.xff)
		}
		got, ok := clientKey(req, tt.trust)
		require.True(t, ok)
		require.Equal(t, tt.want, got.String(), "%+v", tt)
	}
}
