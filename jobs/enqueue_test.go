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
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(Queue("wx1"))
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
