package worker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

// slowDownPuts answers every PUT of a code (not the probe) with 503
// SlowDown: a store that is overloaded, not misconfigured.
func slowDownPuts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			next.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
	})
}

// Parked bytes are counted per app; at the cap a job that would call
// WeChat is handed back first; an image parked again is not counted
// twice; storing a parked image subtracts it, and the counter carries the
// park's TTL.
func TestParkedBytesCap(t *testing.T) {
	var on atomic.Bool
	r := setupS3(t, Config{MaxAttempts: 3, StoreAttempts: 1, ParkMaxBytes: 1}, nil, switchable(&on, slowDownPuts))
	_, err := r.store.(*storage.S3Store).Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("codes")})
	require.NoError(t, err)
	on.Store(true)
	ctx := context.Background()
	rdb := r.h.deps.Redis
	key := ParkedBytesKey(testApp)
	var y *YieldError

	err = r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "k1"}}))
	require.ErrorAs(t, err, &y, "storage unavailable: handed back: %v", err)
	n, err := rdb.Get(ctx, key).Int64()
	require.NoError(t, err)
	id := jobs.Job{App: testApp, Params: code.Params{Scene: "k1"}}.TaskID()
	size, err := rdb.StrLen(ctx, r.h.parkKey(id)).Result()
	require.NoError(t, err)
	require.Equal(t, size, n, "the parked image's bytes are counted")
	ttl, err := rdb.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, r.h.cfg.ParkTTL/2, "the counter expires with the park")

	err = r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "k2"}}))
	require.ErrorAs(t, err, &y)
	require.False(t, IsFailure(err))
	require.Contains(t, y.Reason, "parked images of app "+testApp+" at their cap")
	require.EqualValues(t, 1, r.fake.Stats().Calls[testApp], "no WeChat call beyond the cap")
	require.Equal(t, 1, r.logs.Count("parked images at their cap"))

	// k1 comes back, the store still refuses: parked again, counted once.
	err = r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "k1"}}))
	require.ErrorAs(t, err, &y)
	require.EqualValues(t, 1, r.fake.Stats().Calls[testApp], "the parked image was used")
	again, err := rdb.Get(ctx, key).Int64()
	require.NoError(t, err)
	require.Equal(t, n, again)

	on.Store(false)
	require.NoError(t, r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "k1"}})))
	_, err = rdb.Get(ctx, key).Result()
	require.ErrorIs(t, err, redis.Nil, "storing the parked image emptied the count")
	require.NoError(t, r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "k2"}})))
	require.EqualValues(t, 2, r.fake.Stats().Calls[testApp])
	require.EqualValues(t, 2, r.totals(t)[string(jobs.StatusStored)])
	require.Zero(t, r.totals(t)[string(jobs.StatusFailed)])
}

func TestParkMaxBytesDefault(t *testing.T) {
	require.EqualValues(t, 256<<20, DefaultConfig().ParkMaxBytes)
	require.EqualValues(t, -1, Config{ParkMaxBytes: -1}.withDefaults().ParkMaxBytes, "negative: no cap")
}
