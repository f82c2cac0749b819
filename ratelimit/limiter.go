package ratelimit

import (
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter grants calls against one fleet-wide budget per app, kept in Redis.
// Any number of Limiters in any number of processes that use the same Redis
// and KeyPrefix share the budget. A Limiter is safe for concurrent use and
// has nothing to close: the only goroutines it starts finish a Redis call
// that a cancelled caller stopped waiting for.
type Limiter struct {
	rdb redis.UniversalClient
	cfg Config

	mu   sync.Mutex
	apps map[string]*local
}

// New returns a Limiter on rdb (a *redis.Client, *redis.ClusterClient or
// failover client). It does not contact Redis: an unreachable Redis shows up
// as ErrRedisUnavailable on the first call.
func New(rdb redis.UniversalClient, cfg Config) *Limiter {
	if cfg.DefaultPerMinute > WeChatMaxPerMinute {
		cfg.withDefaults().Logger.Warn("ratelimit: DefaultPerMinute above WeChat's limit, lowered",
			"configured", cfg.DefaultPerMinute, "used", WeChatMaxPerMinute)
	}
	return &Limiter{rdb: rdb, cfg: cfg.withDefaults(), apps: map[string]*local{}}
}

func (l *Limiter) now() time.Time {
	if l.cfg.Clock != nil {
		return l.cfg.Clock()
	}
	return time.Now()
}

// app returns this process's state for app, creating it on first use.
func (l *Limiter) app(app string) (*local, error) {
	if err := validApp(app); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.apps[app]
	if !ok {
		a = newLocal(l.cfg, l.now)
		l.apps[app] = a
	}
	return a, nil
}
