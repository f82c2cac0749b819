package jobs

import (
	"context"
	"strings"
	"time"

	"github.com/wxacode/wxacode/code"
)

// Lanes: every scene job of every app goes to one of three shared asynq
// queues, so that what workers poll is a constant set of queues whatever
// the number of apps (asynq polls every queue it serves, empty or not).
// Fairness between apps comes from pacing instead (Pacer): producers give
// each job a ProcessAt from its app's fleet-wide schedule, so that a lane's
// pending list holds only work that is due, a few seconds of each app's
// cap. The jobs of an app with more work than its cap lets through soon
// (due more than BacklogAhead after they were enqueued) go to a lane of
// their own: a burst of small apps' codes, all due at once, then fills the
// bulk lane's pending list but not the backlog lane's, and asynq, taking
// from the two by weight, keeps serving the big app at its cap instead of
// making it wait behind the burst (its lost minutes are not made up: the
// limiter holds it to its cap per minute).
const (
	// LaneBulk is the lane of ordinary jobs due soon after they were
	// enqueued.
	LaneBulk = "wxacode-bulk"
	// LaneBacklog is the lane of ordinary jobs paced more than
	// BacklogAhead into the future: an app's backlog.
	LaneBacklog = "wxacode-backlog"
	// LaneHigh is the lane of high-priority jobs (--priority high, urgent
	// campaigns).
	LaneHigh = "wxacode-high"
)

// BacklogAhead is how far in the future a job must be due to go to the
// backlog lane: half a minute of its app's cap, so that a one-off batch
// of a few thousand codes stays in the bulk lane.
const BacklogAhead = 30 * time.Second

// HighWeight is how much more often a worker takes from the high lane than
// from the bulk lane (or from the backlog lane: the two weigh the same).
const HighWeight = 10

// Lanes returns asynq's weighted queue map of the three lanes.
func Lanes() map[string]int {
	return map[string]int{LaneBulk: 1, LaneBacklog: 1, LaneHigh: HighWeight}
}

// QueueAt is the lane a job due at at goes to when it is enqueued at now.
func (j Job) QueueAt(at, now time.Time) string {
	switch {
	case j.High:
		return LaneHigh
	case at.Sub(now) > BacklogAhead:
		return LaneBacklog
	}
	return LaneBulk
}

// QueuesOf are the queues a task of the job may be in: its lanes, then
// the per-app queues of releases before lanes.
func (j Job) QueuesOf() []string {
	lanes := []string{LaneBulk, LaneBacklog}
	if j.High {
		lanes = []string{LaneHigh}
	}
	return append(lanes, LegacyQueues(j.App)...)
}

// legacyPrefix starts the per-app queues of releases before lanes:
// wxacode-APP and wxacode-APP-high.
const legacyPrefix = "wxacode-"

// LegacyQueues returns the per-app queues of app used before lanes (bulk,
// high). Workers drain them when they hold tasks at start (see
// LegacyQueue).
func LegacyQueues(app string) []string {
	return []string{legacyPrefix + app, legacyPrefix + app + "-high"}
}

// LegacyQueue reports whether an asynq queue name is a per-app queue of a
// release before lanes (wxacode-APP or wxacode-APP-high, APP an appid), and
// its weight relative to the bulk lane. The lanes and the campaign feed
// queue (wxacode-feed) are not legacy queues.
func LegacyQueue(name string) (weight int, ok bool) {
	app, found := strings.CutPrefix(name, legacyPrefix)
	if !found || IsLane(name) || name == legacyPrefix+"feed" {
		return 0, false
	}
	weight = 1
	if a, high := strings.CutSuffix(app, "-high"); high {
		app, weight = a, HighWeight
	}
	if code.ValidateApp(app) != nil {
		return 0, false
	}
	return weight, true
}

// IsLane reports whether an asynq queue is one of the lanes.
func IsLane(name string) bool {
	_, ok := Lanes()[name]
	return ok
}

// PaceFactor is how much faster than its cap an app's jobs are scheduled.
// Exactly the cap: any faster and the excess piles up in the shared lane's
// pending list without end (at 1.05, 4 jobs a second of a big app capped at
// 4800/min: each waits less than MaxHold for its slot, so none is handed
// back), and every small app's jobs queue behind that pile. The limiter's
// burst absorbs a worker that falls behind for a moment.
const PaceFactor = 1.0

// Pacer reserves n consecutive slots of a rate budget's fleet-wide
// schedule (ratelimit.Limiter.Schedule implements it): the first slot's
// time and the interval between slots. The budget is a limiter key (an
// app, or a campaign's share of one); high is the high lane's schedule,
// kept apart from the bulk lane's so that urgent work does not queue
// behind bulk work. A start in the past means "due now".
type Pacer interface {
	Schedule(ctx context.Context, budget string, high bool, n int) (start time.Time, interval time.Duration, err error)
}
