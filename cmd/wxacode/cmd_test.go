package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestEnqueueRejectsAndStrict(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	t.Setenv("WXACODE_APPS_FILE", "")
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	require.NoError(t, os.WriteFile(in, []byte("scene,page,width\nok1,pages/a,\nbad scene,pages/a,\nok2,/pages/a,\nok3,pages/a,9999\nok1,pages/a,\nok4,,300\n"), 0o600))
	rejects := filepath.Join(dir, "rejects.jsonl")
	base := []string{"enqueue", "--redis-url", rs.URL(), "--app", "wx1", "--quiet"}

	// --strict: nothing is enqueued when any row is invalid.
	var out, errb bytes.Buffer
	err := run(ctx, append(base, "--strict", in), &out, &errb)
	require.Equal(t, exitError{2}, err)
	require.Contains(t, errb.String(), "nothing enqueued")
	info, err := asynq.NewInspectorFromRedisClient(rs.Client(t)).GetQueueInfo(jobs.Queue("wx1"))
	if err == nil {
		require.Zero(t, info.Size)
	}

	out.Reset()
	errb.Reset()
	err = run(ctx, append(base, "--rejects", rejects, in), &out, &errb)
	require.Equal(t, exitError{2}, err, "rejected rows give a non-zero exit")
	require.Contains(t, out.String(), "read 7 lines: enqueued 2, duplicate 1, rejected 3, empty 0, header 1 in")
	for _, want := range []string{"line 3: scene", "line 4: page", "line 5: width"} {
		require.Contains(t, errb.String(), want)
	}
	f, err := os.Open(rejects)
	require.NoError(t, err)
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ Line int }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		lines = append(lines, r.Line)
	}
	require.ElementsMatch(t, []int{3, 4, 5}, lines)
}

func TestEnqueueUnknownAppRefused(t *testing.T) {
	apps := filepath.Join(t.TempDir(), "apps.yaml")
	require.NoError(t, os.WriteFile(apps, []byte("apps:\n  - appid: wxA\n    secret: s\n"), 0o600))
	err := run(context.Background(), []string{"enqueue", "--apps-file", apps, "--app", "wxB", "-"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "not in")
}

func TestDemoSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Chdir(t.TempDir())
	t.Setenv("WXACODE_REDIS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"demo", "--scenes", "60", "--rate-per-minute", "3000"}, &out, &out), out.String())
	s := out.String()
	require.Contains(t, s, "enqueued 60 jobs")
	require.Contains(t, s, "dashboard while the demo runs: http://127.0.0.1:")
	require.Regexp(t, `wxd000000000000001\s+60\s+60\s+0\s+0`, s, "60 enqueued, 60 stored, none skipped or failed")
	entries, err := os.ReadDir(filepath.Join("wxacode-demo", demoApp, "pages~2Fcoupon~2Findex"))
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jpg") {
			n++
		}
	}
	require.Equal(t, 60, n)
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"nope"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	require.False(t, errors.Is(err, context.Canceled))
}

func TestFakeWeChatCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"fake-wechat", "--listen", "127.0.0.1:0", "--app", "wxA:sA", "--rate-limit", "7"}, &out, &out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "fake WeChat API on http://127.0.0.1:") }, 5*time.Second, 20*time.Millisecond)
	require.Contains(t, out.String(), "[wxA]")
	cancel()
	require.NoError(t, <-done)
}

func TestGenOneCode(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{"wxG": "sG"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "code.jpg")
	base := []string{"gen", "--redis-url", rs.URL(), "--wechat-base-url", srv.URL, "--appid", "wxG", "--secret", "sG", "--apps-file", ""}
	var errb bytes.Buffer
	require.NoError(t, run(ctx, append(base, "--scene", "a&b=1", "--page", "pages/x", "-o", out), &bytes.Buffer{}, &errb), errb.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	c, err := wechattest.DecodeImage(data)
	require.NoError(t, err)
	require.Equal(t, wechattest.Content{AppID: "wxG", Page: "pages/x", Scene: "a&b=1"}, c)
	st, err := ratelimit.New(rs.Client(t), ratelimit.Config{}).State(ctx, "wxG")
	require.NoError(t, err)
	require.Positive(t, st.CallsLastMinute, "gen went through the fleet-wide limiter")

	err = run(ctx, append(base, "--scene", "bad scene"), &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "scene")
	err = run(ctx, append(base, "--interface", "a", "--path", "pages/x?id=1", "-o", out), &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err, "A is refused without an --ac-budget")
	require.Zero(t, fake.Stats().Endpoints["/wxa/getwxacode"], "nothing was sent")
}

func TestProgressLine(t *testing.T) {
	s := jobs.Summary{Read: 500, Enqueued: 490, Duplicate: 5, Rejected: 5}
	line := progressLine(s, 10*time.Second, 250, 1000)
	require.Contains(t, line, "read 500  enqueued 490  duplicate 5  rejected 5  50 rows/s")
	require.Contains(t, line, "ETA 30s", "a quarter read in 10 s leaves 30 s")
	require.Contains(t, line, "[#######")
	require.NotContains(t, progressLine(s, time.Second, 10, 0), "ETA", "no ETA for stdin")
}

func TestUsageHidesSecrets(t *testing.T) {
	t.Setenv("WXACODE_SECRET", "topsecret-XYZ")
	t.Setenv("WXACODE_REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
	var errb bytes.Buffer
	err := run(context.Background(), []string{"worker", "--no-such-flag"}, &bytes.Buffer{}, &errb)
	require.Error(t, err)
	require.Contains(t, errb.String(), "-secret")
	require.NotContains(t, errb.String(), "topsecret-XYZ")
	require.NotContains(t, errb.String(), "hunter2")
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	ctx := context.Background()
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"healthcheck", ok.URL}, &out, io.Discard))
	require.ErrorContains(t, run(ctx, []string{"healthcheck", down.URL}, &out, io.Discard), "503")
	require.Error(t, run(ctx, []string{"healthcheck", "http://127.0.0.1:1/healthz"}, &out, io.Discard))
	require.Error(t, run(ctx, []string{"healthcheck"}, &out, io.Discard))
}
