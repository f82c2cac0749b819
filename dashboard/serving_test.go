package dashboard

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
)

// An app with queued jobs and no live worker is flagged on the page and in
// the API; a worker's heartbeat clears the flag.
func TestUnservedApp(t *testing.T) {
	var sv *jobs.Serving
	b := setup(t, func(c *Config) {
		sv = jobs.NewServing(c.Redis, "")
		c.LiveWorkers = sv.Live
	})
	b.seed(t) // two jobs in the app's queue
	var apps struct{ Apps []AppStatus }
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Len(t, apps.Apps, 1)
	require.True(t, apps.Apps[0].Unserved)
	require.EqualValues(t, 0, *apps.Apps[0].LiveWorkers)
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, `data-field="unserved">no live worker serves it`)

	require.NoError(t, sv.Beat(context.Background(), "w1", []string{testApp}))
	apps.Apps = nil
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.False(t, apps.Apps[0].Unserved)
	require.EqualValues(t, 1, *apps.Apps[0].LiveWorkers)
	_, page = b.do(t, http.MethodGet, "/", authed)
	require.NotContains(t, page, "no live worker")
}

// A worker that holds its store publishes it in its heartbeat: the API and
// the page show the hold with its cause; once lifted it is gone.
func TestStoreHoldShown(t *testing.T) {
	var sv *jobs.Serving
	b := setup(t, func(c *Config) {
		sv = jobs.NewServing(c.Redis, "")
		c.Workers = sv.Workers
	})
	ctx := context.Background()
	since := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	const cause = "bucket does not exist (HeadBucket: HTTP 404 NotFound)"
	require.NoError(t, sv.Beat(ctx, "host:1:abc", []string{"wxdash"}))
	require.NoError(t, sv.Beat(ctx, "host:2:def", []string{"wxdash"}))
	require.NoError(t, sv.Publish(ctx, jobs.WorkerState{ID: "host:1:abc", StoreHeld: cause, StoreHeldSince: since}))
	require.NoError(t, sv.Publish(ctx, jobs.WorkerState{ID: "host:2:def"}))
	var apps struct {
		StoreHolds []StoreHold `json:"store_holds"`
	}
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Equal(t, []StoreHold{{Worker: "host:1:abc", Cause: cause, Since: since}}, apps.StoreHolds)
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, `data-field="store-held"><strong>Store held</strong> by worker <code>host:1:abc</code>`)
	require.Contains(t, page, cause)

	require.NoError(t, sv.Publish(ctx, jobs.WorkerState{ID: "host:1:abc"}))
	apps.StoreHolds = nil
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Empty(t, apps.StoreHolds)
	_, page = b.do(t, http.MethodGet, "/", authed)
	require.NotContains(t, page, "Store held")
}
