package dashboard

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/browsertest"
	"github.com/wxacode/wxacode/jobs"
)

// browser starts a headless Chromium that sends the dashboard's bearer
// token with every request (the asynqmon app's own API calls included).
func browser(t *testing.T, ctx context.Context) context.Context {
	return browsertest.Start(t, ctx, map[string]any{"Authorization": "Bearer " + testBearer})
}

func shot(t *testing.T, ctx context.Context, name string) { browsertest.Screenshot(t, ctx, name) }

type renderedField struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

// readRun reads every number the page renders for run id.
const readRun = `(() => {
  const out = {};
  document.querySelectorAll('[data-run="` + testRun + `"] [data-field]').forEach(e => {
    out[e.dataset.field] = {value: e.dataset.value || "", text: e.textContent.trim()};
  });
  const p = document.querySelector('[data-run="` + testRun + `"] progress');
  out["progress"] = {value: String(p.value), text: String(p.max)};
  return out;
})()`

func TestBrowserShowsRunningCampaign(t *testing.T) {
	b := setup(t, func(c *Config) { c.Refresh = time.Hour }) // no reload in the middle of the test
	b.seed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bctx := browser(t, ctx)

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(b.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-run="`+testRun+`"] [data-field="stored"]`))))
	got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]renderedField](readRun))
	require.NoError(t, err)
	want := ledgerRun(t, b, testRun)
	r, c, err := b.runs.Get(ctx, testRun)
	require.NoError(t, err)
	require.Equal(t, "running", r.State, "the campaign is in progress")
	require.Less(t, c.Finished(), r.Total)
	for field, n := range want {
		require.Equal(t, strconv.FormatInt(n, 10), got[field].Value, field)
		require.Equal(t, formatNum(n), got[field].Text, field)
	}
	require.Equal(t, renderedField{Value: strconv.FormatInt(c.Finished(), 10), Text: strconv.FormatInt(r.Total, 10)}, got["progress"])
	require.Equal(t, "80.0%", got["percent"].Text)
	require.Equal(t, "running", got["state"].Text)
	shot(t, bctx, "dashboard.png")

	// asynqmon is a JavaScript app: wait until it has fetched and drawn the queues.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(b.web.URL+"/asynq/")))
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.body.innerText.includes("`+jobs.LaneBulk+`")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second)))
	require.NoError(t, err, "asynqmon did not show the queue")
	shot(t, bctx, "asynq.png")
}
