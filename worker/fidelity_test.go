package worker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// captureLog sends the handler's log to a buffer the test reads.
func (b bundle) captureLog() *syncbuf.Buffer {
	buf := &syncbuf.Buffer{}
	b.h.log = slog.New(slog.NewTextHandler(buf, nil))
	return buf
}

// A 45009 from stable_token is the token endpoint's daily quota: the app is
// held with an alert; interface B is not cooled down, its rate not lowered,
// no job fails and no token refetch storm follows.
func TestTokenEndpoint45009HoldsAppWithoutBCooldown(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	logs := b.captureLog()
	b.fake.Update(func(o *wechattest.Options) { o.TokenErrors = map[string]int{testApp: 45009} })
	before, err := b.h.deps.Limiter.State(ctx, testApp)
	require.NoError(t, err)
	for _, s := range []string{"q1", "q2", "q3"} {
		err := b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: s}}))
		var y *YieldError
		require.ErrorAs(t, err, &y, "handed back, not failed: %v", err)
		require.GreaterOrEqual(t, y.After, b.h.cfg.ConfigHold-time.Second)
		require.Contains(t, y.Reason, "daily quota")
	}
	st, err := b.h.deps.Limiter.State(ctx, testApp)
	require.NoError(t, err)
	require.False(t, st.InCooldown(), "no cooldown of interface B")
	require.Zero(t, st.RateLimitedTotal, "no rate-limit report")
	require.Equal(t, before.EffectivePerMinute, st.EffectivePerMinute, "B's rate is not lowered")
	stats := b.fake.Stats()
	require.Zero(t, stats.Endpoints["/wxa/getwxacodeunlimit"], "no B call")
	require.EqualValues(t, 1, stats.TokenFetches["/cgi-bin/stable_token"], "held: one fetch, no storm")
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Zero(t, tot["failed"])
	require.Contains(t, logs.String(), "level=ERROR msg=\"ALERT: the token endpoint's daily quota is spent")
	require.Contains(t, logs.String(), "app held")
}
