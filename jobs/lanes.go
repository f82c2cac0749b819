package jobs

import (
	"context"
	"strings"
	"time"

	"github.com/wxacode/wxacode/code"
)

// Lanes: every scene job of every app goes to one of two shared asynq
// queues, so that what workers poll is a constant set of queues whatever
// the number of apps (asynq polls every queue it serves, empty or not).
// Fairness between apps comes from pacing instead (Pacer): producers give
// each job a ProcessAt from its app's fleet-wide schedule, so that a lane's
// pending list holds only work that is due, a few seconds of each app's
// cap, and a small app's codes never wait behind a big app's backlog.
const (
	// LaneBulk is the lane of ordinary jobs.
	LaneBulk = "wxacode-bulk"
	// LaneHigh is the lane of high-priority jobs (--priority high, urgent
	// campaigns).
	LaneHigh = "wxacode-high"
)

// HighWeight is how much more often a worker takes from the high lane than
// from the bulk lane.
const HighWeight = 10

// Lanes returns asynq's weighted queue map of the two lanes.
func Lanes() map[string]int { return map[string]int{LaneBulk: 1, LaneHigh: HighWeight} }

// QueueOf is the lane a job goes to.
func (j Job) QueueOf() string {
	if j.High {
		return LaneHigh
	}
	return LaneBulk
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
	if !found || name == LaneBulk || name == LaneHigh || name == legacyPrefix+"feed" {
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
