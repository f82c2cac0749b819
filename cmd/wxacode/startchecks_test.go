package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// downRedis is a loopback Redis URL where nothing listens.
const downRedis = "redis://127.0.0.1:1/0"

// The scheduler checks at start what it will fire: a scheduled campaign
// that cannot run, or whose app is not configured, stops it (exit 2,
// naming the file, the campaign and the cause), and so does Redis down
// (exit 1). A campaign that goes bad while it runs is left out of the
// schedule with a logged error.
func TestSchedulerPreflight(t *testing.T) {
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, wechattest.Options{})
	file := filepath.Join(w.dir, "campaigns.yaml")
	good := "  - name: nightly\n    app: " + e2eApp + "\n    schedule: \"0 2 * * *\"\n    source:\n      generator: {pattern: \"n{n}\", from: 1, to: 3}\n"
	bad := "  - name: nofile\n    app: " + e2eApp + "\n    schedule: \"0 3 * * *\"\n    source:\n      file: " + filepath.Join(w.dir, "absent.csv") + "\n" +
		"  - name: other\n    app: wxffff000000000001\n    schedule: \"0 4 * * *\"\n    source:\n      generator: {pattern: \"o{n}\", from: 1, to: 3}\n" +
		"  - name: byhand\n    app: " + e2eApp + "\n    source:\n      file: " + filepath.Join(w.dir, "later.csv") + "\n"
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+good+bad), 0o600))
	w.set("WXACODE_CAMPAIGNS_FILE", file)

	r := w.run("scheduler")
	t.Logf("$ wxacode scheduler\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "preflight: 2 check(s) failed")
	require.Contains(t, r.stderr, "campaign "+file+" nofile: campaign \"nofile\": source.file")
	require.Contains(t, r.stderr, "cannot be opened")
	require.Contains(t, r.stderr, "campaign "+file+" other: campaign \"other\": app: app wxffff000000000001 is not configured")
	require.NotContains(t, r.stderr, "byhand", "a campaign fired by hand is not the scheduler's")
	require.NotContains(t, r.stderr, "scheduler started")

	w.set("WXACODE_REDIS_URL", downRedis)
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+good), 0o600))
	r = w.run("scheduler")
	t.Logf("$ WXACODE_REDIS_URL=%s wxacode scheduler\n%s", downRedis, r)
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "preflight: 1 check(s) failed")
	require.Contains(t, r.stderr, "redis "+downRedis+": redis at "+downRedis+" unreachable")
	require.NotContains(t, r.stderr, "scheduler started")
	require.NotContains(t, r.stderr, "connection pool", "go-redis's dial warnings are not repeated before the report")

	w.set("WXACODE_REDIS_URL", w.rs.URL())
	p := w.start("scheduler", "--sync-interval", "1s", "--log-level", "info")
	p.waitFor("scheduler started", 30*time.Second)
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+good+bad), 0o600))
	p.waitFor(`campaign not scheduled.*nofile.*cannot be opened`, 30*time.Second)
	p.waitFor(`campaign not scheduled.*other`, 10*time.Second)
	time.Sleep(2500 * time.Millisecond) // two more syncs: reported once
	require.Equal(t, 1, strings.Count(p.out.String(), `"campaign":"nofile"`), p.out.String())
	p.stop(30 * time.Second)
}

// The dashboard stops at start when Redis does not answer, in the
// preflight's words.
func TestDashboardPreflightRedisDown(t *testing.T) {
	w := newWorld(t, "WXACODE_REDIS_URL="+downRedis)
	r := w.run("dashboard", "--listen", "127.0.0.1:0")
	t.Logf("$ WXACODE_REDIS_URL=%s wxacode dashboard\n%s", downRedis, r)
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "preflight: 1 check(s) failed")
	require.Contains(t, r.stderr, "redis "+downRedis+": redis at "+downRedis+" unreachable")
	require.Contains(t, r.stderr, "start Redis or fix WXACODE_REDIS_URL")
	require.NotContains(t, r.stderr, "connection pool")
}

// A benchmark flag with a value it does not take is a usage error.
func TestBenchFlagValuesExit2(t *testing.T) {
	w := newWorld(t)
	for _, args := range [][]string{{"bench", "endpoints", "--mode", "nope"}, {"bench", "chaos", "--scenario", "nope"}} {
		r := w.run(args...)
		t.Logf("$ wxacode %s\n%s", strings.Join(args, " "), r)
		require.Equal(t, 2, r.code, r)
		require.Contains(t, r.stderr, "nope")
	}
}

// doctor with Redis down prints its table, and no go-redis dial warning
// before it.
func TestDoctorRedisDownQuiet(t *testing.T) {
	w := newWorld(t, "WXACODE_REDIS_URL="+downRedis, "WXACODE_APPID=wx0123456789abcdef", "WXACODE_SECRET=s-0123456789",
		"WXACODE_WECHAT_BASE_URL=http://127.0.0.1:1")
	r := w.run("doctor")
	t.Logf("$ WXACODE_REDIS_URL=%s wxacode doctor\n%s", downRedis, r)
	require.Equal(t, 1, r.code, r)
	require.True(t, strings.HasPrefix(r.stdout, "CHECK "), r.stdout)
	require.Regexp(t, `(?m)^redis\s+`+downRedis+`\s+FAILED: redis at .* unreachable`, r.stdout)
	require.NotContains(t, r.stderr, "connection pool")
	require.NotContains(t, r.stderr, "WARN")
	require.Empty(t, strings.TrimSpace(r.stderr))
}
