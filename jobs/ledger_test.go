package jobs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

func TestLedgerCountsOnceAndMovesStatus(t *testing.T) {
	ctx := context.Background()
	l := NewLedger(redistest.Start(t).Client(t), "")
	rec := func(id string, s Status) {
		require.NoError(t, l.Record(ctx, "wx1", Outcome{TaskID: id, Status: s, Scene: id, Code: 41030}))
	}
	rec("a", StatusStored)
	rec("a", StatusStored) // redelivery
	rec("b", StatusFailed)
	rec("b", StatusFailed)
	rec("c", StatusFailed)
	rec("c", StatusStored) // retried by hand, then succeeded
	tot, err := l.Totals(ctx, "wx1")
	require.NoError(t, err)
	require.Equal(t, int64(2), tot["stored"])
	require.Equal(t, int64(1), tot["failed"])
	f, err := l.Failures(ctx, "wx1", 10)
	require.NoError(t, err)
	require.Len(t, f, 1)
	require.Equal(t, "b", f[0].TaskID)
	require.Equal(t, 41030, f[0].Code)
	apps, err := l.Apps(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"wx1"}, apps)
	n := 0
	require.NoError(t, l.Scan(ctx, "wx1", func(Outcome) error { n++; return nil }))
	require.Equal(t, 3, n)
}
