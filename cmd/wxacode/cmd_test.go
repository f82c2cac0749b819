package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/demo"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func TestEnqueueRejectsAndStrict(t *testing.T) {
	w := newWorld(t, "WXACODE_APPID=wx1").withRedis()
	in := filepath.Join(w.dir, "rows.csv")
	require.NoError(t, os.WriteFile(in, []byte("scene,page,width\nok1,pages/a,\nbad scene,pages/a,\nok2,/pages/a,\nok3,pages/a,9999\nok1,pages/a,\nok4,,300\n"), 0o600))

	// --strict: nothing is enqueued when any row is invalid (the flag may
	// come after the file).
	r := w.run("enqueue", "--app", "wx1", "--quiet", in, "--strict")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "nothing enqueued")
	info, err := asynq.NewInspectorFromRedisClient(w.rs.Client(t)).GetQueueInfo(jobs.LaneBulk)
	if err == nil {
		require.Zero(t, info.Size)
	}

	r = w.run("enqueue", "--app", "wx1", "--quiet", "--rejects", "rejects.jsonl", in)
	require.Equal(t, 2, r.code, "rejected rows give exit status 2: %s", r)
	require.Contains(t, r.stdout, "read 7 lines: enqueued 2, duplicate 1, rejected 3, empty 0, header 1 in")
	for _, want := range []string{"line 3: scene", "line 4: page", "line 5: width"} {
		require.Contains(t, r.stderr, want)
	}
	f, err := os.Open(filepath.Join(w.dir, "rejects.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row struct{ Line int }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		lines = append(lines, row.Line)
	}
	require.ElementsMatch(t, []int{3, 4, 5}, lines)
	tot, err := jobs.NewLedger(w.rs.Client(t), "").Totals(t.Context(), "wx1")
	require.NoError(t, err)
	require.EqualValues(t, 2, tot["enqueued"], "the ledger counts what was enqueued")

	// Standard input, strict: copied aside and read twice.
	r = w.runIn(strings.NewReader("s1\ns2\n"), "enqueue", "--app", "wx1", "--quiet", "--page", "pages/a", "--strict", "-")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stdout, "read 2 lines: enqueued 2, duplicate 0, rejected 0, empty 0 in")
}

func TestEnqueueUnknownAppRefused(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "apps.yaml"), []byte("apps:\n  - appid: wxA\n    secret: s\n"), 0o600))
	r := w.run("enqueue", "--apps-file", "apps.yaml", "--app", "wxB", "-")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "wxacode enqueue: --app: app wxB is not configured: WXACODE_APPS_FILE apps.yaml lists wxA")
	require.Contains(t, r.stderr, "see 'wxacode enqueue --help'")

	// The one-app setup lists its appid only; no setup lists nothing.
	// Neither needs Redis to refuse.
	r = w.run("enqueue", "--app", "hello", "-")
	t.Logf("$ wxacode enqueue --app hello -\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "app hello is not configured: no WXACODE_APPID or WXACODE_APPS_FILE is set")
	w.set("WXACODE_APPID", "wxA")
	r = w.run("enqueue", "--app", "hello", "-")
	t.Logf("$ WXACODE_APPID=wxA wxacode enqueue --app hello -\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "app hello is not configured: WXACODE_APPID is wxA")
}

func TestDemoSmall(t *testing.T) {
	w := newWorld(t)
	out := w.ok("demo", "--scenes", "60", "--rate-per-minute", "3000")
	require.Contains(t, out, "enqueued 60 jobs")
	require.Contains(t, out, "dashboard while the demo runs: http://127.0.0.1:")
	require.Regexp(t, `wxd000000000000001\s+60\s+0\s+0\s+60\s+0\s+0`, out, "60 enqueued, no campaign rows, 60 stored, none skipped or failed")
	entries, err := os.ReadDir(filepath.Join(w.dir, "wxacode-demo", demo.App, "pages~2Fcoupon~2Findex"))
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jpg") {
			n++
		}
	}
	require.Equal(t, 60, n)
}

func TestUnknownCommandSuggests(t *testing.T) {
	w := newWorld(t)
	for args, want := range map[string]string{
		"enqeue":          `wxacode: unknown command "enqeue" (did you mean enqueue?)`,
		"campaign rn x":   `wxacode campaign: unknown subcommand "rn" (did you mean run?)`,
		"ratelimit stat":  `wxacode ratelimit: unknown subcommand "stat" (did you mean set or state?)`,
		"campaign":        "wxacode campaign: give a subcommand: cancel, list, pause, resume, retry-failed, run, validate",
		"worker --bogus":  "wxacode worker: unknown flag: --bogus",
		"rid":             "wxacode rid: want one RID",
		"status a b":      "wxacode status: want at most one RUN",
		"healthcheck":     "wxacode healthcheck: want one URL",
		"scenes lookup":   "wxacode scenes lookup: want one SCENE",
		"campaign run":    "wxacode campaign run: want one campaign NAME",
		"bench nope":      `wxacode bench: unknown subcommand "nope"`,
		"version --bogus": "wxacode version: unknown flag: --bogus",
	} {
		r := w.run(strings.Fields(args)...)
		require.Equal(t, 2, r.code, "%s: %s", args, r)
		require.Contains(t, r.stderr, want, args)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		require.Len(t, lines, 2, "%s: the error and a one-line hint, not the usage: %s", args, r.stderr)
		require.Regexp(t, `^see 'wxacode( [a-z-]+)* --help'$`, lines[1])
	}
}

func TestFakeWeChatCommand(t *testing.T) {
	w := newWorld(t)
	p := w.start("fake-wechat", "--listen", "127.0.0.1:0", "--app", "wxA:sA", "--rate-limit", "7")
	url := p.waitFor(`fake WeChat API on (http://127\.0\.0\.1:\d+)`, 10*time.Second)
	require.Contains(t, p.out.String(), "[wxA]")
	resp, err := http.Get(url + "/_fake/stats")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	p.stop(10 * time.Second)
}

func TestGenOneCode(t *testing.T) {
	w := newWorld(t).withRedis().withFake("wxG", "sG", wechattest.Options{Pages: []string{"pages/x"}})
	out := w.ok("gen", "--scene", "a&b=1", "--page", "pages/x", "-o", "code.jpg")
	require.Empty(t, out)
	data, err := os.ReadFile(filepath.Join(w.dir, "code.jpg"))
	require.NoError(t, err)
	c, err := wechattest.DecodeImage(data)
	require.NoError(t, err)
	require.Equal(t, wechattest.Content{AppID: "wxG", Page: "pages/x", Scene: "a&b=1"}, c)
	st, err := ratelimit.New(w.rs.Client(t), ratelimit.Config{}).State(t.Context(), "wxG")
	require.NoError(t, err)
	require.Positive(t, st.CallsLastMinute, "gen went through the fleet-wide limiter")

	// gen goes through the worker's turn: a rate-limit answer cools the
	// whole fleet down.
	w.fake.BurstRateLimit("wxG", 1)
	r := w.run("gen", "--scene", "again", "--page", "pages/x", "-o", "again.jpg")
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "45009")
	st, err = ratelimit.New(w.rs.Client(t), ratelimit.Config{}).State(t.Context(), "wxG")
	require.NoError(t, err)
	require.Positive(t, st.RateLimitedLastHour, "the 45009 was reported to the limiter")

	r = w.run("gen", "--scene", "bad scene")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, `wxacode gen: --scene "bad scene"`)
	require.NotContains(t, r.stderr, "line 0")
	r = w.run("gen", "--page", "pages/x")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "--scene is required")
	r = w.run("gen", "--interface", "a", "--path", "pages/x?id=1", "-o", "a.jpg")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "--interface a needs --ac-budget", "not 'spent': it was never granted")
	require.Zero(t, w.fake.Stats().Endpoints["/wxa/getwxacode"], "nothing was sent")
}

// --ac-budget is the app's A+C budget for life: each gen adds to the count
// in Redis instead of starting again, and quota shows it.
func TestGenACBudgetIsTheAppsForLife(t *testing.T) {
	w := newWorld(t).withRedis().withFake("wxG", "sG", wechattest.Options{})
	w.ok("gen", "--interface", "a", "--path", "pages/x?id=1", "--ac-budget", "2", "-o", "a1.jpg")
	w.ok("gen", "--interface", "c", "--path", "pages/x?id=2", "--ac-budget", "2", "-o", "c1.jpg")
	r := w.run("gen", "--interface", "a", "--path", "pages/x?id=3", "--ac-budget", "2", "-o", "a2.jpg")
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "2 already sent for this app")
	st := w.fake.Stats()
	require.EqualValues(t, 2, st.Endpoints["/wxa/getwxacode"]+st.Endpoints["/cgi-bin/wxaapp/createwxaqrcode"], "the third was never sent")
	require.Contains(t, w.ok("quota", "--app", "wxG"), "interface A+C, ever: 2 codes sent by wxacode")
	w.ok("gen", "--interface", "a", "--path", "pages/x?id=3", "--ac-budget", "3", "-o", "a2.jpg")
}

// The one-app setup's errors speak of its flags and variables, not of
// apps.yaml fields.
func TestOneAppSecretMissing(t *testing.T) {
	w := newWorld(t, "WXACODE_APPID=wx1")
	r := w.run("gen", "--scene", "s", "--no-limiter")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "no secret for app wx1: set WXACODE_SECRET_FILE")
	require.NotContains(t, r.stderr, "secret_file")
	r = w.run("worker")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "no secret for app wx1")
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	w := newWorld(t)
	require.Equal(t, "ok\n", w.ok("healthcheck", ok.URL))
	r := w.run("healthcheck", down.URL)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "503")
	require.Equal(t, 1, w.run("healthcheck", "http://127.0.0.1:1/healthz").code)
	require.Equal(t, 2, w.run("healthcheck").code)
}

func TestRateLimitCommands(t *testing.T) {
	w := newWorld(t).withRedis()
	r := w.run("ratelimit", "set", "--app", "wxR", "--rate", "0")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stdout, "cap of wxR removed", "0 is no cap of 0/min")
	require.Contains(t, w.ok("ratelimit", "set", "--rate", "60", "--app", "wxR"), "set to 60/min")
	require.Equal(t, "ok\n", w.ok("ratelimit", "take", "--app", "wxR"))
	var st ratelimit.State
	require.NoError(t, json.Unmarshal([]byte(w.ok("ratelimit", "state", "--app", "wxR")), &st))
	require.Equal(t, 60, st.CapPerMinute)
	for range 10 {
		if r = w.run("ratelimit", "take", "--app", "wxR"); r.code != 0 {
			break
		}
	}
	require.Equal(t, 75, r.code, "a busy budget exits 75: %s", r)
	require.Regexp(t, `^wait \d+\.\d+\n$`, r.stdout)
	r = w.run("ratelimit", "state")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--app is required")
	r = w.run("ratelimit", "set", "--app", "wxR", "--rate", "6000")
	require.Equal(t, 1, r.code, r)
	require.Empty(t, r.stdout)
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		require.Regexp(t, `^(wxacode ratelimit set: |see ')`, l, "no other log format: %s", r.stderr)
	}
}
