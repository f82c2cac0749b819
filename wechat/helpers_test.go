package wechat

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// Test apps of the fake. The secrets are searched for in every log line.
const (
	appA    = "wxtestapp0000001"
	secretA = "SECRETa1b2c3d4e5f6a7b8c9d0e1f2a3"
	appB    = "wxtestapp0000002"
	secretB = "SECRETffeeddccbbaa99887766554433"
)

var secrets = []string{secretA, secretB}

// capture collects every log line written during the tests.
var capture = &syncbuf.Buffer{}

// capturedLines returns the lines written to capture so far.
func capturedLines() []string { return strings.Split(strings.TrimSpace(capture.String()), "\n") }

// testLogger logs everything, Debug included, into capture.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(capture, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestMain fails the run if any captured log line holds a secret or a token.
func TestMain(m *testing.M) {
	slog.SetDefault(testLogger())
	code := m.Run()
	lines := capturedLines()
	for _, l := range lines {
		if leak := leaked(l); leak != "" {
			fmt.Fprintf(os.Stderr, "FAIL: log line leaks %s: %s\n", leak, l)
			code = 1
		}
	}
	os.Exit(code)
}

// leaked names a credential found in s, or returns "".
func leaked(s string) string {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			return "an app secret"
		}
	}
	if strings.Contains(s, wechattest.TokenPrefix) {
		return "an access token"
	}
	return ""
}

// clock is a settable time source shared by the fake and the token sources.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	fake   *wechattest.Server
	srv    *httptest.Server
	client *Client
	clock  *clock
}

// newEnv starts a fake with apps A and B and a client for it.
func newEnv(t testing.TB, tweak func(*wechattest.Options)) *env {
	t.Helper()
	clk := newClock()
	opts := wechattest.Options{Apps: map[string]string{appA: secretA, appB: secretB}, Now: clk.Now}
	if tweak != nil {
		tweak(&opts)
	}
	fake := wechattest.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := NewClient(Config{BaseURL: srv.URL, Logger: testLogger(), ACBudget: 10})
	t.Cleanup(c.http.CloseIdleConnections)
	return &env{fake: fake, srv: srv, client: c, clock: clk}
}

// token fetches a stable token for appA straight from the fake.
func (e *env) token(t testing.TB) string {
	t.Helper()
	tr, err := e.client.fetchStable(context.Background(), appA, secretA)
	if err != nil {
		t.Fatalf("fetch token: %v", err)
	}
	return tr.AccessToken
}

// stable returns a stable token source for appA on this env's fake.
func (e *env) stable(t testing.TB, cfg StableTokenConfig) *StableTokenSource {
	t.Helper()
	cfg.AppID, cfg.Secret, cfg.Client = cmpStr(cfg.AppID, appA), cmpStr(cfg.Secret, secretA), e.client
	if cfg.Clock == nil {
		cfg.Clock = e.clock.Now
	}
	ts, err := NewStableTokenSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }
