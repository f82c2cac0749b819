package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

type appsAnswer struct {
	Apps     []AppStatus
	AppsPage AppsPage `json:"apps_page"`
}

// idleApps returns n configured appids without work.
func idleApps(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("wxp%05d", i)
	}
	return out
}

// The API pages and searches apps; apps with work come first, idle ones
// are listed by name only.
func TestAppsPagingAndSearch(t *testing.T) {
	b := setup(t, func(c *Config) { c.Apps = append(c.Apps, idleApps(120)...) })
	ctx := context.Background()
	for _, app := range []string{"wxp00117", "wxp00042"} {
		require.NoError(t, b.led.AddEnqueued(ctx, app, 5))
	}
	var a appsAnswer
	b.getJSON(t, "/api/apps?per_page=50", http.StatusOK, &a)
	require.Equal(t, AppsPage{Page: 1, PerPage: 50, Total: 121, Busy: 2, Pages: 3}, a.AppsPage)
	require.Len(t, a.Apps, 50)
	require.Equal(t, []string{"wxp00042", "wxp00117"}, []string{a.Apps[0].App, a.Apps[1].App}, "apps with work first")
	require.False(t, a.Apps[0].Idle)
	require.EqualValues(t, 5, a.Apps[0].Totals.Enqueued)
	require.True(t, a.Apps[2].Idle, "an idle app is listed by name only")

	b.getJSON(t, "/api/apps?q=wxp0011&per_page=4&page=3", http.StatusOK, &a)
	require.Equal(t, AppsPage{Q: "wxp0011", Page: 3, PerPage: 4, Total: 10, Busy: 1, Pages: 3}, a.AppsPage)
	require.Equal(t, []string{"wxp00118", "wxp00119"}, []string{a.Apps[0].App, a.Apps[1].App})

	for q, want := range map[string]string{"per_page=0": "per_page", "page=x": "page", "per_page=501": "per_page"} {
		var e apiError
		b.getJSON(t, "/api/apps?"+q, http.StatusBadRequest, &e)
		require.Contains(t, e.Error, want, q)
	}

	_, page := b.do(t, http.MethodGet, "/?q=wxp00&per_page=50", authed)
	require.Contains(t, page, `<input type="search" name="q" value="wxp00"`)
	require.Contains(t, page, `data-total="120"`)
	require.Contains(t, page, `rel="next" href="?q=wxp00&amp;page=2&amp;per_page=50"`)
	require.Contains(t, page, `data-field="idle"`)
}

// A refresh's Redis commands do not grow with the number of idle apps.
func TestAppsRefreshCostIgnoresIdleApps(t *testing.T) {
	cost := func(idle int) int64 {
		b := setup(t, func(c *Config) { c.Apps = append(c.Apps, idleApps(idle)...) })
		require.NoError(t, b.led.AddEnqueued(context.Background(), testApp, 3))
		before := commandsProcessed(t, b.rdb)
		var a appsAnswer
		b.getJSON(t, "/api/apps", http.StatusOK, &a)
		require.Equal(t, idle+1, a.AppsPage.Total)
		return commandsProcessed(t, b.rdb) - before
	}
	small, large := cost(100), cost(10000)
	t.Logf("Redis commands of one /api/apps: %d with 100 idle apps, %d with 10,000", small, large)
	require.Equal(t, small, large)
}

func commandsProcessed(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	var n int64
	_, err = fmt.Sscanf(info[strings.Index(info, "total_commands_processed:"):], "total_commands_processed:%d", &n)
	require.NoError(t, err)
	return n
}
