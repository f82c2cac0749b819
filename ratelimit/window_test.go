package ratelimit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSixtySecondWindowAtDefaultCap drives a saturated caller through 61 s of
// injected time at the real 4800/min: exactly Burst calls at the start, then
// one every 12.5 ms, so the first closed 60 s window holds exactly 4800+5 and
// no window holds more.
func TestSixtySecondWindowAtDefaultCap(t *testing.T) {
	const app = "wxminute"
	b := setup(t)
	ctx := ctxT(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := b.limiter(Config{Clock: clock.Now, LocalPacing: PacingRedisOnly})
	start := clock.Now()
	var slots []time.Time
	for clock.Now().Before(start.Add(61 * time.Second)) {
		ok, retry, err := l.Take(ctx, app)
		require.NoError(t, err)
		if !ok {
			require.Equal(t, 12500*time.Microsecond, retry, "at %v", clock.Now().Sub(start))
			clock.Add(retry)
			continue
		}
		slots = append(slots, clock.Now())
	}
	require.Equal(t, slots[0], slots[4], "the burst of 5 is granted at once")
	require.Equal(t, 12500*time.Microsecond, slots[5].Sub(slots[4]))
	require.Equal(t, DefaultPerMinute+5, maxInWindow(slots, time.Minute))
	st, err := l.State(ctx, app)
	require.NoError(t, err)
	t.Logf("calls %d, CallsLastMinute estimate %d", len(slots), st.CallsLastMinute)
	require.InDelta(t, DefaultPerMinute, st.CallsLastMinute, 100)
}
