package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wxacode/wxacode/internal/redistest"
)

// bundle is one private redis-server and helpers to build independent
// limiters on it (each with its own connection pool, like separate processes).
type bundle struct {
	t   *testing.T
	srv *redistest.Server
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{t: t, srv: redistest.Start(t)}
}

func (b *bundle) client() *redis.Client {
	b.t.Helper()
	return b.srv.Client(b.t)
}

func (b *bundle) limiter(cfg Config) *Limiter {
	b.t.Helper()
	cfg.Logger = cmpLogger(cfg.Logger)
	return New(b.client(), cfg)
}

func cmpLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakeClock is a settable clock for Config.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// maxInWindow returns the largest number of instants in any closed window
// [t, t+w]. Such a window can always slide right to start at an instant.
func maxInWindow(ts []time.Time, w time.Duration) int {
	s := append([]time.Time(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i].Before(s[j]) })
	best, j := 0, 0
	for i := range s {
		for j < len(s) && !s[j].After(s[i].Add(w)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
