package metrics_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/metrics"
)

// TestWorkerStorageUnavailable checks wxacode_storage_unavailable_seconds:
// 0 while storage is reachable, the time since the outage began while it
// is not (growing between scrapes without any new report), 0 again once
// it answers. A nil *Worker ignores the calls.
func TestWorkerStorageUnavailable(t *testing.T) {
	reg := metrics.NewRegistry()
	w, err := metrics.NewWorker(reg)
	require.NoError(t, err)
	value := func() float64 {
		t.Helper()
		families, err := reg.Gather()
		require.NoError(t, err)
		for _, f := range families {
			if f.GetName() == "wxacode_storage_unavailable_seconds" {
				require.Len(t, f.GetMetric(), 1)
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		require.Fail(t, "wxacode_storage_unavailable_seconds is not exported")
		return 0
	}
	require.Zero(t, value(), "reachable before any report")
	w.StorageUnavailable(time.Now().Add(-90 * time.Second))
	first := value()
	require.GreaterOrEqual(t, first, 90.0)
	require.Less(t, first, 120.0)
	require.Greater(t, value(), first, "the value grows at each scrape")
	w.StorageAvailable()
	require.Zero(t, value(), "reachable again")

	var none *metrics.Worker
	none.StorageUnavailable(time.Now())
	none.StorageAvailable()
}
