package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/storage"
)

// ledgerRun is what runs.Store says of a run, in the page's field names.
func ledgerRun(t *testing.T, b *bundle, id string) map[string]int64 {
	t.Helper()
	r, c, err := b.runs.Get(context.Background(), id)
	require.NoError(t, err)
	return map[string]int64{"total": r.Total, "fed": c.Fed, "stored": c.Stored, "skipped": c.Skipped,
		"failed": c.Failed, "in-flight": c.InFlight(), "retrying": c.Retrying}
}

func TestAPIMatchesLedger(t *testing.T) {
	b := setup(t, nil)
	b.seed(t)
	want := ledgerRun(t, b, testRun)
	require.Equal(t, map[string]int64{"total": 10, "fed": 8, "stored": 4, "skipped": 1, "failed": 3, "in-flight": 0, "retrying": 0}, want)

	var list struct{ Runs []RunStatus }
	b.getJSON(t, "/api/runs", http.StatusOK, &list)
	require.Len(t, list.Runs, 1)
	var one RunStatus
	b.getJSON(t, "/api/runs/"+testRun, http.StatusOK, &one)
	for _, rs := range []RunStatus{list.Runs[0], one} {
		got := map[string]int64{"total": rs.Total, "fed": rs.Fed, "stored": rs.Stored, "skipped": rs.Skipped,
			"failed": rs.Failed, "in-flight": rs.InFlight, "retrying": rs.Retrying}
		require.Equal(t, want, got)
		require.Equal(t, runs.StateRunning, rs.State)
		require.Equal(t, int64(8), rs.Done)
		require.InDelta(t, 80.0, rs.Percent, 1e-9)
		require.Equal(t, []CodeCount{{Code: 41030, Count: 2}, {Code: 40097, Count: 1}}, rs.FailuresByCode)
		require.Len(t, rs.LatestFailures, 3)
		require.Equal(t, int64(7), rs.LatestFailures[0].Row, "newest first")
		require.Empty(t, rs.Files, "not finished: no manifest yet")
	}

	var apps struct{ Apps []AppStatus }
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Len(t, apps.Apps, 1)
	a := apps.Apps[0]
	tot, err := b.led.Totals(context.Background(), testApp)
	require.NoError(t, err)
	require.Equal(t, Totals{Enqueued: tot["enqueued"], CampaignRows: want["fed"], Stored: tot["stored"], Skipped: tot["skipped"], Failed: tot["failed"], Open: 12}, a.Totals)
	require.Equal(t, Totals{Enqueued: 12, CampaignRows: 8, Stored: 4, Skipped: 1, Failed: 3, Open: 12}, a.Totals)
	require.Zero(t, a.Queues.Pending, "no per-app queue of an older release")
	var snap Snapshot
	b.getJSON(t, "/api/apps", http.StatusOK, &snap)
	require.Equal(t, 2, snap.Lanes.Pending, "the two seeded jobs wait in the bulk lane")
	require.Equal(t, 4800, a.CapPerMinute, "the limiter's default cap")
	require.Positive(t, a.EffectivePerMinute)
	// ETA: rows left at the app's effective rate, as `wxacode status RUN`.
	require.NotNil(t, one.ETA)
	require.InDelta(t, float64(2)/a.EffectivePerMinute*60, time.Duration(*one.ETA).Seconds(), 1e-6)

	var e apiError
	b.getJSON(t, "/api/runs/nope", http.StatusNotFound, &e)
	require.Equal(t, "no such run", e.Error)
	b.getJSON(t, "/api/nothing", http.StatusNotFound, &e)
}

func TestPageMatchesLedger(t *testing.T) {
	b := setup(t, nil)
	b.seed(t)
	resp, page := b.do(t, http.MethodGet, "/", authed)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, page, `<meta http-equiv="refresh" content="5">`)
	require.NotContains(t, page, `id="writable-banner"`)

	got := fields(t, page, `data-run="`+testRun+`"`, "</section>")
	for k, v := range ledgerRun(t, b, testRun) {
		require.Equal(t, strconv.FormatInt(v, 10), got[k], k)
	}
	require.Equal(t, "80.0", got["percent"])
	require.Equal(t, runs.StateRunning, got["state"])
	require.Contains(t, page, `data-errcode="41030" data-value="2"`)
	require.Contains(t, page, "rid-6")

	app := fields(t, page, `data-app="`+testApp+`"`, "</tr>")
	tot, err := b.led.Totals(context.Background(), testApp)
	require.NoError(t, err)
	for _, k := range []string{"enqueued", "stored", "skipped", "failed"} {
		require.Equal(t, strconv.FormatInt(tot[k], 10), app[k], k)
	}
	require.Equal(t, "12", app["open"], "12 enqueued + 8 campaign rows - 8 outcomes")
	require.Equal(t, "4800", app["cap"])
	require.Equal(t, "2", fields(t, page, `id="lanes"`, "</table>")["pending"], "the seeded jobs wait in the bulk lane")

	resp, detail := b.do(t, http.MethodGet, "/runs/"+testRun, authed)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	again := fields(t, detail, `data-run="`+testRun+`"`, "</section>")
	delete(got, "rate") // rows per minute of age: the run got older
	delete(again, "rate")
	require.Equal(t, got, again)
	resp, _ = b.do(t, http.MethodGet, "/runs/nope", authed)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestNoSecretInOutput(t *testing.T) {
	b := setup(t, func(c *Config) {
		c.TokenState = func(context.Context, string) (TokenStatus, error) {
			return TokenStatus{}, errors.New(`Get "https://api.weixin.qq.com/cgi-bin/stable_token?access_token=TOKEN-LEAK": EOF`)
		}
	})
	b.seed(t)
	for _, path := range []string{"/", "/runs/" + testRun, "/api/apps", "/api/runs", "/api/runs/" + testRun} {
		resp, body := b.do(t, http.MethodGet, path, authed)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		for _, secret := range []string{"APPSECRET-LEAK", "TOKEN-LEAK", testPass, testBearer} {
			require.NotContains(t, body, secret, path)
		}
		require.Contains(t, body, "REDACTED", path)
	}
	require.Equal(t, `https://x/?secret=REDACTED&a=1 redis://REDACTED@h:6379`, redact("https://x/?secret=s3&a=1 redis://u:p@h:6379"))
}

func TestTokenStateAndCooldown(t *testing.T) {
	b := setup(t, func(c *Config) {
		c.TokenState = func(_ context.Context, app string) (TokenStatus, error) {
			return TokenStatus{Cached: true, ExpiresIn: 90 * time.Minute}, nil
		}
	})
	var apps struct{ Apps []AppStatus }
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Len(t, apps.Apps, 1, "the configured app shows before it has any data")
	require.Equal(t, &TokenStatus{Cached: true, ExpiresIn: 90 * time.Minute}, apps.Apps[0].Token)
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, "cached, 1h30m0s left")
}

func TestFinishedRunLinksFiles(t *testing.T) {
	store, err := storage.OpenLocal(t.TempDir())
	require.NoError(t, err)
	b := setup(t, func(c *Config) { c.Store = store })
	ctx := context.Background()
	require.NoError(t, b.runs.Create(ctx, runs.Run{ID: "done1", App: testApp, Total: 1, State: runs.StateRunning, Created: time.Now()}))
	_, err = b.runs.Record(ctx, "done1", 0, jobs.StatusStored, nil, nil)
	require.NoError(t, err)
	require.NoError(t, b.runs.Update(ctx, "done1", func(r *runs.Run) {
		r.State, r.Finished, r.ManifestParts, r.Manifest = runs.StateDone, time.Now(), 2, store.URL(runs.ManifestKey("done1", 0))
	}))
	var rs RunStatus
	b.getJSON(t, "/api/runs/done1", http.StatusOK, &rs)
	require.Nil(t, rs.ETA, "a finished run has no ETA")
	require.InDelta(t, 100.0, rs.Percent, 1e-9)
	require.Equal(t, []File{
		{Name: "failures", Key: "_runs/done1/failures.jsonl", URL: store.URL("_runs/done1/failures.jsonl")},
		{Name: "manifest part 0", Key: runs.ManifestKey("done1", 0), URL: store.URL(runs.ManifestKey("done1", 0))},
		{Name: "manifest part 1", Key: runs.ManifestKey("done1", 1), URL: store.URL(runs.ManifestKey("done1", 1))},
	}, rs.Files)
	_, page := b.do(t, http.MethodGet, "/runs/done1", authed)
	require.Contains(t, page, store.URL(runs.ManifestKey("done1", 1)))
}

// failingStore is a storage.Store whose Ping fails.
type failingStore struct{ storage.Store }

func (failingStore) Ping(context.Context) error { return errors.New("bucket gone") }
func (failingStore) URL(k string) string        { return "s3://b/" + k }

func TestReadyz(t *testing.T) {
	b := setup(t, func(c *Config) { c.Store = failingStore{} })
	resp, body := b.do(t, http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "storage: bucket gone\n", body)

	b.redis.Stop()
	resp, body = b.do(t, http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, body, "redis: ")
	require.Contains(t, body, "storage: bucket gone")
	resp, _ = b.do(t, http.MethodGet, "/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "liveness does not depend on Redis")
	resp, body = b.do(t, http.MethodGet, "/api/runs", authed)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	require.Contains(t, body, `"error"`)
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4800: "-4,800"} {
		require.Equal(t, want, formatNum(in))
	}
	for in, want := range map[float64]string{4800: "4,800", 3.96: "4", 0.25: "0.3", 2400.5: "2,400.5", 0: "0"} {
		require.Equal(t, want, formatRate(in), in)
	}
	require.Equal(t, "under 1s", Seconds(25*time.Millisecond).String())
	require.Equal(t, "1m30s", Seconds(90*time.Second+200*time.Millisecond).String())
}

// The page and the API show each app's interface A+C codes sent, ever.
func TestACUsedShown(t *testing.T) {
	b := setup(t, func(c *Config) {
		c.ACUsed = func(_ context.Context, app string) (int, error) { return 1234, nil }
	})
	var apps struct{ Apps []AppStatus }
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Len(t, apps.Apps, 1)
	require.NotNil(t, apps.Apps[0].ACUsed)
	require.Equal(t, 1234, *apps.Apps[0].ACUsed)
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, `data-field="ac-used" data-value="1234"`)
}
