package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestCampaignRun runs a 50,000-row campaign in which 45,000 rows ask for an
// unpublished page (41030) and 50 have invalid scenes, through a window of
// 2,000, stopping the worker (and its feeder) midway and starting another:
// every row ends exactly once, the manifest lists every row and the
// failures file every failure.
func TestCampaignRun(t *testing.T) {
	const rows, bad, invalid, window = 50000, 45000, 50, 2000
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var csv strings.Builder
	csv.WriteString("scene,page\n")
	for i := range rows {
		switch {
		case i%10 != 0:
			fmt.Fprintf(&csv, "r%d,pages/missing\n", i)
		case i%1000 == 0:
			fmt.Fprintf(&csv, "\"bad %d\",pages/ok\n", i)
		default:
			fmt.Fprintf(&csv, "r%d,pages/ok\n", i)
		}
	}
	rig := newCampaignRig(t, "wxC", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 200000,
		fmt.Sprintf("campaigns:\n  - name: promo\n    app: wxC\n    source:\n      file: DIR/rows.csv\n    window: %d\n", window))
	rs, dir := rig.rs, rig.dir
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(csv.String()), 0o600))
	id := []string{"", rig.start(t, ctx, "promo")}
	st := runs.NewStore(rs.Client(t), "")

	stop := rig.startWorker(t)
	maxInFlight := waitRun(t, ctx, st, id[1], func(c runs.Counts) bool { return c.Fed >= 20000 })
	t0 := time.Now()
	stop() // the feeder and the worker stop midway (SIGTERM)
	t.Logf("stopped in %s", time.Since(t0))
	stop = rig.startWorker(t)
	m2 := waitRun(t, ctx, st, id[1], func(c runs.Counts) bool { return false })
	t.Logf("finished in %s", time.Since(t0))
	stop()

	r, c, err := st.Get(ctx, id[1])
	require.NoError(t, err)
	require.Equal(t, runs.StateDone, r.State)
	require.LessOrEqual(t, max(maxInFlight, m2), int64(window), "never more than the window in flight")
	require.Equal(t, int64(rows), c.Stored+c.Failed+c.Skipped)
	require.Equal(t, int64(bad+invalid), c.Failed)
	done, failed := ledgerRows(t, ctx, st, dir, id[1], rows)
	require.Equal(t, int64(rows-bad-invalid), done)
	require.Equal(t, int64(bad+invalid), failed)
	requireNoOpenChunks(t, ctx, rs.Client(t), id[1])

	manifest := readJSONL(t, filepath.Join(dir, "codes", runs.ManifestKey(id[1], 0)))
	require.Len(t, manifest, rows)
	for i, m := range manifest {
		require.EqualValues(t, i, m["row"])
		if m["status"] == "stored" {
			data, err := os.ReadFile(filepath.Join(dir, "codes", m["key"].(string)))
			require.NoError(t, err, "manifest row %d points at its object", i)
			sum := sha256.Sum256(data)
			require.Equal(t, hex.EncodeToString(sum[:]), m["sha256"], "row %d", i)
		} else {
			require.Equal(t, "failed", m["status"], "row %d", i)
		}
	}
	failures := readJSONL(t, filepath.Join(dir, "codes", "_runs", id[1], "failures.jsonl"))
	require.Len(t, failures, bad+invalid)
	codes := map[float64]int{}
	for _, f := range failures {
		code, _ := f["errcode"].(float64)
		codes[code]++
	}
	require.Equal(t, map[float64]int{41030: bad, 0: invalid}, codes)

	out := rig.ok("status", id[1])
	require.Contains(t, out, fmt.Sprintf("stored %d  skipped 0  failed %d", rows-bad-invalid, bad+invalid))
	require.Contains(t, out, "41030: 45000")
	require.Contains(t, out, fmt.Sprintf("rejected (input), never sent to WeChat: %d", invalid))
	require.NotContains(t, out, " 0: ", "rejected rows are not errcode 0")

	// explain: the run's failures by errcode with meaning and action, and
	// single rows (a failed one, a rejected one, a stored one), the flag
	// before or after the run.
	out = rig.ok("explain", id[1])
	require.Contains(t, out, fmt.Sprintf("errcode 41030 x %d (permanent): invalid page", bad))
	require.Contains(t, out, "action: Publish the page")
	require.Contains(t, out, fmt.Sprintf("%d rejected (input): scene: ", invalid))
	require.NotContains(t, out, "failed without a WeChat errcode", "rejected rows are input, not failures without an errcode")
	out = rig.ok("explain", "--row", "1", id[1])
	require.Contains(t, out, "row 1: failed")
	require.Contains(t, out, `scene "r1" of app wxC, page "pages/missing"`)
	require.Contains(t, out, "errcode 41030")
	require.Contains(t, out, "object: not stored")
	out = rig.ok("explain", id[1], "--row", "1000")
	require.Contains(t, out, "row 1000: failed")
	require.Contains(t, out, "failure: ")
	out = rig.ok("explain", id[1], "--row=10")
	require.Contains(t, out, "row 10: stored")
	require.Contains(t, out, "object: stored")
	require.Contains(t, out, "holds this code")
}

// waitRun polls the run until until(counts) or the run is done, and
// returns the most rows it saw in flight.
func waitRun(t *testing.T, ctx context.Context, st *runs.Store, id string, until func(runs.Counts) bool) int64 {
	var most int64
	for ctx.Err() == nil {
		r, c, err := st.Get(ctx, id)
		require.NoError(t, err)
		most = max(most, c.InFlight())
		if until(c) || r.State == runs.StateDone {
			return most
		}
		time.Sleep(20 * time.Millisecond)
	}
	r, c, err := st.Get(context.Background(), id)
	t.Fatalf("run %s did not get there: %+v %+v %v", id, r, c, err)
	return 0
}

func readJSONL(t *testing.T, path string) []map[string]any {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

// TestCampaignRetryFailed fails a third of a run on a page that is not
// published yet, publishes it, and retries: the run ends with every row
// stored and a new manifest, and no row counted twice.
func TestCampaignRetryFailed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var csv strings.Builder
	csv.WriteString("scene,page\n")
	for i := range 300 {
		page := "pages/ok"
		if i%3 == 0 {
			page = "pages/later"
		}
		fmt.Fprintf(&csv, "s%d,%s\n", i, page)
	}
	hooks := make(chan map[string]any, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		hooks <- m
	}))
	defer hook.Close()
	rig := newCampaignRig(t, "wxR", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 200000,
		"campaigns:\n  - name: later\n    app: wxR\n    webhook: "+hook.URL+"\n    source:\n      file: DIR/rows.csv\n")
	rs, dir, fake := rig.rs, rig.dir, rig.fake
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(csv.String()), 0o600))
	stop := rig.startWorker(t)
	defer stop()
	id := rig.start(t, ctx, "later")
	st := runs.NewStore(rs.Client(t), "")
	waitRun(t, ctx, st, id, func(runs.Counts) bool { return false })
	_, c, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, runs.Counts{Stored: 200, Failed: 100, Fed: 300}, c)
	select {
	case m := <-hooks:
		require.Equal(t, id, m["run"])
		require.EqualValues(t, 200, m["stored"])
		require.EqualValues(t, 100, m["failed"])
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook call at the end of the run")
	}

	fake.Update(func(o *wechattest.Options) { o.Pages = append(o.Pages, "pages/later") })
	require.Contains(t, rig.ok("campaign", "retry-failed", id), "100 failed rows enqueued again")
	time.Sleep(100 * time.Millisecond)
	waitRun(t, ctx, st, id, func(runs.Counts) bool { return false })
	r, c, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, runs.StateDone, r.State)
	require.Equal(t, runs.Counts{Stored: 300, Fed: 300}, c)
	manifest := readJSONL(t, filepath.Join(dir, "codes", runs.ManifestKey(id, 0)))
	require.Len(t, manifest, 300)
	for _, m := range manifest {
		require.Equal(t, "stored", m["status"])
	}
	require.Empty(t, readJSONL(t, filepath.Join(dir, "codes", "_runs", id, "failures.jsonl")))
}

// TestCampaignCancel cancels a slow run midway: its feeder stops, its
// queued jobs are revoked (deleted, not failed), and nothing is recorded
// as failed.
func TestCampaignCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxK", wechattest.Options{RateLimit: -1, LatencyMedian: 20 * time.Millisecond}, 3000,
		"campaigns:\n  - name: big\n    app: wxK\n    window: 300\n    source:\n      generator: {pattern: \"k{n}\", from: 1, to: 100000}\n")
	rs := rig.rs
	stop := rig.startWorker(t)
	defer stop()
	id := rig.start(t, ctx, "big")
	st := runs.NewStore(rs.Client(t), "")
	waitRun(t, ctx, st, id, func(c runs.Counts) bool { return c.Stored >= 20 })
	require.Contains(t, rig.ok("campaign", "pause", id), "paused")
	time.Sleep(time.Second) // the feeder sees the pause
	_, c1, err := st.Get(ctx, id)
	require.NoError(t, err)
	time.Sleep(2 * time.Second)
	_, c2, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, c1.Fed, c2.Fed, "a paused run is not fed")
	// Pause pauses: within a few seconds no job of the run reaches WeChat,
	// although hundreds are queued (window 300).
	time.Sleep(2 * time.Second) // jobs in flight at the pause finish
	calls := rig.fake.Stats().Calls["wxK"]
	time.Sleep(3 * time.Second)
	require.Equal(t, calls, rig.fake.Stats().Calls["wxK"], "a paused run's queued jobs are not sent to WeChat")
	_, c3, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Zero(t, c3.Failed, "a pause fails nothing")
	rig.ok("campaign", "resume", id)
	waitRun(t, ctx, st, id, func(c runs.Counts) bool { return c.Fed > c2.Fed })
	rig.ok("campaign", "cancel", id)
	insp := asynq.NewInspectorFromRedisClient(rs.Client(t))
	require.Eventually(t, func() bool {
		q, err := insp.GetQueueInfo(jobs.LaneBulk)
		return err == nil && q.Pending+q.Active+q.Retry+q.Scheduled == 0
	}, 30*time.Second, 100*time.Millisecond, "the run's queued jobs are revoked")
	r, c, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, runs.StateCancelled, r.State)
	require.Zero(t, c.Failed, "cancelled jobs are not failures")
	require.Zero(t, c.InFlight(), "a cancelled run has nothing in flight")
	require.Equal(t, c.Fed, c.Finished()+c.Cancelled, "the counts add up")
	out := rig.ok("status", id)
	require.Contains(t, out, "in flight 0", out)
	require.Contains(t, out, fmt.Sprintf("cancelled %d  never fed %d", c.Cancelled, r.Total-c.Fed), out)
	require.NotContains(t, out, "left", "no ETA for a cancelled run")
	require.LessOrEqual(t, c.Fed, int64(300+int(c.Finished())), "the feeder stopped at its window")
	// The app's row adds up too: the cancelled rows are not open.
	r, c, err = st.Get(ctx, id)
	require.NoError(t, err)
	out = rig.ok("status")
	require.Regexp(t, fmt.Sprintf(`(?m)^wxK\s+0\s+%d\s+0\s+%d\s+%d\s+0\s+%d\s+0$`, c.Fed, c.Stored, c.Skipped, c.Cancelled), out)
	q, err := insp.GetQueueInfo(jobs.LaneBulk)
	require.NoError(t, err)
	require.Zero(t, q.Archived)
}

// TestCampaignRateShare runs a campaign with rate_share 0.1 of an app
// capped at 3000/min: it gets 300/min, leaving the rest to on-demand codes.
func TestCampaignRateShare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxS", wechattest.Options{RateLimit: -1}, 3000,
		"campaigns:\n  - name: slow\n    app: wxS\n    rate_share: 0.1\n    source:\n      generator: {pattern: \"s{n}\", from: 1, to: 1000}\n")
	rs := rig.rs
	stop := rig.startWorker(t)
	defer stop()
	id := rig.start(t, ctx, "slow")
	time.Sleep(4 * time.Second)
	_, c, err := runs.NewStore(rs.Client(t), "").Get(ctx, id)
	require.NoError(t, err)
	t.Logf("stored %d in about 4 s at a share of 300/min", c.Stored)
	require.Positive(t, c.Stored)
	require.LessOrEqual(t, c.Stored, int64(4*5+5+5), "at most 5/s plus the burst (and a second of slack)")
}

// TestCampaignSurvivesKill9 kills the worker process that runs a campaign's
// feeder with SIGKILL midway, after it sealed the first chunks of the run's
// ledger into the store, and starts another: asynq recovers the feeder and
// the jobs after their leases expire, every row ends exactly once, and the
// manifest lists each with the digest of its object.
func TestCampaignSurvivesKill9(t *testing.T) {
	const rows = 9000 // three ledger chunks of 4096 rows
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxX", wechattest.Options{RateLimit: -1, LatencyMedian: 5 * time.Millisecond}, 100000,
		fmt.Sprintf("campaigns:\n  - name: k\n    app: wxX\n    window: 300\n    source:\n      generator: {pattern: \"x{n}\", from: 1, to: %d}\n", rows))
	rs, dir := rig.rs, rig.dir
	id := rig.start(t, ctx, "k")
	st := runs.NewStore(rs.Client(t), "")
	w1 := rig.world.start("worker", "--concurrency", "20")
	waitRun(t, ctx, st, id, func(c runs.Counts) bool { return c.Finished() >= 4200 })
	sealed := func() bool {
		n, _ := rs.Client(t).BitCount(ctx, "wxacode:run:{"+id+"}:sealed", nil).Result()
		return n >= 1
	}
	require.Eventually(t, sealed, time.Minute, 50*time.Millisecond, "the first chunk is sealed before the kill")
	require.NoError(t, w1.cmd.Process.Kill())
	<-w1.done
	_, before, err := st.Get(ctx, id)
	require.NoError(t, err)
	w2 := rig.world.start("worker", "--concurrency", "20")
	defer w2.stop(time.Minute)
	waitRun(t, ctx, st, id, func(runs.Counts) bool { return false })
	r, c, err := st.Get(ctx, id)
	require.NoError(t, err)
	t.Logf("killed at %d finished; done with %+v", before.Finished(), c)
	require.Equal(t, runs.StateDone, r.State)
	require.Equal(t, int64(rows), c.Stored+c.Skipped)
	require.Zero(t, c.Failed)
	done, failed := ledgerRows(t, ctx, st, dir, id, rows)
	require.Equal(t, [2]int64{rows, 0}, [2]int64{done, failed}, "every row exactly once")
	requireNoOpenChunks(t, ctx, rs.Client(t), id)
	manifest := readJSONL(t, filepath.Join(dir, "codes", runs.ManifestKey(id, 0)))
	require.Len(t, manifest, rows)
	for i, m := range manifest {
		require.EqualValues(t, i, m["row"])
		data, err := os.ReadFile(filepath.Join(dir, "codes", m["key"].(string)))
		require.NoError(t, err, "manifest row %d points at its object", i)
		if m["status"] == "skipped" && m["sha256"] == nil {
			continue // stored before the kill, its sidecar (with the digest) lost with it
		}
		sum := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(sum[:]), m["sha256"], "row %d", i)
	}
}

// ledgerRows reads a run's ledger, sealed chunks from the store in dir,
// and counts its rows done and failed.
func ledgerRows(t *testing.T, ctx context.Context, st *runs.Store, dir, id string, rows int64) (done, failed int64) {
	t.Helper()
	ledger := st.WithObjects(func(_ context.Context, key string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, "codes", key))
	})
	for from := int64(0); from < rows; from += runs.DefaultChunkRows {
		info, err := ledger.Rows(ctx, id, from, int(min(runs.DefaultChunkRows, rows-from)))
		require.NoError(t, err)
		for _, ri := range info {
			switch {
			case ri.Done:
				done++
			case ri.Failed:
				failed++
			}
		}
	}
	return done, failed
}

// requireNoOpenChunks checks that a finished run's ledger chunks have all
// left Redis for the store.
func requireNoOpenChunks(t *testing.T, ctx context.Context, rdb *redis.Client, id string) {
	t.Helper()
	keys, err := rdb.Keys(ctx, "wxacode:run:{"+id+"}:c:*").Result()
	require.NoError(t, err)
	require.Empty(t, keys, "chunks left in Redis")
}

// campaignRig is a world with a private Redis, a fake WeChat knowing one
// app, and a directory with the store and the campaigns file, all set in
// the world's environment.
type campaignRig struct {
	*world
	dir string
}

// newCampaignRig starts the rig for app (secret "s"+app) with the fake's
// options o and the app capped at rate per minute. campaigns is the YAML
// of the campaigns file; "DIR" in it stands for the rig's directory.
func newCampaignRig(t *testing.T, app string, o wechattest.Options, rate int, campaigns string) *campaignRig {
	t.Helper()
	w := newWorld(t).withRedis().withFake(app, "s"+app, o)
	r := &campaignRig{world: w, dir: w.dir}
	file := filepath.Join(r.dir, "campaigns.yaml")
	require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(campaigns, "DIR", r.dir)), 0o600))
	w.set("WXACODE_STORAGE_URL", "file://"+filepath.Join(r.dir, "codes")).set("WXACODE_RATE_PER_MINUTE", strconv.Itoa(rate)).
		set("WXACODE_FORCE_RATE", strconv.FormatBool(rate > 5000)).set("WXACODE_CAMPAIGNS_FILE", file).set("WXACODE_LOG_LEVEL", "error")
	return r
}

// start runs `wxacode campaign run NAME` and returns the run id.
func (r *campaignRig) start(t *testing.T, _ context.Context, name string) string {
	t.Helper()
	out := r.ok("campaign", "run", name)
	m := regexp.MustCompile(`run (\S+) started`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

// startWorker starts a worker process (concurrency 20, shutdown timeout
// 5 s) and returns a func that stops it with SIGTERM.
func (r *campaignRig) startWorker(t *testing.T) func() {
	t.Helper()
	p := r.world.start("worker", "--concurrency", "20", "--shutdown-timeout", "5s", "--check-quota=false", "--log-level", "info")
	p.waitFor("worker started", 30*time.Second)
	return func() { p.stop(time.Minute) }
}

// TestTwoSchedulersOneRunPerTick runs two `wxacode scheduler` processes'
// worth of schedulers on a campaign firing every second, with one worker:
// each tick starts exactly one run, however many schedulers fired it.
func TestTwoSchedulersOneRunPerTick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxT", wechattest.Options{RateLimit: -1}, 3000,
		"campaigns:\n  - name: tick\n    app: wxT\n    schedule: \"@every 1s\"\n    time_zone: UTC\n    source:\n      generator: {pattern: \"t{n}\", from: 1, to: 3}\n")
	stop := rig.startWorker(t)
	defer stop()
	// --preflight=false: the scheduler refuses a schedule of every second otherwise.
	s1, s2 := rig.world.start("scheduler", "--log-level", "error", "--preflight=false"), rig.world.start("--log-level", "error", "scheduler", "--preflight=false")
	time.Sleep(4500 * time.Millisecond)
	s1.stop(30 * time.Second)
	s2.stop(30 * time.Second)
	time.Sleep(time.Second) // fire tasks already queued are handled
	list, err := runs.NewStore(rig.rs.Client(t), "").List(ctx, 100)
	require.NoError(t, err)
	ticks := map[int64]bool{}
	for _, r := range list {
		require.False(t, ticks[r.Scheduled.Unix()], "two runs for tick %s", r.Scheduled)
		ticks[r.Scheduled.Unix()] = true
	}
	t.Logf("%d runs for %d ticks", len(list), len(ticks))
	require.GreaterOrEqual(t, len(list), 2, "the schedulers fired")
	require.LessOrEqual(t, len(list), 6, "about one run per second, not one per scheduler")
}

// TestCampaignRejectionsGroupedByReason: a run whose rows are rejected for
// five different reasons is explained as five groups, each with its own
// cause, and no rejected row reads as an errcode.
func TestCampaignRejectionsGroupedByReason(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxG", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 200000,
		"campaigns:\n  - name: mixed\n    app: wxG\n    source:\n      file: DIR/rows.csv\n")
	csv := "scene,page,width\n" +
		"ok1,pages/ok,430\n" +
		"has space,pages/ok,430\n" + // scene: character
		strings.Repeat("x", 40) + ",pages/ok,430\n" + // scene: too long
		"ok2,/pages/ok,430\n" + // page: leading slash
		"ok3,pages/ok,9999\n" + // width: out of range
		"ok4,pages/ok,wide\n" + // width: not a number
		"ok5,pages/ok,430\n"
	require.NoError(t, os.WriteFile(filepath.Join(rig.dir, "rows.csv"), []byte(csv), 0o600))
	id := rig.start(t, ctx, "mixed")
	stop := rig.startWorker(t)
	defer stop()
	st := runs.NewStore(rig.rs.Client(t), "")
	waitRun(t, ctx, st, id, func(runs.Counts) bool { return false })
	_, c, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, runs.Counts{Stored: 2, Failed: 5, Fed: 7}, c)
	out := rig.ok("explain", id)
	t.Log(out)
	groups := regexp.MustCompile(`(?m)^  1 rejected \(input\): (\S+): .* \(never sent to WeChat\)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, groups, 5, "five rejections, five groups:\n%s", out)
	fields := map[string]int{}
	for _, g := range groups {
		fields[g[1]]++
	}
	require.Equal(t, map[string]int{"scene": 2, "page": 1, "width": 2}, fields)
	out = rig.ok("status", id)
	require.Contains(t, out, "rejected (input), never sent to WeChat: 5")
	require.NotContains(t, out, "failures by errcode", "no WeChat errcode in this run")

	// The app's columns add up: 3 enqueued + 7 campaign rows = 5 stored
	// + 5 rejected, nothing open.
	require.NoError(t, os.WriteFile(filepath.Join(rig.dir, "more.txt"), []byte("e1\ne2\ne3\n"), 0o600))
	rig.ok("enqueue", "--app", "wxG", "--page", "pages/ok", "more.txt")
	led := jobs.NewLedger(rig.rs.Client(t), "")
	require.Eventually(t, func() bool { tot, _ := led.Totals(ctx, "wxG"); return tot["stored"] == 5 }, time.Minute, 50*time.Millisecond)
	out = rig.ok("status")
	require.Regexp(t, `(?m)^APP\s+ENQUEUED\s+CAMPAIGN ROWS\s+REJECTED\s+STORED\s+SKIPPED\s+FAILED\s+CANCELLED\s+OPEN$`, out)
	require.Regexp(t, `(?m)^wxG\s+3\s+7\s+5\s+5\s+0\s+0\s+0\s+0$`, out)
	require.Regexp(t, `(?m)^wxacode-bulk\s+0\s+0\s+0\s+0\s+0$`, out, "the bulk lane is empty")
	require.Contains(t, out, "CAMPAIGN ROWS: rows campaign runs fed")
}
