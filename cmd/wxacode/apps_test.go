package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
	"github.com/wxacode/wxacode/worker/appreg"
)

const (
	appsA = "wxapps00000000000a"
	appsB = "wxapps00000000000b"
)

// appsWorld serves the fake WeChat knowing apps A and B, with the one-app
// setup for A; B's secret is in a private file, as on a worker.
func appsWorld(t *testing.T) (*world, string) {
	w := newWorld(t).withRedis()
	w.fake = startFake(t, wechattest.Options{RateLimit: -1, Apps: map[string]string{appsA: "secret-a-0123456789", appsB: "secret-b-0123456789"}})
	w.set("WXACODE_WECHAT_BASE_URL", w.fake.URL()).set("WXACODE_APPID", appsA).set("WXACODE_SECRET", "secret-a-0123456789")
	sf := filepath.Join(w.dir, "b.secret")
	require.NoError(t, os.WriteFile(sf, []byte("secret-b-0123456789\n"), 0o600))
	return w, sf
}

func appTotals(t *testing.T, w *world, app string) jobs.Totals {
	tot, err := jobs.NewLedger(w.rs.Client(t), "").Totals(context.Background(), app)
	require.NoError(t, err)
	return tot
}

func writeLines(t *testing.T, w *world, name string, n int, prefix string) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "%s%d\n", prefix, i)
	}
	p := filepath.Join(w.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(sb.String()), 0o600))
	return p
}

// apps add refuses a literal secret and an app without a token source,
// naming the flag; the registry then holds nothing.
func TestAppsAddRefusesSecrets(t *testing.T) {
	w, _ := appsWorld(t)
	r := w.run("apps", "add", appsB, "--secret", "secret-b-0123456789")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "--secret: appreg: the registry never holds a secret")
	require.NotContains(t, r.stdout+r.stderr, "secret-b-0123456789")
	r = w.run("apps", "add", appsB)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "give exactly one of secret, secret_file, token.redis_key")
	require.Contains(t, r.stderr, "defaults: token source")
	out := w.ok("apps", "list")
	require.Contains(t, out, "1 apps (0 removed) of 1", "only the one-app setup's A:\n%s", out)
}

// A worker started with app A only: producers refuse B until it is added
// to the registry, then accept it (with the registry's rate); the
// worker's app set takes B without a restart; B removed, producers refuse
// it again.
func TestAppsProducersFollowRegistry(t *testing.T) {
	w, bSecret := appsWorld(t)
	p := w.start("worker", "--check-quota=false", "--log-level", "info")
	p.waitFor("worker started", 30*time.Second)

	r := w.run("enqueue", "--app", appsB, "--page", "pages/index/index", writeLines(t, w, "b0.txt", 1, "b"))
	require.Equal(t, 2, r.code, "B is not configured yet: %s", r)
	require.Contains(t, r.stderr, "app "+appsB+" is not configured")
	require.Contains(t, r.stderr, "the app registry does not list it either")

	out := w.ok("apps", "add", appsB, "--secret-file", bSecret, "--rate-per-minute", "600")
	t.Logf("$ wxacode apps add %s --secret-file b.secret --rate-per-minute 600\n%s", appsB, out)
	require.Contains(t, out, "app "+appsB+" added (registry version 1): secret_file "+bSecret)
	p.waitFor(`app set changed.*added.{1,4}\[`+appsB+`\]`, 15*time.Second)
	out = w.ok("enqueue", "--app", appsB, "--page", "pages/index/index", writeLines(t, w, "b.txt", 3, "b"))
	require.Contains(t, out, "enqueued 3")
	require.Contains(t, out, "at 600/min", "the registry's rate")

	w.ok("apps", "remove", appsB)
	p.waitFor(`app set changed.*removed.{1,4}\[`+appsB+`\]`, 15*time.Second)
	r = w.run("enqueue", "--app", appsB, "--page", "pages/index/index", writeLines(t, w, "b2.txt", 2, "c"))
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "app "+appsB+" was removed from the app registry")
	p.stop(time.Minute)
}

// A worker started with app A only serves B once B is added to the
// registry: B's jobs (on the shared lanes) are stored without a restart.
func TestAppsAddedServedWithoutRestart(t *testing.T) {
	w, bSecret := appsWorld(t)
	p := w.start("worker", "--check-quota=false", "--log-level", "info")
	p.waitFor("worker started", 30*time.Second)
	w.ok("apps", "add", appsB, "--secret-file", bSecret)
	w.ok("enqueue", "--app", appsB, "--page", "pages/index/index", writeLines(t, w, "b.txt", 5, "b"))
	defer func() {
		if t.Failed() {
			t.Logf("worker log:\n%s\nstatus:\n%v", strings.Join(p.lines(), "\n"), w.run("status"))
		}
	}()
	waitStored(t, w, appsB, 5, time.Minute)
	require.Zero(t, appTotals(t, w, appsB)["failed"])
	require.EqualValues(t, 5, codeCalls(w.fake), "one WeChat call per code")
	p.stop(time.Minute)
}

// B of the registry is served by a running worker; removed, its queued
// jobs are handed back (not failed, nothing lost) with a log line; added
// again, every one is stored.
func TestAppsRemovedJobsAreHeld(t *testing.T) {
	w, bSecret := appsWorld(t)
	w.ok("apps", "add", appsB, "--secret-file", bSecret, "--rate-per-minute", "30")
	p := w.start("worker", "--check-quota=false", "--log-level", "info", "--concurrency", "2")
	p.waitFor("worker started", 30*time.Second)
	const n = 12
	w.ok("enqueue", "--app", appsB, "--page", "pages/index/index", writeLines(t, w, "b.txt", n, "b"))
	waitStored(t, w, appsB, 1, time.Minute)
	w.ok("apps", "remove", appsB)
	p.waitFor(`app removed from the app registry: its jobs are handed back, not failed`, time.Minute)
	time.Sleep(2 * time.Second) // the jobs in flight when it was removed finish (at most --concurrency)
	held := appTotals(t, w, appsB)
	time.Sleep(3 * time.Second)
	now := appTotals(t, w, appsB)
	t.Logf("removed: %v, 3 s later %v", held, now)
	require.Less(t, now["stored"], int64(n), "jobs are held, not stored")
	require.Equal(t, held["stored"], now["stored"], "nothing stored while removed")
	require.Zero(t, now["failed"], "nothing failed")

	w.ok("apps", "add", appsB, "--secret-file", bSecret, "--rate-per-minute", "600")
	waitStored(t, w, appsB, n, 2*time.Minute)
	require.Zero(t, appTotals(t, w, appsB)["failed"])
	p.waitFor(`app served again: its held jobs resume`, time.Second)
	p.stop(time.Minute)
}

// waitStored waits until app has n codes stored.
func waitStored(t *testing.T, w *world, app string, n int64, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool { return appTotals(t, w, app)["stored"] >= n }, within, 200*time.Millisecond,
		"%s: %v stored of %d", app, appTotals(t, w, app), n)
}

// apps list with many apps: a 10,000-app platform template and 2,000
// registry apps (one overriding a file app, one removed), filtered with
// --q; apps show names where an app comes from, never a secret.
func TestAppsListMany(t *testing.T) {
	w := newWorld(t).withRedis()
	var sb strings.Builder
	sb.WriteString("defaults:\n  rate_per_minute: 3000\n  token: {redis_key: \"platform:token:{appid}\"}\napps:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "  - appid: wxf%015d\n", i)
	}
	file := filepath.Join(w.dir, "platform.yaml")
	require.NoError(t, os.WriteFile(file, []byte(sb.String()), 0o600))
	w.set("WXACODE_APPS_FILE", file)
	ctx := context.Background()
	reg := appreg.New(w.rs.Client(t), "")
	for i := range 2000 {
		_, err := reg.Put(ctx, worker.AppConfig{AppID: fmt.Sprintf("wxr%015d", i)})
		require.NoError(t, err)
	}
	w.ok("apps", "add", "wxf000000000000007", "--rate-per-minute", "100", "--token-url", "https://user:pw@tokens.internal/t")
	w.ok("apps", "remove", "wxr000000000000001")

	out := w.ok("apps", "list")
	require.Contains(t, out, "12000 apps (1 removed) of 12000")
	require.Regexp(t, `wxr000000000000000\s+registry\s+active\s+3000\s+1\s+redis_key platform:token:wxr000000000000000`, out, "the template fills a registry entry")
	out = w.ok("apps", "list", "--q", "wxf00000000000000")
	require.Contains(t, out, "10 apps (0 removed) of 12000")
	require.Regexp(t, `wxf000000000000007\s+registry \(over file\)\s+active\s+100\s`, out)
	require.NotContains(t, out, "pw@", "credentials in a token URL are redacted")
	out = w.ok("apps", "show", "wxr000000000000001")
	require.Contains(t, out, "state:           removed")
	r := w.run("apps", "show", "wxnotthere")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "app wxnotthere is not configured: apps come from WXACODE_APPS_FILE "+file)
}

// status --app shows only the apps listed; a malformed appid is exit 2.
func TestStatusAppFilter(t *testing.T) {
	w := newWorld(t).withRedis()
	led := jobs.NewLedger(w.rs.Client(t), "")
	for i, app := range []string{"wxsa", "wxsb", "wxsc"} {
		require.NoError(t, led.AddEnqueued(context.Background(), app, int64(10+i)))
	}
	out := w.ok("status", "--app", "wxsa,wxsc")
	require.Regexp(t, `(?m)^wxsa\s+10\s`, out)
	require.Regexp(t, `(?m)^wxsc\s+12\s`, out)
	require.NotContains(t, out, "wxsb")
	out = w.ok("status")
	require.Regexp(t, `(?m)^wxsb\s+11\s`, out)
	r := w.run("status", "--app", "wxsa,wx{b}")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "--app")
}

// gen makes a code for an app of the registry only, with its secret file.
func TestGenRegistryApp(t *testing.T) {
	w, bSecret := appsWorld(t)
	w.ok("apps", "add", appsB, "--secret-file", bSecret)
	out := filepath.Join(w.dir, "b.jpg")
	w.ok("gen", "--app", appsB, "--scene", "g1", "--page", "pages/index/index", "-o", out)
	st, err := os.Stat(out)
	require.NoError(t, err)
	require.Positive(t, st.Size())
	require.EqualValues(t, 1, codeCalls(w.fake))
}
