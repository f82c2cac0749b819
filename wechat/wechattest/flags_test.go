package wechattest

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRegisterFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "fake.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"apps":{"wxfile":"s1"},"rate_limit":100,"latency_p99":"80ms"}`), 0o600))
	var o Options
	fs := flag.NewFlagSet("fake-wechat", flag.ContinueOnError)
	o.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"-config", cfg, "-app", "wx1:sec1", "-pages", "pages/a,pages/b",
		"-rate-limit", "4500", "-fixed-window", "-latency-median", "20ms", "-p-reset", "0.01", "-seed", "5",
		"-token-error", "wx1:45009", "-token-error", "wx2:-1", "-code-error", "wx1:48001"}))
	require.Equal(t, map[string]int{"wx1": 45009, "wx2": -1}, o.TokenErrors)
	require.Equal(t, map[string]int{"wx1": 48001}, o.CodeErrors)
	require.Equal(t, map[string]string{"wxfile": "s1", "wx1": "sec1"}, o.Apps)
	require.Equal(t, []string{"pages/a", "pages/b"}, o.Pages)
	require.Equal(t, 4500, o.RateLimit, "flags after -config win")
	require.True(t, o.FixedWindow)
	require.Equal(t, 20*time.Millisecond, o.LatencyMedian)
	require.Equal(t, 80*time.Millisecond, o.LatencyP99)
	require.Equal(t, 0.01, o.PReset)
	require.EqualValues(t, 5, o.Seed)

	bad := flag.NewFlagSet("x", flag.ContinueOnError)
	bad.SetOutput(io.Discard)
	o.RegisterFlags(bad)
	require.Error(t, bad.Parse([]string{"-app", "no-secret"}))
	require.Error(t, bad.Parse([]string{"-token-error", "wx1:x"}))
}
