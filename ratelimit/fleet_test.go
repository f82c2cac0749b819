package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// recorder collects granted slots (Redis time) from many goroutines.
type recorder struct {
	mu    sync.Mutex
	slots []time.Time
}

func (r *recorder) add(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slots = append(r.slots, t)
}

// TestFleetNeverExceedsCapPlusBurst runs three independent limiters (own
// connection pools) with 20 goroutines each, a raw-script caller standing in
// for a non-Go program, and waiters that cancel at random, all at a rate
// scaled up so that a 2.5 s run covers many windows. No window of any length
// W may hold more than cap*W/60s + burst granted slots.
func TestFleetNeverExceedsCapPlusBurst(t *testing.T) {
	for _, pacing := range []Pacing{PacingLocal, PacingRedisOnly} {
		t.Run("pacing="+strconv.Itoa(int(pacing)), func(t *testing.T) {
			const app, perMinute, burst, run = "wxfleet", 30000, 5, 2500 * time.Millisecond
			b := setup(t)
			require.NoError(t, b.limiter(Config{}).SetCap(ctxT(t), app, perMinute, true))
			ctx, cancel := context.WithTimeout(ctxT(t), run)
			defer cancel()
			var rec recorder
			var wg sync.WaitGroup
			for i := range 3 {
				l := b.limiter(Config{Burst: burst, LocalPacing: pacing})
				for range 20 {
					wg.Go(func() { waitLoop(ctx, t, l, app, &rec, i == 2) })
				}
			}
			wg.Go(func() { rawTakeLoop(ctx, t, b.client(), app, burst, &rec) })
			wg.Wait()

			interval := time.Duration((60_000_000+perMinute-1)/perMinute) * time.Microsecond
			for _, w := range []time.Duration{20 * time.Millisecond, 200 * time.Millisecond, time.Second} {
				bound := int(w/interval) + burst
				got := maxInWindow(rec.slots, w)
				t.Logf("window %v: max %d, bound %d", w, got, bound)
				require.LessOrEqual(t, got, bound, "window %v", w)
			}
			want := int(run / interval)
			t.Logf("granted %d in %v (full rate %d)", len(rec.slots), run, want)
			require.GreaterOrEqual(t, len(rec.slots), want*85/100, "throughput far below the cap")
		})
	}
}

// waitLoop calls Wait until ctx ends; with flaky set, every call has its own
// random short deadline, so many reserved slots are given back.
func waitLoop(ctx context.Context, t *testing.T, l *Limiter, app string, rec *recorder, flaky bool) {
	for ctx.Err() == nil {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if flaky {
			cctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(30))*time.Millisecond)
		}
		g, err := l.WaitGrant(cctx, app)
		cancel()
		switch {
		case err == nil:
			rec.add(g.Slot)
		case !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("Wait: %v", err)
			return
		}
	}
}

// rawTakeLoop shares the budget the way a non-Go program would: plain EVAL
// of Script() with "acquire" and horizon 0, sleeping as told when refused.
func rawTakeLoop(ctx context.Context, t *testing.T, rdb *redis.Client, app string, burst int, rec *recorder) {
	for ctx.Err() == nil {
		v, err := rdb.Eval(ctx, Script(), Keys("", app), "acquire", DefaultPerMinute, burst, 0, 0.5, 0, 60, 0).Slice()
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("raw EVAL: %v", err)
			}
			return
		}
		r, err := parseReply(v)
		if err != nil {
			t.Errorf("raw reply: %v", err)
			return
		}
		if r.granted {
			rec.add(micros(r.slot))
			continue
		}
		_ = sleep(ctx, r.wait)
	}
}
