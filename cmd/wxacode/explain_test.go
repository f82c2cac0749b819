package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestQuotaRIDExplain runs a few codes (some with an unpublished page)
// against the fake, then asks WeChat for the quota (and caps from it),
// looks a failure's rid up, and explains a failed and a stored scene.
func TestQuotaRIDExplain(t *testing.T) {
	const scenes, bad = 40, 4
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, _ := smallWorld(t, wechattest.Options{})
	w.ok("enqueue", "--app", e2eApp, writeE2EInput(t, w.dir, scenes, bad))
	ws := startE2EWorkers(w, 1)
	waitAllDone(t, ctx, w.rs, scenes)
	stopAll(ws)
	calls := w.fake.Stats().Calls[e2eApp]

	out := w.ok("quota", "--app", e2eApp, "--set-cap", "0.5")
	require.Contains(t, out, fmt.Sprintf("today: used %d of", calls))
	require.Regexp(t, `rate limit: \d+ calls per \d+ s \(5000/min\)`, out)
	require.Contains(t, out, "cap set to 2500/min")
	st, err := ratelimit.New(w.rs.Client(t), ratelimit.Config{}).State(ctx, e2eApp)
	require.NoError(t, err)
	require.Equal(t, 2500, st.CapPerMinute)
	r := w.run("quota", "--set-cap", "1.5")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `--set-cap "1.5": want a fraction from 0 to 1`)

	fails, err := jobs.NewLedger(w.rs.Client(t), "").Failures(ctx, e2eApp, 10)
	require.NoError(t, err)
	require.Len(t, fails, bad)
	f := fails[0]
	require.NotEmpty(t, f.RID)
	// The flag may come after the rid.
	out = w.ok("rid", f.RID, "--app", e2eApp)
	require.Contains(t, out, "rid "+f.RID)
	require.Contains(t, out, "41030")
	require.NotContains(t, out, wechattest.TokenPrefix)
	r = w.run("rid", "--app", e2eApp, "no-such-rid")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "errcode")

	s := w.ok("explain", "--app", e2eApp, "--page", "pages/missing/index", "--lookup-rid", f.Scene)
	require.Contains(t, s, "ledger: failed after 1 tries")
	require.Contains(t, s, "errcode 41030")
	require.Contains(t, s, "action: Publish the page")
	require.Contains(t, s, "rid "+f.RID)
	require.Contains(t, s, "asynq: archived in "+jobs.LaneBulk)
	require.Contains(t, s, "object: not stored")
	require.NotContains(t, s, wechattest.TokenPrefix)
	require.NotContains(t, s, e2eSecret)

	out = w.ok("explain", "--app", e2eApp, "--page", "pages/coupon/index", "c=1&u=7")
	require.Contains(t, out, "ledger: stored")
	require.Regexp(t, regexp.MustCompile(`object: stored, \d+ bytes, .*holds this code`), out)

	out = w.ok("explain", "never-enqueued", "--app", e2eApp, "--page", "pages/coupon/index")
	require.Contains(t, out, "ledger: no outcome recorded")
	require.Contains(t, out, "object: not stored")
}
