package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

// switchable passes requests to mw while on is set, and straight on
// otherwise: a store whose configuration is fixed while the worker runs.
func switchable(on *atomic.Bool, mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		bad := mw(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if on.Load() {
				bad.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// A store that answers 403 AccessDenied holds the store: jobs are handed
// back as non-failures without calling WeChat (a 403 on the existence
// check), or after the one call whose image is parked (a 403 on the
// upload only); no try is recorded as a failure; a probe lifts the hold
// and the jobs are stored, the parked image without another call.
func TestStoreConfigAnswerHoldsTheStore(t *testing.T) {
	for name, c := range map[string]struct {
		method string
		calls  int64
	}{"stat": {"", 0}, "put": {http.MethodPut, 1}} {
		t.Run(name, func(t *testing.T) {
			var on atomic.Bool
			r := setupS3(t, Config{MaxAttempts: 1, StoreAttempts: 1}, nil, switchable(&on, forbid(c.method)))
			_, err := r.store.(*storage.S3Store).Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("codes")})
			require.NoError(t, err)
			on.Store(true)
			r.h.storeHold.every = 50 * time.Millisecond
			ctx := context.Background()
			var y *YieldError
			for _, scene := range []string{"p1", "p2", "p3"} {
				err := r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: scene}}))
				require.ErrorAs(t, err, &y, "handed back: %v", err)
				require.False(t, IsFailure(err))
				require.Contains(t, y.Reason, "store held: access denied")
			}
			require.Equal(t, c.calls, r.fake.Stats().Calls[testApp], "WeChat is called for no job it cannot store")
			tot := r.totals(t)
			require.Zero(t, tot[string(jobs.StatusFailed)], "no recorded failure")
			require.Equal(t, 1, r.logs.Count("store held"), "logged once:\n%s", r.logs.String())
			require.Contains(t, r.logs.String(), "s3:PutObject", "with the advice")
			held := r.storeHeldMetric(t)
			require.Len(t, held, 1, "the hold and its cause in the metrics: %v", held)
			for cause, v := range held {
				require.True(t, strings.HasPrefix(cause, "access denied"), "cause %q", cause)
				require.Equal(t, 1.0, v)
			}
			cause, since := r.h.StoreHold()
			require.Contains(t, cause, "access denied")
			require.False(t, since.IsZero())

			// Still refused: the probes keep the hold.
			waitFor(t, 10*time.Second, "two probes", func() bool { return r.logs.Count("store still held") >= 2 })
			require.NotEmpty(t, r.h.storeHold.held())
			on.Store(false)
			waitFor(t, 10*time.Second, "the hold lifted", func() bool { return r.h.storeHold.held() == "" })
			for _, scene := range []string{"p1", "p2", "p3"} {
				require.NoError(t, r.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: scene}})))
			}
			require.EqualValues(t, 3, r.totals(t)[string(jobs.StatusStored)])
			require.EqualValues(t, 3, r.fake.Stats().Calls[testApp], "one call per code: the parked image was used")
			require.Equal(t, 1, r.logs.Count("store hold lifted"))
			require.Equal(t, map[string]float64{"": 0}, r.storeHeldMetric(t), "released")
		})
	}
}

func TestIsConfigAnswer(t *testing.T) {
	perm := fmt.Errorf("storing k: %w", &fs.PathError{Op: "open", Path: "/codes/k", Err: fs.ErrPermission})
	require.True(t, storage.IsConfigAnswer(perm))
	require.False(t, storage.IsConfigAnswer(storage.ErrNotFound))
	require.False(t, storage.IsConfigAnswer(&storage.KeyError{Key: "k"}))
	require.False(t, storage.IsConfigAnswer(errors.New("something else")))
	require.False(t, storage.IsConfigAnswer(nil))
}

// storeHeldMetric is wxacode_store_held by cause.
func (r *s3Rig) storeHeldMetric(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := r.reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "wxacode_store_held" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}
