package dashboard

import (
	"context"
	"net/http"
	"testing"

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
