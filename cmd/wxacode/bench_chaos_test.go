package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBenchChaos runs two cheap scenarios of the fault suite with 150
// scenes and two workers (this test binary re-executed as wxacode): every
// scene stored as its own image, none failed or lost, the log scan read
// the workers' output and found no secret, and the suite passes.
func TestBenchChaos(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Setenv("WXACODE_TEST_MAIN", "1") // children run `wxacode` through TestMain
	logs := t.TempDir()
	var out bytes.Buffer
	err := run(ctx, []string{"bench", "chaos", "--scenario", "token-revoked,faults", "--scenes", "150",
		"--workers", "2", "--concurrency", "20", "--logs", logs}, &out, &out)
	t.Log("\n" + out.String())
	require.NoError(t, err)
	for _, name := range []string{"token-revoked", "faults"} {
		require.Regexp(t, `(?m)^`+name+`\s+150\s+150\s+0\s+0\s+\d\.\d{3}\s+\d+\s+\S+\s+PASS\s`, out.String())
	}
	require.Regexp(t, `errcodes 40001×\d+`, out.String(), "tokens were revoked and refreshed")
	require.Regexp(t, `faults \S+×\d+`, out.String(), "faults were injected")
	m := regexp.MustCompile(`no secret or token in (\d+) log files`).FindStringSubmatch(out.String())
	require.NotNil(t, m)
	workerLogs, err := filepath.Glob(filepath.Join(logs, "*", "worker-*.log"))
	require.NoError(t, err)
	require.Len(t, workerLogs, 4, "two workers per scenario")
	for _, f := range workerLogs {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Positive(t, st.Size(), "%s holds the worker's output", f)
	}
	require.Contains(t, out.String(), "chaos: 2 of 2 scenarios passed")
}

// TestBenchChaosFlags: an unknown scenario is refused before anything
// starts.
func TestBenchChaosFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"bench", "chaos", "--scenario", "kill9,nope"}, &out, &out)
	require.ErrorContains(t, err, `no scenario "nope"`)
	var ee exitError
	require.False(t, errors.As(err, &ee))
}
