package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// getenv returns a variable of the world's environment.
func (w *world) getenv(k string) string {
	for _, kv := range w.env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

// enqueueThree puts three jobs in the queue, so a worker that starts has
// something to spend quota on.
func enqueueThree(t *testing.T, w *world) {
	t.Helper()
	p := filepath.Join(w.dir, "three.txt")
	require.NoError(t, os.WriteFile(p, []byte("a1\na2\na3\n"), 0o600))
	require.Contains(t, w.ok("enqueue", "--app", e2eApp, "--page", "pages/coupon/index", p), "enqueued 3")
}

// codeCalls counts every interface A, B and C request the fake received.
func codeCalls(f *fakeProc) int64 {
	st := f.Stats()
	var n int64
	for _, c := range st.Calls {
		n += c
	}
	return n
}

// A mistyped bucket stops the worker at start, in seconds, naming the
// bucket and what to do, before any WeChat call; doctor says the same in
// its table.
func TestPreflightMissingBucket(t *testing.T) {
	w, _ := smallWorld(t, wechattest.Options{})
	w.set("WXACODE_STORAGE_URL", "s3://nobucket/x")
	enqueueThree(t, w)
	start := time.Now()
	r := w.run("worker", "--check-quota=false")
	took := time.Since(start)
	t.Logf("$ WXACODE_STORAGE_URL=s3://nobucket/x wxacode worker\n%s(took %s, fake calls %d)", r, took.Round(time.Millisecond), codeCalls(w.fake))
	require.Equal(t, 2, r.code, r)
	require.Less(t, took, 20*time.Second)
	require.Contains(t, r.stderr, "store s3://nobucket/x: bucket does not exist")
	require.Contains(t, r.stderr, "create the bucket, or fix the bucket name in WXACODE_STORAGE_URL")
	require.Contains(t, r.stderr, "'wxacode doctor'")
	require.NotContains(t, r.stderr, "worker started")
	require.Zero(t, codeCalls(w.fake), "no interface B call")

	r = w.run("doctor")
	t.Logf("$ wxacode doctor\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Regexp(t, `(?m)^CHECK\s+TARGET\s+RESULT\s+ADVICE$`, r.stdout)
	require.Regexp(t, `(?m)^store\s+s3://nobucket/x\s+FAILED: bucket does not exist`, r.stdout)
	require.Regexp(t, `(?m)^redis\s+\S+\s+ok: answers PING`, r.stdout)
	require.Regexp(t, `(?m)^token\s+`+e2eApp+`\s+ok: appid and secret accepted`, r.stdout)
	require.Zero(t, codeCalls(w.fake))

	// The right bucket passes, and the probe leaves nothing behind.
	w.set("WXACODE_STORAGE_URL", "s3://codes/e2e")
	r = w.run("doctor")
	require.Equal(t, 0, r.code, r)
	require.Regexp(t, `(?m)^store\s+s3://codes/e2e\s+ok: bucket exists, writable`, r.stdout)
	require.Regexp(t, `(?m)^workers\s+`+e2eApp+`\s+ok: no live worker serves it\s+start a worker`, r.stdout)
	require.NotContains(t, r.stdout, "FAILED")
	t.Logf("$ WXACODE_STORAGE_URL=s3://codes/e2e wxacode doctor\n%s(fake calls %d)", r, codeCalls(w.fake))
}

// A storage directory the worker's user may not write stops the worker at
// start with the cause and what to do, before any WeChat call, where it
// used to spend quota and tries for minutes.
func TestPreflightReadOnlyDirectory(t *testing.T) {
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, wechattest.Options{Pages: []string{"pages/coupon/index"}})
	ro := filepath.Join(w.dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o755))
	w.set("WXACODE_STORAGE_URL", filepath.Join(ro, "codes"))
	enqueueThree(t, w)
	require.NoError(t, os.Chmod(ro, 0o555))
	w.asNobody()
	r := w.run("worker", "--check-quota=false")
	t.Logf("$ WXACODE_STORAGE_URL=%s wxacode worker  (directory mode 0555)\n%s(fake calls %d)", filepath.Join(ro, "codes"), r, codeCalls(w.fake))
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "store "+filepath.Join(ro, "codes")+": directory not writable (permission denied)")
	require.Contains(t, r.stderr, "give the user running wxacode write permission on the directory")
	require.NotContains(t, r.stderr, "storage: storage:")
	require.NotContains(t, r.stderr, "worker started")
	require.Zero(t, codeCalls(w.fake), "no interface B call")
}

// A wrong secret is found even while the token it would fetch is cached
// in Redis (so the token source alone would work for two hours): worker
// and gen stop before any interface B call, and the cached token stays
// valid for everyone else.
func TestPreflightWrongSecretWithCachedToken(t *testing.T) {
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, wechattest.Options{Pages: []string{"pages/coupon/index"}})
	w.set("WXACODE_STORAGE_URL", filepath.Join(w.dir, "codes"))
	ctx := context.Background()
	good, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: e2eApp, Secret: e2eSecret,
		Client: wechat.NewClient(wechat.Config{BaseURL: w.getenv("WXACODE_WECHAT_BASE_URL")}), Redis: w.rs.Client(t)})
	require.NoError(t, err)
	tok, err := good.Token(ctx)
	require.NoError(t, err)
	enqueueThree(t, w)

	const wrong = "wrong-secret-0123456789"
	w.set("WXACODE_SECRET", wrong)
	fetchesBefore := w.fake.Stats().TokenFetches["/cgi-bin/stable_token"]
	r := w.run("worker", "--check-quota=false")
	t.Logf("$ WXACODE_SECRET=%s wxacode worker   # a valid token is cached in Redis\n%s(fake calls %d)", wrong, r, codeCalls(w.fake))
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "token "+e2eApp+": ")
	require.Contains(t, r.stderr, "invalid app secret")
	require.Contains(t, r.stderr, "the app secret is wrong")
	require.NotContains(t, r.stderr, wrong)
	require.NotContains(t, r.stderr, e2eSecret)
	require.Zero(t, codeCalls(w.fake), "no interface B call")
	require.Equal(t, fetchesBefore+1, w.fake.Stats().TokenFetches["/cgi-bin/stable_token"], "one stable_token call")
	require.Zero(t, w.fake.Stats().ForcedRefreshes)

	r = w.run("gen", "--scene", "s1", "--page", "pages/coupon/index", "-o", "s1.jpg")
	t.Logf("$ WXACODE_SECRET=%s wxacode gen --scene s1 ...\n%s(fake calls %d)", wrong, r, codeCalls(w.fake))
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "invalid app secret")
	require.Zero(t, codeCalls(w.fake), "gen did not call interface B")

	r = w.run("doctor")
	t.Logf("$ wxacode doctor\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Regexp(t, `(?m)^token\s+`+e2eApp+`\s+FAILED: .*invalid app secret`, r.stdout)
	require.Regexp(t, `(?m)^store\s+.*ok: writable`, r.stdout)
	require.Zero(t, codeCalls(w.fake))

	still, err := good.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, tok, still, "the cached token was not rotated")

	// With the right secret the worker starts and serves.
	w.set("WXACODE_SECRET", e2eSecret)
	p := w.start("worker", "--check-quota=false")
	p.waitFor("worker started", 30*time.Second)
	p.stop(30 * time.Second)
}

// An external token source that gives no token stops the worker too.
func TestPreflightExternalTokenSource(t *testing.T) {
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, wechattest.Options{})
	apps := filepath.Join(w.dir, "apps.yaml")
	require.NoError(t, os.WriteFile(apps, []byte(fmt.Sprintf("apps:\n  - appid: %s\n    token:\n      redis_key: platform:token:%s\n", e2eApp, e2eApp)), 0o600))
	w.set("WXACODE_APPID", "").set("WXACODE_SECRET", "").set("WXACODE_APPS_FILE", apps)
	r := w.run("worker", "--check-quota=false")
	require.Equal(t, 1, r.code, "a missing key may be filled by its owner: not a configuration error: %s", r)
	require.Contains(t, r.stderr, "token "+e2eApp+": ")
	require.Contains(t, r.stderr, "key does not exist")
	require.Zero(t, codeCalls(w.fake))
	require.Zero(t, w.fake.Stats().TokenFetches["/cgi-bin/stable_token"], "an external source is only read")
}

// A bucket that disappears under a running worker holds the store: the
// job that met it made the only WeChat call (its image is parked), the
// others wait without calling WeChat or failing, and once the bucket is
// back the periodic probe lifts the hold and every code is stored with
// one call each.
func TestRunTimeMissingBucketHoldsTheStore(t *testing.T) {
	w, s3srv := smallWorld(t, wechattest.Options{})
	p := w.start("worker", "--check-quota=false", "--concurrency", "1", "--log-level", "info", "--metrics-listen", "127.0.0.1:0")
	metricsAddr := p.waitFor(`"metrics served","url":"http://([^/"]+)/metrics"`, 30*time.Second)
	p.waitFor("worker started", 30*time.Second)
	st, err := storage.OpenS3(context.Background(), "codes", "", s3srv.Options())
	require.NoError(t, err)
	_, err = st.Client().DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String("codes")})
	require.NoError(t, err, "the preflight's probe left the bucket empty")

	p5 := filepath.Join(w.dir, "five.txt")
	require.NoError(t, os.WriteFile(p5, []byte("h1\nh2\nh3\nh4\nh5\n"), 0o600))
	w.ok("enqueue", "--app", e2eApp, "--page", "pages/coupon/index", p5)
	p.waitFor(`store held`, 30*time.Second)
	// Every job comes round while held (asynq picks them up at once).
	time.Sleep(2 * time.Second)
	t.Logf("held: fake calls %d, ledger %v", codeCalls(w.fake), ledgerTotals(t, context.Background(), w.rs))
	require.LessOrEqual(t, codeCalls(w.fake), int64(1), "at most the job that met the missing bucket called WeChat")
	require.Zero(t, ledgerTotals(t, context.Background(), w.rs)["failed"], "no job failed")
	require.NotContains(t, p.out.String(), "transient error, will retry")

	// The hold and its cause show in the worker's metrics and, through its
	// heartbeat, on the dashboard.
	require.Contains(t, get(t, "http://"+metricsAddr+"/metrics", 200), `wxacode_store_held{cause="bucket does not exist"} 1`)
	d := w.start("dashboard", "--listen", "127.0.0.1:0")
	base := d.waitFor(`dashboard on (http://\S+)/ `, 30*time.Second)
	var holds struct {
		StoreHolds []struct{ Worker, Cause string } `json:"store_holds"`
	}
	require.Eventually(t, func() bool {
		holds.StoreHolds = nil
		require.NoError(t, json.Unmarshal([]byte(get(t, base+"/api/apps", 200)), &holds))
		return len(holds.StoreHolds) == 1
	}, 20*time.Second, 200*time.Millisecond, "the worker's next heartbeat carries the hold")
	t.Logf("dashboard /api/apps store_holds: %+v", holds.StoreHolds)
	require.Contains(t, holds.StoreHolds[0].Cause, "bucket does not exist")
	require.Contains(t, get(t, base+"/", 200), "Store held")
	d.stop(30 * time.Second)

	s3srv.CreateBucket(t, "codes")
	p.waitFor(`store hold lifted`, 2*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	waitAllDone(t, ctx, w.rs, 5)
	tot := ledgerTotals(t, ctx, w.rs)
	t.Logf("after the bucket is back: fake calls %d, ledger %v", codeCalls(w.fake), tot)
	require.EqualValues(t, 5, tot["stored"])
	require.EqualValues(t, 5, codeCalls(w.fake), "one WeChat call per code")
	p.stop(time.Minute)
}
