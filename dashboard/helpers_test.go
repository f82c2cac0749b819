package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
)

// Test credentials. They are checked for in rendered output too: a page
// must never echo them.
const (
	testUser   = "ops"
	testPass   = "pw-Secret-123-long"
	testBearer = "bearer-Secret-456"
	testApp    = "wx1"
	testRun    = "r1"
)

var testAuth = Auth{User: testUser, Password: testPass, BearerToken: testBearer}

type bundle struct {
	redis *redistest.Server
	rdb   *redis.Client
	runs  *runs.Store
	led   *jobs.Ledger
	insp  *asynq.Inspector
	dash  *Server
	web   *httptest.Server
}

// setup starts a private Redis and a dashboard on it with testAuth; mod
// changes the config before New.
func setup(t *testing.T, mod func(*Config)) *bundle {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	b := &bundle{redis: srv, rdb: rdb, runs: runs.NewStore(rdb, ""), led: jobs.NewLedger(rdb, ""),
		insp: asynq.NewInspectorFromRedisClient(rdb)}
	cfg := Config{Redis: rdb, Runs: b.runs, Ledger: b.led, Auth: testAuth, Apps: []string{testApp}}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg)
	require.NoError(t, err)
	b.dash = d
	b.web = httptest.NewServer(d.Handler())
	t.Cleanup(func() { b.web.Close(); require.NoError(t, d.Close()) })
	return b
}

// seed creates run r1 of app wx1 (10 rows, 8 fed, running) and records
// outcomes through the runs and ledger APIs: rows 0-3 stored, 4 skipped,
// 5 and 7 failed with 41030, 6 with 40097. It also puts two scene jobs in
// wx1's queue.
func (b *bundle) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.runs.Create(ctx, runs.Run{ID: testRun, Campaign: "promo", App: testApp, Total: 10, Window: 100,
		State: runs.StateRunning, Created: time.Now().Add(-2 * time.Minute).UTC()}))
	require.NoError(t, b.runs.SetFed(ctx, testRun, 8))
	record := func(row int64, st jobs.Status, f *runs.Failure) {
		_, err := b.runs.Record(ctx, testRun, row, st, nil, f)
		require.NoError(t, err)
		require.NoError(t, b.led.Count(ctx, testApp, st))
	}
	for row := range int64(4) {
		record(row, jobs.StatusStored, nil)
	}
	record(4, jobs.StatusSkipped, nil)
	record(5, jobs.StatusFailed, &runs.Failure{Scene: "s5", Code: 41030, Msg: "invalid page", RID: "rid-5", Reason: "permanent"})
	record(6, jobs.StatusFailed, &runs.Failure{Scene: "s6", Code: 40097, Msg: "invalid args", RID: "rid-6", Reason: "permanent"})
	// A reason quoting a URL with a secret in it (a *url.Error does this).
	record(7, jobs.StatusFailed, &runs.Failure{Scene: "s7", Code: 41030, RID: "rid-7",
		Reason: `Get "https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=APPSECRET-LEAK": timeout`})
	require.NoError(t, b.led.AddEnqueued(ctx, testApp, 12))
	client := asynq.NewClientFromRedisClient(b.rdb)
	for _, scene := range []string{"q1", "q2"} {
		j := jobs.Job{App: testApp, Run: testRun, Row: 9, Params: code.Params{Scene: scene, Page: "pages/x", Rendering: code.Rendering{Width: 430}}}
		payload, err := j.Encode()
		require.NoError(t, err)
		_, err = client.Enqueue(asynq.NewTask(jobs.TaskType, payload), asynq.Queue(jobs.LaneBulk), asynq.TaskID(j.TaskID()))
		require.NoError(t, err)
	}
}

// do sends a request with credentials set by auth (nil: none) and returns
// the response and its body.
func (b *bundle) do(t *testing.T, method, path string, auth func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.web.URL+path, nil)
	require.NoError(t, err)
	if auth != nil {
		auth(req)
	}
	resp, err := b.web.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func withBearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withBasic(u, p string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(u, p) }
}

var authed = withBearer(testBearer)

// getJSON GETs path with credentials, expects want and decodes into v.
func (b *bundle) getJSON(t *testing.T, path string, want int, v any) {
	t.Helper()
	resp, body := b.do(t, http.MethodGet, path, authed)
	require.Equal(t, want, resp.StatusCode, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.Unmarshal([]byte(body), v), body)
}

var fieldAttr = regexp.MustCompile(`data-field="([a-z-]+)" data-value="([^"]*)"`)

// fields reads the data-field/data-value pairs of the element whose
// opening tag carries attr (e.g. `data-run="r1"`) up to closeTag.
func fields(t *testing.T, html, attr, closeTag string) map[string]string {
	t.Helper()
	i := strings.Index(html, attr)
	require.GreaterOrEqual(t, i, 0, "no %s in page", attr)
	part := html[i:]
	part = part[:strings.Index(part, closeTag)]
	out := map[string]string{}
	for _, m := range fieldAttr.FindAllStringSubmatch(part, -1) {
		out[m[1]] = m[2]
	}
	return out
}
