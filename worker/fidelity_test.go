package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
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
		require.Contains(t, y.Reason, "daily quota")
	}
	fh := b.fleetHold(t, apphold.CauseTokenQuota, 45009)
	require.WithinDuration(t, time.Now().Add(b.h.cfg.ConfigHold), fh.Until, 5*time.Second)
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

// Every interface B call takes a limiter slot, the retry after a token
// error included: all tokens are revoked while 25 calls are in flight (the
// fake checks a token on arrival: every call sent after the revocation and
// before the first 40001 comes back is rejected), with the fleet's cap 10
// calls under WeChat's limit (50 per 3 s window, the limiter's burst of 5 on
// top, against the fake's 60), and no call gets 45009. Before, the 25
// retries went out at once outside the limiter.
func TestTokenRetryTakesALimiterSlot(t *testing.T) {
	// More callers than the cap lets run: the limiter, not the callers, sets
	// the pace, and 1000/min × 1.5 s keeps 25 calls in flight.
	const window, latency, limit, inFlight, callers = 3 * time.Second, 1500 * time.Millisecond, 60, 25, 100
	rdb := redistest.Start(t).Client(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{testApp: testSecret},
		RateLimit: limit, RateWindow: window, LatencyMedian: latency})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: testApp, Secret: testSecret, Client: client, Redis: rdb})
	require.NoError(t, err)
	lim := ratelimit.New(rdb, ratelimit.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	capPerMin := int((limit - 10) * time.Minute / window) // 1000/min: 50 per window
	require.NoError(t, lim.SetCap(ctx, testApp, capPerMin, false))
	turn := Turn{Client: client, Limiter: lim}
	wait := func(ctx context.Context) error { _, err := lim.Wait(ctx, testApp); return err }

	var wg sync.WaitGroup
	var stored atomic.Int64
	for g := range callers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				img, err := turn.Call(ctx, wait, testApp, ts, code.Params{Scene: fmt.Sprintf("g%dc%d", g, i)})
				if err == nil && img != nil {
					stored.Add(1)
				}
			}
		})
	}
	time.Sleep(latency + time.Second) // past the first calls: 25 in flight
	fake.RevokeTokens(testApp)
	// The rejections come back after one latency; their retries and the
	// calls after them then share one window.
	time.Sleep(latency + window + time.Second)
	cancel()
	wg.Wait()
	st := fake.Stats()
	t.Logf("B calls %d, 40001 %d, 45009 %d, most in 60 s %d, images %d",
		st.Endpoints["/wxa/getwxacodeunlimit"], st.Errcodes[40001], st.Errcodes[45009], st.MaxWindowCalls[testApp], stored.Load())
	require.GreaterOrEqual(t, st.Errcodes[40001], int64(inFlight-5), "the revocation hit the calls in flight")
	require.Zero(t, st.Errcodes[45009], "no call over WeChat's limit")
	require.Positive(t, stored.Load())
}

// freshTokens hands out a new well-formed token on every call, none of
// which the fake knows.
type freshTokens struct{ n atomic.Int32 }

func (f *freshTokens) Token(context.Context) (string, error) {
	return fmt.Sprintf("%s%048d", wechattest.TokenPrefix, f.n.Add(1)), nil
}
func (f *freshTokens) Invalidate(context.Context, string) error { return nil }

// A 40001 for the token fetched right after a 40001 holds the app with an
// alert: no transient retries (each two B calls and an invalidation), no
// failed job, and the next job calls nothing.
func TestFreshTokenRejectedHoldsApp(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	logs := b.captureLog()
	b.h.apps = StaticApps{{AppID: testApp, Tokens: &freshTokens{}}}
	var y *YieldError
	err := b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "t1"}}))
	require.ErrorAs(t, err, &y, "paused, not retried: %v", err)
	require.Less(t, y.After, time.Minute, "one rejection may be two rotations close together: a short pause")
	require.EqualValues(t, 2, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"], "one call and one retry")
	require.Contains(t, logs.String(), `level=WARN msg="WeChat rejected a freshly fetched token`)
	err = b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "t2"}}))
	require.ErrorAs(t, err, &y)
	require.EqualValues(t, 2, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"], "paused: no call")
	b.h.mu.Lock()
	delete(b.h.held, testApp) // the pause is over
	b.h.mu.Unlock()
	err = b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "t2"}}))
	require.ErrorAs(t, err, &y, "rejected again: held: %v", err)
	fh := b.fleetHold(t, apphold.CauseTokenRejected, 40001)
	require.WithinDuration(t, time.Now().Add(b.h.cfg.ConfigHold), fh.Until, 5*time.Second)
	require.EqualValues(t, 4, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"])
	err = b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "t3"}}))
	require.ErrorAs(t, err, &y)
	require.EqualValues(t, 4, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"], "held: no call")
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Zero(t, tot["failed"])
	require.Contains(t, logs.String(), `level=ERROR msg="ALERT: WeChat rejected a freshly fetched token again`)
	require.NotContains(t, logs.String(), wechattest.TokenPrefix, "no token in the log")
}

// rotatingTokens hands out, on alternate calls, a new token and the one
// fresh token every job gets after its rejection: several jobs in flight
// during a second rotation, all holding the same fresh token.
type rotatingTokens struct{ n atomic.Int32 }

func (f *rotatingTokens) Token(context.Context) (string, error) {
	n := f.n.Add(1)
	if n%2 == 0 {
		return fmt.Sprintf("%s%048d", wechattest.TokenPrefix, 0), nil
	}
	return fmt.Sprintf("%s%048d", wechattest.TokenPrefix, n), nil
}
func (f *rotatingTokens) Invalidate(context.Context, string) error { return nil }

// The same fresh token rejected for two jobs (both in flight when WeChat
// rotated the token again) is one event: a pause, no fleet hold. Another
// fresh token rejected after it holds the app.
func TestSameFreshTokenRejectedTwiceOnlyPauses(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.h.apps = StaticApps{{AppID: testApp, Tokens: &rotatingTokens{}}}
	var y *YieldError
	for _, scene := range []string{"r1", "r2"} {
		require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: scene}})), &y)
		require.Less(t, y.After, time.Minute, "%s: a short pause", scene)
		b.h.mu.Lock()
		delete(b.h.held, testApp) // the next job was in flight before the pause
		b.h.mu.Unlock()
	}
	holds, err := b.h.holds.List(ctx)
	require.NoError(t, err)
	require.Empty(t, holds, "one fresh token rejected: no fleet hold")
	require.EqualValues(t, 4, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"])

	b.h.apps = StaticApps{{AppID: testApp, Tokens: &freshTokens{}}}
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "r3"}})), &y)
	b.fleetHold(t, apphold.CauseTokenRejected, 40001)
}

// An external token (a Redis key another system maintains) that WeChat
// rejects is not sent again: the app is held until the key holds another
// token, then released.
func TestRejectedExternalTokenHoldsUntilReplaced(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	logs := b.captureLog()
	rdb := b.h.deps.Redis
	const key = "platform:token:" + testApp
	b.h.apps = StaticApps{{AppID: testApp, Tokens: wechat.NewRedisKeyTokenSource(rdb, key)}}
	fetch := func() string {
		ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: testApp, Secret: testSecret, Client: b.h.deps.Client})
		require.NoError(t, err)
		tok, err := ts.Token(ctx)
		require.NoError(t, err)
		return tok
	}
	require.NoError(t, rdb.Set(ctx, key, fetch(), 0).Err())
	b.fake.RevokeTokens(testApp)
	calls := func() int64 { return b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"] }

	var y *YieldError
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "x1"}})), &y)
	require.EqualValues(t, 1, calls(), "the rejected token is not sent twice")
	require.Contains(t, logs.String(), `level=ERROR msg="ALERT: the token source offers the token WeChat rejected`)
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "x2"}})), &y)
	require.EqualValues(t, 1, calls(), "held")

	b.expireHold(t)
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "x3"}})), &y)
	require.EqualValues(t, 1, calls(), "still the rejected token: still held")

	require.NoError(t, rdb.Set(ctx, key, fetch(), 0).Err()) // the platform replaces it
	b.expireHold(t)
	require.NoError(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "x4"}})))
	require.Equal(t, jobs.StatusStored, b.outcome(t, "x4").Status)
	require.Contains(t, logs.String(), "app released")
}

// fleetHold is the app's hold as the fleet's registry in Redis holds it,
// read by a registry of its own (another process).
func (b bundle) fleetHold(t *testing.T, cause string, errcode int) apphold.Hold {
	t.Helper()
	list, err := apphold.New(b.h.deps.Redis, apphold.Config{}).List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1, "one hold recorded in Redis")
	fh := list[0]
	require.Equal(t, testApp, fh.App)
	require.Equal(t, cause, fh.Cause)
	require.Equal(t, errcode, fh.Code)
	require.WithinDuration(t, time.Now(), fh.Since, time.Minute)
	return fh
}

// expireHold makes the app's hold due for its next check now.
func (b bundle) expireHold(t *testing.T) {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	hd, ok := b.h.held[testApp]
	require.True(t, ok, "the app is held")
	hd.until = time.Now().Add(-time.Second)
	b.h.held[testApp] = hd
}

// 89506 and 89507 hold the app as long as WeChat says (24 h, 1 h by
// default, configurable), other configuration errors for ConfigHold.
func TestIPRejectedHoldsAsLongAsWeChatSays(t *testing.T) {
	cases := []struct {
		errcode int
		cfg     func(*Config)
		want    time.Duration
	}{
		{89506, nil, 24 * time.Hour},
		{89507, nil, time.Hour},
		{40164, nil, 5 * time.Minute},
		{89507, func(c *Config) { c.IPRejectedHourHold = 2 * time.Hour }, 2 * time.Hour},
		{89506, func(c *Config) { c.IPRejectedDayHold = 25 * time.Hour }, 25 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.errcode, " ", tc.want), func(t *testing.T) {
			b := setup(t)
			if tc.cfg != nil {
				tc.cfg(&b.h.cfg)
			}
			b.fake.Update(func(o *wechattest.Options) { o.TokenErrors = map[string]int{testApp: tc.errcode} })
			var y *YieldError
			require.ErrorAs(t, b.h.ProcessTask(context.Background(), task(t, jobs.Job{Params: code.Params{Scene: "ip"}})), &y)
			require.LessOrEqual(t, y.After, 2*b.h.cfg.HeldRetry, "back within HeldRetry, to notice a release")
			cause := apphold.CauseIPRejected
			if tc.errcode == 40164 {
				cause = apphold.CauseConfig
			}
			fh := b.fleetHold(t, cause, tc.errcode)
			require.WithinDuration(t, time.Now().Add(tc.want), fh.Until, time.Minute)
		})
	}
}

// An answer about the whole account (48001, 48004, 50002, 61007) holds the
// app after the first one, with an alert: the job is handed back, not
// failed, and the next job spends no call.
func TestAccountLevelAnswerHoldsApp(t *testing.T) {
	for _, errcode := range []int{48001, 48004, 50002, 61007} {
		t.Run(fmt.Sprint(errcode), func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			logs := b.captureLog()
			b.fake.Update(func(o *wechattest.Options) { o.CodeErrors = map[string]int{testApp: errcode} })
			var y *YieldError
			for _, s := range []string{"a1", "a2", "a3"} {
				require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: s}})), &y)
			}
			fh := b.fleetHold(t, apphold.CauseAccount, errcode)
			require.True(t, fh.Until.IsZero(), "held until released")
			require.EqualValues(t, 1, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"], "one call, then held")
			tot, err := b.ledger.Totals(ctx, testApp)
			require.NoError(t, err)
			require.Zero(t, tot["failed"], "no job dead-lettered for the account")
			require.Contains(t, logs.String(), `level=ERROR msg="ALERT: WeChat refuses interface B for the whole account`)
			require.Contains(t, logs.String(), fmt.Sprint("errcode ", errcode))
		})
	}
}
