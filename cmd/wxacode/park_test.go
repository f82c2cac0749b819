package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

// overloaded answers every PUT with 503 SlowDown while on is set: a store
// that fails transiently, so that images fetched are parked.
func overloaded(on *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !on.Load() || r.Method != http.MethodPut {
				next.ServeHTTP(w, r)
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		})
	}
}

// parkedBytes is what the app's parked images really take in Redis (a
// SCAN, fine in a test) and the worker's counter of them.
func parkedBytes(t *testing.T, rdb redis.UniversalClient) (real, counted, largest int64) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "wxacode:parked:{*", 100).Iterator() // not the marker parked:any
	for iter.Next(ctx) {
		n, err := rdb.StrLen(ctx, iter.Val()).Result()
		require.NoError(t, err)
		real, largest = real+n, max(largest, n)
	}
	require.NoError(t, iter.Err())
	counted, err := rdb.Get(ctx, worker.ParkedBytesKey(e2eApp)).Int64()
	if err != redis.Nil {
		require.NoError(t, err)
	}
	return real, counted, largest
}

// A store that keeps failing transiently fills the park up to its cap and
// no further: then interface B is not called any more and no job fails;
// once the store heals every code is stored, with one call each, and the
// park is empty.
func TestParkedBytesCapStopsCalls(t *testing.T) {
	var failing atomic.Bool
	w, _ := smallWorld(t, wechattest.Options{}, overloaded(&failing))
	rdb := w.rs.Client(t)
	const capBytes = 100 << 10 // the fake's images are about 45 KB: the third one parked passes the cap
	p := w.start("worker", "--check-quota=false", "--concurrency", "1", "--park-max-bytes", "100KiB", "--log-level", "info")
	p.waitFor("worker started", 60*time.Second)
	failing.Store(true)

	const n = 20
	in := filepath.Join(w.dir, "many.txt")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "pk%d\n", i)
	}
	require.NoError(t, os.WriteFile(in, []byte(b.String()), 0o600))
	w.ok("enqueue", "--app", e2eApp, "--page", "pages/coupon/index", in)
	p.waitFor("parked images at their cap", 2*time.Minute)

	var most, image int64
	calls := codeCalls(w.fake)
	for range 15 { // jobs keep coming round (handed back every 10-30 s)
		time.Sleep(time.Second)
		real, counted, largest := parkedBytes(t, rdb)
		most, image = max(most, real), max(image, largest)
		require.Equal(t, real, counted, "the counter matches the parked images (nothing is parked or dropped now)")
		require.LessOrEqual(t, real, int64(capBytes)+image, "parked bytes stay within cap + one image")
	}
	require.Equal(t, calls, codeCalls(w.fake), "no interface B call once the park is full")
	require.Less(t, calls, int64(n), "the cap stopped the calls before every job was fetched")
	tot := ledgerTotals(t, context.Background(), w.rs)
	require.Zero(t, tot["failed"], "no job failed")
	require.Zero(t, tot["stored"])
	t.Logf("store failing: fake calls %d of %d jobs, parked %d bytes (cap %d, largest image %d), ledger %v", calls, n, most, capBytes, image, tot)

	failing.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	waitAllDone(t, ctx, w.rs, n)
	tot = ledgerTotals(t, ctx, w.rs)
	t.Logf("store healed: fake calls %d, ledger %v", codeCalls(w.fake), tot)
	require.EqualValues(t, n, tot["stored"])
	require.EqualValues(t, n, codeCalls(w.fake), "one interface B call per code: parked images were stored without another")
	real, counted, _ := parkedBytes(t, rdb)
	require.Zero(t, real, "the park is empty")
	require.Zero(t, counted, "and so is its counter")
	p.stop(time.Minute)
}
