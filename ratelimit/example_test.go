package ratelimit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

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
	// Refused after only 3 calls in the last minute: the rate drops by the
	// most one refusal may take it, to 0.49 of 600, and climbs back to the
	// cap in minutes.
	st, err := l.State(ctx, "wxdemo")
	fmt.Println(st.CapPerMinute, st.EffectivePerMinute, st.InCooldown(), st.RateLimitedTotal, st.CallsLastMinute, err)
	// Output:
	// true false <nil>
	// true false <nil>
	// false true <nil>
	// 600 294 true 1 3 <nil>
}
