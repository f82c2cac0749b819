package jobs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestQueueAt: a job due within BacklogAhead goes to the bulk lane, one
// paced further out (an app's backlog) to the backlog lane, a high job to
// the high lane whenever it is due; lookups try every lane a job may be in.
func TestQueueAt(t *testing.T) {
	now := time.Now()
	j := Job{App: "wxq"}
	require.Equal(t, LaneBulk, j.QueueAt(time.Time{}, now), "due at once")
	require.Equal(t, LaneBulk, j.QueueAt(now.Add(BacklogAhead), now))
	require.Equal(t, LaneBacklog, j.QueueAt(now.Add(BacklogAhead+time.Millisecond), now))
	h := Job{App: "wxq", High: true}
	require.Equal(t, LaneHigh, h.QueueAt(now.Add(time.Hour), now))
	require.Equal(t, []string{LaneBulk, LaneBacklog, "wxacode-wxq", "wxacode-wxq-high"}, j.QueuesOf())
	require.Equal(t, []string{LaneHigh, "wxacode-wxq", "wxacode-wxq-high"}, h.QueuesOf())
	for lane := range Lanes() {
		_, legacy := LegacyQueue(lane)
		require.False(t, legacy, lane)
		require.True(t, IsLane(lane))
	}
	require.False(t, IsLane("wxacode-feed"))
}
