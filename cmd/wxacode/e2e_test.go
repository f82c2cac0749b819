package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

const (
	e2eApp    = "wxe2e0000000000001"
	e2eSecret = "e2e-secret-0123456789"
)

// TestEndToEnd runs 2,000 scenes through `wxacode enqueue` and two worker
// processes against a real redis-server, a faulty fake WeChat and gofakes3,
// then checks that every scene is stored exactly once as an image of its
// own scene, or recorded as a permanent failure with its errcode.
func TestEndToEnd(t *testing.T) {
	const scenes, badPages = 2000, 40
	// The deadline leaves room for a loaded machine: a 45009 storm costs a
	// cooldown to the next minute boundary, and decoding 1,960 codes under
	// -race takes a while.
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	w, s3srv := smallWorld(t, wechattest.Options{
		LatencyMedian: 10 * time.Millisecond, LatencyP99: 150 * time.Millisecond,
		PSystemError: 0.02, PBadGateway: 0.02,
	})
	w.set("WXACODE_LOG_FORMAT", "json").set("WXACODE_LOG_LEVEL", "debug")
	input := writeE2EInput(t, w.dir, scenes, badPages)
	require.Contains(t, w.ok("enqueue", "--app", e2eApp, input), fmt.Sprintf("enqueued %d", scenes))

	// Two workers start, are stopped midway by SIGTERM (jobs in flight
	// finish or go back to the queue), and two new ones finish the run.
	ws := startE2EWorkers(w, 2)
	time.Sleep(8 * time.Second)
	stopAll(ws)
	midway := ledgerTotals(t, ctx, w.rs)
	require.Positive(t, midway["stored"])
	ws2 := startE2EWorkers(w, 2)
	// A 45009 storm: WeChat refuses every call for two seconds.
	fake := w.fake
	time.AfterFunc(3*time.Second, func() { fake.Update(func(o *wechattest.Options) { o.RateLimit = 1 }) })
	time.AfterFunc(5*time.Second, func() { fake.Update(func(o *wechattest.Options) { o.RateLimit = 5000 }) })
	time.AfterFunc(6*time.Second, func() { fake.RevokeTokens(e2eApp) })
	waitAllDone(t, ctx, w.rs, scenes)
	stopAll(ws2)

	t0 := time.Now()
	checkE2EOutcomes(t, ctx, w.rs, s3srv, scenes, badPages)
	t.Logf("checked in %s", time.Since(t0))
	st := fake.Stats()
	tot := ledgerTotals(t, ctx, w.rs)
	t.Logf("WeChat calls %d for %d stored codes: %.3f calls per stored code; errcodes %v; token fetches %v",
		st.Calls[e2eApp], tot["stored"], float64(st.Calls[e2eApp])/float64(tot["stored"]), st.Errcodes, st.TokenFetches)
	require.Positive(t, st.Errcodes[45009], "the 45009 burst happened")
	require.Positive(t, st.Errcodes[40001], "the revoked token was refused")
	require.Less(t, float64(st.Calls[e2eApp])/float64(tot["stored"]), 1.25)
	// The complete log output (JSON, debug level, every worker) holds neither
	// the app secret nor any access token the fake issued, and is JSON
	// throughout: go-redis and asynq log through the same slog handler.
	var logs strings.Builder
	for _, p := range append(ws, ws2...) {
		for _, l := range p.lines() {
			require.True(t, json.Valid([]byte(l)), "a log line of another format: %s", l)
			logs.WriteString(l + "\n")
		}
	}
	require.NotContains(t, logs.String(), e2eSecret)
	require.NotContains(t, logs.String(), wechattest.TokenPrefix)
	require.Contains(t, logs.String(), `"errcode":41030`, "WeChat errors are logged with their errcode")
	require.Contains(t, logs.String(), `"rid":"`, "and their rid")
}

// smallWorld starts a private redis-server, a fake WeChat (options o)
// publishing pages/coupon/index for e2eApp and gofakes3 with bucket
// "codes", and points the world's environment at them.
func smallWorld(t *testing.T, o wechattest.Options) (*world, *storagetest.Server) {
	t.Helper()
	o.Pages = []string{"pages/coupon/index"}
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, o)
	s3srv := storagetest.StartGoFakeS3(t, false)
	s3srv.CreateBucket(t, "codes")
	for k, v := range map[string]string{
		"WXACODE_STORAGE_URL": "s3://codes/e2e", "WXACODE_S3_PATH_STYLE": "true",
		"AWS_ACCESS_KEY_ID": s3srv.AccessKey, "AWS_SECRET_ACCESS_KEY": s3srv.SecretKey, "AWS_REGION": s3srv.Region,
		"AWS_ENDPOINT_URL_S3": s3srv.Endpoint, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(w.dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(w.dir, "none"),
	} {
		w.set(k, v)
	}
	return w, s3srv
}

// writeE2EInput writes a CSV of scenes into dir; every 50th row asks for a
// page the fake does not publish (41030).
func writeE2EInput(t *testing.T, dir string, n, bad int) string {
	var b strings.Builder
	b.WriteString("scene,page\n")
	every := n / bad
	for i := range n {
		page := "pages/coupon/index"
		if i%every == 0 {
			page = "pages/missing/index"
		}
		fmt.Fprintf(&b, "c=%d&u=%d,%s\n", i, i*7, page)
	}
	p := filepath.Join(dir, "scenes.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	return p
}

// startE2EWorkers starts n worker processes (own Redis pool, token
// source and limiter each) with short backoffs, and waits until each has
// started.
func startE2EWorkers(w *world, n int) []*proc {
	var ps []*proc
	for range n {
		p := w.start("worker", "--concurrency", "20", "--backoff-base", "50ms", "--backoff-max", "500ms", "--max-hold", "1s", "--check-quota=false")
		p.waitFor(`worker started`, 30*time.Second)
		ps = append(ps, p)
	}
	return ps
}

// stopAll stops the processes with SIGTERM, all at once.
func stopAll(ps []*proc) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(time.Minute) })
	}
	wg.Wait()
}

func ledgerTotals(t *testing.T, ctx context.Context, rs *redistest.Server) jobs.Totals {
	tot, err := jobs.NewLedger(rs.Client(t), "").Totals(ctx, e2eApp)
	require.NoError(t, err)
	return tot
}

func waitAllDone(t *testing.T, ctx context.Context, rs *redistest.Server, n int64) {
	start := time.Now()
	last := start
	for ctx.Err() == nil {
		tot := ledgerTotals(t, ctx, rs)
		if time.Since(last) > 10*time.Second {
			t.Logf("after %s: %v", time.Since(start).Round(time.Second), tot)
			last = time.Now()
		}
		if tot["stored"]+tot["skipped"]+tot["failed"] >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	info, _ := asynq.NewInspectorFromRedisClient(rs.Client(t)).GetQueueInfo(jobs.LaneBulk)
	t.Fatalf("jobs did not finish: %v; queue %+v", ledgerTotals(t, context.Background(), rs), info)
}

func checkE2EOutcomes(t *testing.T, ctx context.Context, rs *redistest.Server, s3srv *storagetest.Server, n, bad int) {
	rdb := rs.Client(t)
	l := jobs.NewLedger(rdb, "")
	store, err := storage.Open(ctx, "s3://codes/e2e", s3srv.Options())
	require.NoError(t, err)
	stored, failed := map[string]jobs.Outcome{}, 0
	require.NoError(t, l.Scan(ctx, e2eApp, func(o jobs.Outcome) error {
		switch o.Status {
		case jobs.StatusFailed:
			failed++
			require.Equal(t, 41030, o.Code, "only unpublished pages fail: %+v", o)
			require.Equal(t, "pages/missing/index", o.Page)
			require.NotEmpty(t, o.RID)
		case jobs.StatusStored:
			require.NotContains(t, stored, o.Key, "key stored twice")
			stored[o.Key] = o
		default:
			t.Fatalf("unexpected outcome %+v", o)
		}
		return nil
	}))
	// Every stored object decodes to its own code; read and decoded on
	// every CPU (QR decoding is the slow part).
	next := make(chan jobs.Outcome)
	var wg sync.WaitGroup
	for range runtime.NumCPU() + 2 {
		wg.Go(func() {
			for o := range next {
				data, _, err := store.Get(ctx, o.Key)
				if !assert.NoError(t, err, o.Key) {
					continue
				}
				c, err := wechattest.DecodeImage(data)
				assert.NoError(t, err, o.Key)
				assert.Equal(t, wechattest.Content{AppID: e2eApp, Page: o.Page, Scene: o.Scene}, c)
			}
		})
	}
	for _, o := range stored {
		next <- o
	}
	close(next)
	wg.Wait()
	require.Equal(t, bad, failed)
	require.Equal(t, n-bad, len(stored))
	require.Equal(t, n-bad, countObjects(t, ctx, store), "every stored scene exactly once, nothing else")
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(jobs.LaneBulk)
	require.NoError(t, err)
	require.Zero(t, info.Pending+info.Active+info.Retry+info.Scheduled, "nothing left in flight: %+v", info)
	require.Equal(t, bad, info.Archived, "only the permanent failures are archived, none for 45009")
}

func countObjects(t *testing.T, ctx context.Context, st storage.Store) int {
	s3st, ok := st.(*storage.S3Store)
	require.True(t, ok)
	n := 0
	p := s3.NewListObjectsV2Paginator(s3st.Client(), &s3.ListObjectsV2Input{Bucket: aws.String("codes")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		n += len(page.Contents)
	}
	return n
}
