package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/browsertest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestDashboardBrowserRealCampaign drives Debian's headless Chromium
// against `wxacode dashboard` while a real campaign runs through a real
// worker: the numbers the page renders for the run lie between the
// ledger's counts read just before and just after the page was rendered,
// and the asynq dashboard shows the app's queue. Screenshots go to
// $WXACODE_SCREENSHOT_DIR (or a temporary directory).
func TestDashboardBrowserRealCampaign(t *testing.T) {
	const token = "browser-token-0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxB", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 900,
		"campaigns:\n  - name: slow\n    app: wxB\n    page: pages/ok\n    window: 500\n    source:\n      generator:\n        pattern: s{n}\n        from: 1\n        to: 3000\n")
	id := rig.start(t, ctx, "slow")
	stop := rig.startWorker(t)
	defer stop()
	st := runs.NewStore(rig.rs.Client(t), "")
	waitRun(t, ctx, st, id, func(c runs.Counts) bool { return c.Stored >= 20 })

	rig.set("WXACODE_DASHBOARD_TOKEN", token)
	dash := rig.world.start("dashboard", "--listen", "127.0.0.1:0")
	defer dash.stop(30 * time.Second)
	base := "http://" + dash.waitFor(`dashboard on http://(\S+)/`, 30*time.Second)

	bctx := browsertest.Start(t, ctx, map[string]any{"Authorization": "Bearer " + token})
	_, before, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-run="`+id+`"] [data-field="stored"]`))))
	got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](`(() => {
		const out = {};
		document.querySelectorAll('[data-run="`+id+`"] [data-field]').forEach(e => { out[e.dataset.field] = e.dataset.value || e.textContent.trim(); });
		return out;
	})()`))
	require.NoError(t, err)
	r, after, err := st.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, runs.StateRunning, r.State, "the campaign is still running")
	between := func(field string, lo, hi int64) {
		n, err := strconv.ParseInt(got[field], 10, 64)
		require.NoError(t, err, "%s = %q", field, got[field])
		require.True(t, lo <= n && n <= hi, "%s: page shows %d, ledger had %d then %d", field, n, lo, hi)
	}
	require.Equal(t, "3000", got["total"])
	between("stored", before.Stored, after.Stored)
	between("fed", before.Fed, after.Fed)
	between("failed", before.Failed, after.Failed)
	require.Less(t, after.Finished(), int64(3000))
	browsertest.Screenshot(t, bctx, "dashboard-campaign.png")

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+"/asynq/")))
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.body.innerText.includes("`+jobs.LaneBulk+`")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	require.NoError(t, err, "asynqmon did not show the app's queue")
	browsertest.Screenshot(t, bctx, "asynq-campaign.png")
}
