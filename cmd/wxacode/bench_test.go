package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage/storagetest"
)

// TestBenchChaos runs two cheap scenarios of the fault suite with 150
// scenes and two workers (children of the built binary, S3 on versitygw):
// every scene stored as its own image, none failed or lost, the log scan
// read the workers' output and found no secret, and the suite passes.
func TestBenchChaos(t *testing.T) {
	gw, err := storagetest.FindOrInstallVersityGW()
	require.NoError(t, err)
	w := newWorld(t, "VERSITYGW="+gw)
	logs := t.TempDir()
	r := w.run("bench", "chaos", "--scenario", "token-revoked,faults", "--scenes", "150",
		"--workers", "2", "--concurrency", "20", "--logs", logs)
	t.Log("\n" + r.stdout)
	require.Equal(t, 0, r.code, r)
	for _, name := range []string{"token-revoked", "faults"} {
		require.Regexp(t, `(?m)^`+name+`\s+150\s+150\s+0\s+0\s+\d\.\d{3}\s+\d+\s+\S+\s+PASS\s`, r.stdout)
	}
	require.Regexp(t, `errcodes 40001×\d+`, r.stdout, "tokens were revoked and refreshed")
	require.Regexp(t, `faults \S+×\d+`, r.stdout, "faults were injected")
	m := regexp.MustCompile(`no secret or token in (\d+) log files`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m)
	workerLogs, err := filepath.Glob(filepath.Join(logs, "*", "worker-*.log"))
	require.NoError(t, err)
	require.Len(t, workerLogs, 4, "two workers per scenario")
	for _, f := range workerLogs {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Positive(t, st.Size(), "%s holds the worker's output", f)
	}
	require.Contains(t, r.stdout, "chaos: 2 of 2 scenarios passed")

	r = w.run("bench", "chaos", "--scenario", "kill9,nope")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, `no scenario "nope"`)
}

// TestBenchEndpoints runs the abuse benchmark small, limits on: one client's
// idle sockets beyond its cap are refused, and the ordinary clients get
// every answer.
func TestBenchEndpoints(t *testing.T) {
	w := newWorld(t)
	r := w.run("bench", "endpoints", "--mode", "after", "--idle", "400", "--slow", "20",
		"--clients", "10", "--ramp", "3s", "--duration", "4s")
	t.Log("\n" + r.stdout)
	require.Equal(t, 0, r.code, r)
	m := regexp.MustCompile(`(?m)^after\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+\S+\s+[\d.]+ MiB\s+(\d+)\s+(\d+)\s+(\d+)$`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, "no after row")
	requests, errs, held, refused := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[4]), atoi(t, m[5])
	require.Positive(t, requests)
	require.Zero(t, errs, "ordinary clients got errors")
	require.LessOrEqual(t, held, 2*64+8, "the attacker held more than its per-client cap (64) in each of its 2 processes")
	require.Positive(t, refused, "the attacker's excess sockets were not refused")

	r = w.run("bench", "endpoints", "--mode", "sideways")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, `--mode "sideways"`)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestBenchRecovery runs the recovery benchmark's isolated scenario small
// on the sliding window: the fake refused calls, the row states when and
// what share, the per-10 s timeline follows, and unknown names are refused.
func TestBenchRecovery(t *testing.T) {
	w := newWorld(t)
	r := w.run("bench", "recovery", "--scenarios", "isolated", "--windows", "sliding", "--scenes", "150",
		"--at", "1s", "--isolated-every", "2s", "--duration", "10s")
	t.Log("\n" + r.stdout)
	require.Equal(t, 0, r.code, r)
	m := regexp.MustCompile(`(?m)^isolated\s+sliding\s+2400\s+5000, 1/2s\s+(\d+)s\s+(\d\.\d{3})\s+(\S+)\s+[\d.]+% \((\d+)/(\d+)\)\s+(\d+)/150\s+(\S+)\s+-$`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, "no isolated row")
	require.LessOrEqual(t, atoi(t, m[1]), 2, "first 45009 about --at after the start")
	require.Positive(t, atoi(t, m[4]), "the fake refused calls")
	require.Greater(t, atoi(t, m[5]), atoi(t, m[4]), "and accepted some")
	require.Positive(t, atoi(t, m[6]), "scenes were done")
	require.Regexp(t, `(?m)^  isolated/sliding accepted\[/refused\] per 10 s:( \d+(/\d+)?)+$`, r.stdout)
	require.Regexp(t, `(?m)^recovery: done in \d+`, r.stdout)

	r = w.run("bench", "recovery", "--scenarios", "drop,nope")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, `no scenario "nope"`)
}

// TestBenchApps runs the many-apps benchmark small: two work rows (1 and 3
// apps, 60 codes), an idle row with 50 apps and a tiny fairness run. Every
// figure is present in the table and the JSON summary and plausible (not
// the targets), and a malformed app count is refused.
func TestBenchApps(t *testing.T) {
	w := newWorld(t)
	js := filepath.Join(t.TempDir(), "apps.json")
	r := w.run("bench", "apps", "--apps", "1,3", "--codes", "60", "--idle-apps", "50", "--idle-workers", "1",
		"--fairness", "--big", "3000", "--small-apps", "5", "--small-codes", "4", "--warmup", "2s", "--measure", "5s",
		"--idle", "3s", "--settle", "1s", "--json", js)
	t.Log("\n" + r.stdout)
	require.Equal(t, 0, r.code, r)
	require.Regexp(t, `(?m)^1 app x 60 codes\s+[\d.]+s\s+[\d.]+\s+[\d.]+ ms\s+\d+\s+[\d.]+s$`, r.stdout)
	require.Regexp(t, `(?m)^3 apps x 20 codes\s+[\d.]+s\s+[\d.]+\s+[\d.]+ ms\s+\d+\s+[\d.]+s$`, r.stdout)
	require.Regexp(t, `(?m)^  per code: \w+ [\d.]+(, \w+ [\d.]+)*$`, r.stdout)
	require.Regexp(t, `(?m)^1\s+[\d.]+s\s+\d+\s+[\d.]+$`, r.stdout, "idle row")
	require.Regexp(t, `(?m)^[\d.]+\s+\d+s\s+[\d.]+s\s+[\d.]+s\s+[\d.]+s\s+[\d.]+s$`, r.stdout, "fairness row")

	b, err := os.ReadFile(js)
	require.NoError(t, err)
	require.Contains(t, r.stdout, "summary: "+strings.TrimSpace(string(b)))
	var raw struct {
		Work []map[string]any `json:"work"`
		Idle []map[string]any `json:"idle"`
		Fair map[string]any   `json:"fairness"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	require.Len(t, raw.Work, 2)
	for _, m := range raw.Work {
		require.EqualValues(t, 60, m["codes"])
		require.Greater(t, m["wall_seconds"], 0.0)
		require.Less(t, m["wall_seconds"], 60.0)
		// A code costs at least an enqueue, a dequeue, a limiter slot and a
		// ledger record, and nowhere near 1000 commands.
		require.Greater(t, m["redis_commands_per_code"], 4.0)
		require.Less(t, m["redis_commands_per_code"], 1000.0)
		require.Greater(t, m["worker_cpu_ms_per_code"], 0.0)
		require.Less(t, m["worker_cpu_ms_per_code"], 200.0)
		require.Greater(t, m["idle_redis_ops_per_second"], 0.0, "idle workers still poll")
	}
	require.Len(t, raw.Idle, 1)
	require.EqualValues(t, 50, raw.Idle[0]["apps"])
	require.Greater(t, raw.Idle[0]["idle_redis_ops_per_second"], 0.0)
	f := raw.Fair
	require.EqualValues(t, 3000, f["big_pending"])
	require.Greater(t, f["big_share_of_cap"], 0.0, "the big app was served")
	require.LessOrEqual(t, f["big_share_of_cap"], 1.1, "and held to its cap")
	require.GreaterOrEqual(t, f["measured_seconds"], 5.0)
	require.Greater(t, f["small_delay_p50_seconds"], 0.0)
	require.LessOrEqual(t, f["small_delay_p50_seconds"], f["small_delay_p99_seconds"])
	require.LessOrEqual(t, f["small_delay_p99_seconds"], f["small_delay_max_seconds"])
	require.LessOrEqual(t, f["small_delay_max_seconds"], f["smalls_done_seconds"].(float64)+1, "no small code done after the last")

	r = w.run("bench", "apps", "--apps", "1,nope")
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, `--apps: "nope" is not a positive number`)
}
