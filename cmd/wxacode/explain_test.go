package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	rs, fake := smallWorld(t)
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"enqueue", "--app", e2eApp, writeE2EInput(t, scenes, bad)}, &out, &out), out.String())
	stop := startE2EWorkers(t, ctx, 1, io.Discard)
	waitAllDone(t, ctx, rs, scenes)
	stop()
	calls := fake.Stats().Calls[e2eApp]

	out.Reset()
	require.NoError(t, run(ctx, []string{"quota", "--app", e2eApp, "--set-cap", "0.5"}, &out, &out))
	require.Contains(t, out.String(), fmt.Sprintf("today: used %d of", calls))
	require.Regexp(t, `rate limit: \d+ calls per \d+ s \(5000/min\)`, out.String())
	require.Contains(t, out.String(), "cap set to 2500/min")
	st, err := ratelimit.New(rs.Client(t), ratelimit.Config{}).State(ctx, e2eApp)
	require.NoError(t, err)
	require.Equal(t, 2500, st.CapPerMinute)

	fails, err := jobs.NewLedger(rs.Client(t), "").Failures(ctx, e2eApp, 10)
	require.NoError(t, err)
	require.Len(t, fails, bad)
	f := fails[0]
	require.NotEmpty(t, f.RID)
	out.Reset()
	require.NoError(t, run(ctx, []string{"rid", "--app", e2eApp, f.RID}, &out, &out))
	require.Contains(t, out.String(), "rid "+f.RID)
	require.Contains(t, out.String(), "41030")
	require.NotContains(t, out.String(), wechattest.TokenPrefix)
	require.ErrorContains(t, run(ctx, []string{"rid", "--app", e2eApp, "no-such-rid"}, &out, &out), "errcode")

	out.Reset()
	require.NoError(t, run(ctx, []string{"explain", "--app", e2eApp, "--page", "pages/missing/index", "--lookup-rid", f.Scene}, &out, &out))
	s := out.String()
	require.Contains(t, s, "ledger: failed after 1 tries")
	require.Contains(t, s, "errcode 41030")
	require.Contains(t, s, "action: Publish the page")
	require.Contains(t, s, "rid "+f.RID)
	require.Contains(t, s, "asynq: archived in wxacode-"+e2eApp)
	require.Contains(t, s, "object: not stored")
	require.NotContains(t, s, wechattest.TokenPrefix)
	require.NotContains(t, s, e2eSecret)

	out.Reset()
	require.NoError(t, run(ctx, []string{"explain", "--app", e2eApp, "--page", "pages/coupon/index", "c=1&u=7"}, &out, &out))
	require.Contains(t, out.String(), "ledger: stored")
	require.Regexp(t, regexp.MustCompile(`object: stored, \d+ bytes, .*holds this code`), out.String())

	out.Reset()
	require.NoError(t, run(ctx, []string{"explain", "--app", e2eApp, "--page", "pages/coupon/index", "never-enqueued"}, &out, &out))
	require.Contains(t, out.String(), "ledger: no outcome recorded")
	require.Contains(t, out.String(), "object: not stored")
}
