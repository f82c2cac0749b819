package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed schedule.lua
var scheduleSource string

var scheduleScript = redis.NewScript(scheduleSource)

// ScheduleKey is the Redis key of a budget's schedule cursor: when its next
// free slot is, in Redis microseconds; high is the high lane's cursor. It
// shares the budget's hash tag (and Cluster slot) with the cap it reads.
func ScheduleKey(prefix, budget string, high bool) string {
	base := Keys(prefix, budget)[0]
	base = base[:len(base)-len(keyState)]
	if high {
		return base + "next-high"
	}
	return base + "next"
}

// Schedule reserves n consecutive slots of the budget's fleet-wide
// schedule, in one script: the first slot is max(now, the cursor), the
// cursor moves n intervals on, and an interval is a minute over the
// budget's cap (SetCap, else DefaultPerMinute) times factor (jobs.PaceFactor
// for producers). It returns the first slot in this machine's clock (a slot
// in the past is due now) and the interval. Producers give each job its
// slot as asynq ProcessAt, so that due work arrives at about the cap; the
// limiter (Wait, Take) still enforces it. On a Redis error nothing is
// reserved.
func (l *Limiter) Schedule(ctx context.Context, budget string, high bool, n int, factor float64) (time.Time, time.Duration, error) {
	if err := validApp(budget); err != nil {
		return time.Time{}, 0, err
	}
	if n <= 0 || factor <= 0 {
		return time.Time{}, 0, fmt.Errorf("ratelimit: schedule %d slots at factor %v: want both positive", n, factor)
	}
	keys := []string{ScheduleKey(l.cfg.KeyPrefix, budget, high), CapKey(l.cfg.KeyPrefix, budget)}
	v, err := scheduleScript.Run(ctx, l.rdb, keys, n, l.cfg.DefaultPerMinute, factor, l.scriptNow()).Int64Slice()
	if err != nil {
		return time.Time{}, 0, redisErr("schedule", budget, err)
	}
	first, iv, now := v[0], v[1], v[2]
	return l.now().Add(time.Duration(first-now) * time.Microsecond), time.Duration(iv) * time.Microsecond, nil
}
