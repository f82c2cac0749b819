package ratelimitbench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	if IsChild() { // Run re-executes this test binary as its children
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// TestRunShort exercises the whole benchmark plumbing (separate processes,
// private Redis, figures) in a few seconds, at a rate scaled up so that a
// 1 s window sees many slots.
func TestRunShort(t *testing.T) {
	res, err := Run(context.Background(), Options{
		Duration: 2 * time.Second, Processes: 2, Goroutines: 10,
		PerMinute: 30000, Window: time.Second,
	})
	require.NoError(t, err)
	t.Log(res)
	require.Zero(t, res.Errors, res.FirstError)
	require.Equal(t, 505, res.Bound)
	require.LessOrEqual(t, res.MaxInWindowRedis, res.Bound)
	require.Greater(t, res.Ratio, 0.9)
	require.Less(t, res.RoundTripsPerCall, 2.0)
}

func TestMaxInWindow(t *testing.T) {
	ts := []int64{5, 0, 10, 11, 20, 21, 22}
	require.Equal(t, 3, maxInWindow(ts, 2*time.Nanosecond, time.Nanosecond)) // 20, 21, 22
	require.Equal(t, 4, maxInWindow(ts, 11*time.Nanosecond, time.Nanosecond))
	require.Equal(t, 2, countIn(ts, 10, 20))
}

// BenchmarkFleet is the reference run: 3 OS processes x 50 goroutines at
// 4800/min for 70 s ($WXACODE_RLBENCH_DURATION to change it). Run it with
//
//	go test ./ratelimit/ratelimitbench -run '^$' -bench Fleet -benchtime 1x -timeout 30m
func BenchmarkFleet(b *testing.B) {
	for range b.N {
		res, err := Run(context.Background(), Options{Progress: os.Stderr})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + res.String())
		b.ReportMetric(res.Ratio, "cap-ratio")
		b.ReportMetric(float64(res.MaxInWindowRedis), "max60s-slot")
		b.ReportMetric(float64(res.MaxInWindowLocal), "max60s-wake")
		b.ReportMetric(res.RoundTripsPerCall, "roundtrips/call")
		if res.MaxInWindowRedis > res.Bound || res.Errors > 0 {
			b.Errorf("bound %d exceeded or errors: %s", res.Bound, res)
		}
	}
}
