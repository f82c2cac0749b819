package ratelimit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/ratelimit"
)

// The limiter also runs on miniredis, the embedded Redis of the demo.
func Example() {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		panic(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx := context.Background()

	l := ratelimit.New(rdb, ratelimit.Config{Burst: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := l.SetCap(ctx, "wxdemo", 600, false); err != nil {
		panic(err)
	}
	for range 3 {
		ok, retryAfter, err := l.Take(ctx, "wxdemo")
		fmt.Println(ok, retryAfter > 0, err)
	}
	if _, err := l.Wait(ctx, "wxdemo"); err != nil { // about 100 ms
		panic(err)
	}
	if err := l.ReportRateLimited(ctx, "wxdemo", 45009); err != nil {
		panic(err)
	}
	// The fleet pauses for a second, then sends one probe; the rate is
	// re-estimated when WeChat accepts the probe.
	st, err := l.State(ctx, "wxdemo")
	fmt.Println(st.CapPerMinute, st.EffectivePerMinute, st.InCooldown(), st.RateLimitedTotal, st.CallsLastMinute,
		st.CooldownUntil.Sub(st.Now).Round(100*time.Millisecond), err)
	// Output:
	// true false <nil>
	// true false <nil>
	// false true <nil>
	// 600 600 true 1 3 1s <nil>
}
