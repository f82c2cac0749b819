package worker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
)

// During the fleet's pause after a 45009 a job waits in place (up to the
// limiter's PauseWaiters per process) instead of being handed back, so the
// probe round after the pause finds callers at once; with no seats it is
// handed back as before.
func TestRateLimitPauseKeepsAJobInPlace(t *testing.T) {
	for _, seats := range []int{0, -1} {
		var deps *Deps
		b := setupWith(t, func(d *Deps) {
			d.Limiter = ratelimit.New(d.Redis, ratelimit.Config{PauseWaiters: seats})
			deps = d
		})
		h, err := NewHandler(*deps, Config{StoreAttempts: 1, MaxHold: 100 * time.Millisecond})
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, deps.Limiter.ReportRateLimited(ctx, testApp, 45009)) // a 1 s pause
		ok, after, err := deps.Limiter.Take(ctx, testApp)
		require.NoError(t, err)
		require.False(t, ok)
		require.Greater(t, after, 100*time.Millisecond, "the pause is longer than MaxHold")

		err = h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "p1"}}))
		if seats < 0 {
			var y *YieldError
			require.ErrorAs(t, err, &y, "no seats: handed back")
			continue
		}
		require.NoError(t, err, "waited through the pause")
		require.Equal(t, jobs.StatusStored, b.outcome(t, "p1").Status)
	}
}
