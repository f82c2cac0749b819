package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

func noSpaces(j Job) error {
	if strings.ContainsAny(j.Scene, " ") {
		return &RowError{Field: "scene", Value: j.Scene, Reason: "space not allowed"}
	}
	return nil
}

func TestEnqueueCountsEveryRow(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	in := "a\nb\na\nbad one\nc\n" + strings.Repeat("x", MaxLineBytes+10) + "\n"
	r, _ := NewReader(strings.NewReader(in), FormatLines, Job{App: "wx1"})
	e := NewEnqueuer(asynq.NewClientFromRedisClient(rdb), EnqueueConfig{Workers: 3})
	var mu sync.Mutex
	var rejected []int64
	sum, err := e.Run(ctx, r, noSpaces, func(re *RowError) { mu.Lock(); rejected = append(rejected, re.Line); mu.Unlock() })
	require.NoError(t, err)
	require.Equal(t, Summary{Lines: 6, Read: 6, Enqueued: 3, Duplicate: 1, Rejected: 2, PerApp: map[string]int64{"wx1": 3}}, sum)
	require.Zero(t, sum.Unaccounted())
	require.ElementsMatch(t, []int64{4, 6}, rejected)
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(LaneBulk)
	require.NoError(t, err)
	require.Equal(t, 3, info.Pending)
}

func TestEnqueueRedisDownLosesNothingSilently(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	srv.Stop()
	r, _ := NewReader(strings.NewReader("a\nb\n"), FormatLines, Job{App: "wx1"})
	e := NewEnqueuer(asynq.NewClientFromRedisClient(rdb), EnqueueConfig{Workers: 2, Attempts: 2})
	var n int
	var mu sync.Mutex
	sum, err := e.Run(ctx, r, noSpaces, func(re *RowError) {
		mu.Lock()
		n++
		mu.Unlock()
		require.Contains(t, re.Reason, "not enqueued")
	})
	require.Error(t, err)
	require.Equal(t, int64(2), sum.Failed)
	require.Equal(t, 2, n, "every row not enqueued is reported")
	require.False(t, errors.Is(err, context.Canceled))
}

// TestEnqueueAccountsForEveryLine runs every hostile input (and one with
// duplicates) through a real enqueue: the summary accounts for each line
// of the input, Lines = Header + Empty + Enqueued + Duplicate + Rejected.
func TestEnqueueAccountsForEveryLine(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	e := NewEnqueuer(asynq.NewClientFromRedisClient(rdb), EnqueueConfig{Workers: 4})
	cases := append(hostileCases(), hostileCase{name: "duplicates", format: FormatCSV,
		in: "scene,page\nd1,pages/a\nd1,pages/a\n\nd1,pages/b\nd1,pages/a\n"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Counts = Counts{}
			r, err := NewReader(strings.NewReader(tc.in), tc.format, Job{App: "wx1"})
			require.NoError(t, err)
			if tc.format == FormatParams {
				r = WithScenes(ctx, r, countingIssuer())
			}
			var mu sync.Mutex
			var rejected int64
			sum, err := e.Run(ctx, r, Validate, func(*RowError) { mu.Lock(); rejected++; mu.Unlock() })
			require.NoError(t, err)
			require.Equal(t, lineCount(tc.in), sum.Lines)
			require.Zero(t, sum.Unaccounted(), "%+v", sum)
			require.Equal(t, rejected, sum.Rejected)
			require.Equal(t, int64(len(tc.rejects)), sum.Rejected)
		})
	}
	d := e.Counts.Snapshot()
	require.Equal(t, Summary{Lines: 6, Header: 1, Empty: 1, Read: 4, Enqueued: 2, Duplicate: 2}, d, "the duplicates case")
}
