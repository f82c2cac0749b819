package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
)

// A paused run's jobs are handed back without calling WeChat and without
// using a try; after resume they are generated; after cancel revoked.
func TestPausedRunJobsAreHandedBack(t *testing.T) {
	var st *runs.Store
	b := setupWith(t, func(d *Deps) { st = runs.NewStore(d.Redis, ""); d.Runs = st })
	ctx := context.Background()
	require.NoError(t, st.Create(ctx, runs.Run{ID: "run-p", Campaign: "c", App: testApp, Total: 3, Window: 10, State: runs.StatePaused}))
	job := func(row int64) *asynq.Task {
		return task(t, jobs.Job{Run: "run-p", Row: row, Params: code.Params{Scene: "p" + string(rune('0'+row)), Page: "pages/index/index"}})
	}
	for row := range int64(3) {
		err := b.h.ProcessTask(ctx, job(row))
		var y *YieldError
		require.ErrorAs(t, err, &y, "row %d of a paused run", row)
		require.False(t, IsFailure(err), "a pause uses no try")
		require.GreaterOrEqual(t, y.After, 5*time.Second)
		require.Contains(t, y.Reason, "paused")
	}
	require.Zero(t, b.fake.Stats().Calls[testApp], "no WeChat call for a paused run")

	require.NoError(t, st.SetState(ctx, "run-p", runs.StateRunning))
	time.Sleep(1100 * time.Millisecond) // past the handler's 1 s cache of the run's state
	require.NoError(t, b.h.ProcessTask(ctx, job(0)))
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp], "resumed: generated")

	require.NoError(t, st.SetState(ctx, "run-p", runs.StateCancelled))
	time.Sleep(1100 * time.Millisecond)
	require.ErrorIs(t, b.h.ProcessTask(ctx, job(1)), asynq.RevokeTask)
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp])
}

func TestPausedDelayGrows(t *testing.T) {
	require.GreaterOrEqual(t, pausedDelay(0), 5*time.Second)
	require.Less(t, pausedDelay(0), 10*time.Second, "a fresh pause re-checks within seconds")
	require.GreaterOrEqual(t, pausedDelay(time.Hour), 2*time.Minute)
	require.Less(t, pausedDelay(time.Hour), 2*time.Minute+5*time.Second, "capped")
}
