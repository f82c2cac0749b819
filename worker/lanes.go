package worker

import (
	"context"
	"maps"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
)

// ForwardInterval is how often asynq moves scheduled tasks that are due
// (paced jobs, hand-backs) into the lanes' pending lists.
const ForwardInterval = time.Second

// Queues returns asynq's weighted queue map: the lanes (jobs.Lanes), the feeders'
// queue when feeding, and the legacy queues given (with their weights).
// Its size does not depend on the number of apps.
func Queues(legacy map[string]int, feeding bool) map[string]int {
	q := jobs.Lanes()
	maps.Copy(q, legacy)
	if feeding {
		q[runs.FeedQueue] = 1
	}
	return q
}

// LegacyQueues finds the per-app queues of a release before lanes
// (jobs.LegacyQueue) that still hold pending, active, scheduled or retry
// tasks, with their weights: a worker serves them too until it restarts,
// so an upgrade loses no task (their TaskIDs and retry counts are kept).
// Empty ones (archived tasks only) are left alone.
func LegacyQueues(ctx context.Context, rdb redis.UniversalClient) (map[string]int, error) {
	names, err := asynq.NewInspectorFromRedisClient(rdb).Queues()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, q := range names {
		w, ok := jobs.LegacyQueue(q)
		if !ok {
			continue
		}
		n, err := openTasks(ctx, rdb, q)
		if err != nil {
			return out, err
		}
		if n > 0 {
			out[q] = w
		}
	}
	return out, nil
}

// openTasks counts a queue's tasks that will still run, with asynq's key
// layout (asynq:{QUEUE}:pending|active|scheduled|retry), in one round trip.
func openTasks(ctx context.Context, rdb redis.UniversalClient, q string) (int64, error) {
	base := "asynq:{" + q + "}:"
	var cmds []*redis.IntCmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmds = append(cmds, p.LLen(ctx, base+"pending"), p.LLen(ctx, base+"active"),
			p.ZCard(ctx, base+"scheduled"), p.ZCard(ctx, base+"retry"))
		return nil
	})
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, err
}

// Pacer is the producers' jobs.Pacer on the fleet-wide limiter's schedule
// cursors (ratelimit.Limiter.Schedule at jobs.PaceFactor).
func Pacer(l *ratelimit.Limiter) jobs.Pacer { return pacer{l} }

type pacer struct{ l *ratelimit.Limiter }

func (p pacer) Schedule(ctx context.Context, budget string, high bool, n int) (time.Time, time.Duration, error) {
	return p.l.Schedule(ctx, budget, high, n, jobs.PaceFactor)
}
