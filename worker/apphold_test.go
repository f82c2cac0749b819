package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// An account-level answer seen by one process holds the app in every
// process sharing the Redis (within the registry's refresh), alerts once,
// outlives the process that saw it (a new handler starts held), and an
// operator's release lets every process generate again.
func TestAccountHoldIsFleetWideAndReleased(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	logs := b.captureLog()
	reg := func() *apphold.Registry {
		return apphold.New(b.h.deps.Redis, apphold.Config{Key: "wxacode:holds", Refresh: 20 * time.Millisecond})
	}
	b.h.holds = reg()
	other, err := NewHandler(b.h.deps, Config{StoreAttempts: 1, Holds: reg()})
	require.NoError(t, err)
	calls := func() int64 { return b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"] }
	b.fake.Update(func(o *wechattest.Options) { o.CodeErrors = map[string]int{testApp: 48001} })

	var y *YieldError
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "f1"}})), &y)
	require.EqualValues(t, 1, calls())
	time.Sleep(30 * time.Millisecond)
	require.ErrorAs(t, other.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "f2"}})), &y)
	require.Contains(t, y.Reason, "account")
	restarted, err := NewHandler(b.h.deps, Config{StoreAttempts: 1, Holds: reg()})
	require.NoError(t, err)
	require.ErrorAs(t, restarted.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "f3"}})), &y, "a restart does not release")
	require.EqualValues(t, 1, calls(), "no other process called after the hold was recorded")
	require.Equal(t, 1, countLines(logs.String(), "ALERT: "), "one ALERT for the fleet")
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Zero(t, tot["failed"])

	b.fake.Update(func(o *wechattest.Options) { o.CodeErrors = nil })
	_, ok, err := reg().Release(ctx, testApp)
	require.NoError(t, err)
	require.True(t, ok)
	time.Sleep(30 * time.Millisecond)
	for _, h := range []*Handler{b.h, other, restarted} {
		require.NoError(t, h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "f2"}})))
	}
	require.Equal(t, jobs.StatusStored, b.outcome(t, "f2").Status)
}

// A second process that calls before it has read the hold (its copy is
// older than the refresh) learns of the hold from the answer: it records
// no second hold, logs no second ALERT, and reads the registry at once.
func TestSecondProcessJoinsTheHold(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	logs := b.captureLog()
	b.h.holds = apphold.New(b.h.deps.Redis, apphold.Config{Key: "wxacode:holds", Refresh: time.Hour})
	other, err := NewHandler(b.h.deps, Config{StoreAttempts: 1, Holds: apphold.New(b.h.deps.Redis, apphold.Config{Key: "wxacode:holds", Refresh: time.Hour})})
	require.NoError(t, err)
	other.log = b.h.log
	other.holds.Held(ctx, testApp) // its copy: read before the hold
	b.fake.Update(func(o *wechattest.Options) { o.CodeErrors = map[string]int{testApp: 50002} })
	var y *YieldError
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "s1"}})), &y)
	require.ErrorAs(t, other.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "s2"}})), &y)
	require.ErrorAs(t, other.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "s3"}})), &y)
	require.EqualValues(t, 2, b.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"], "the second process's one call in the refresh window, then none")
	require.Equal(t, 1, countLines(logs.String(), "ALERT: "))
	require.Contains(t, logs.String(), "app already held for the fleet")
}

func countLines(s, sub string) int {
	n := 0
	for _, l := range splitLines(s) {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// A 45011 (the fake answering its minute limit with it) is handled like a
// 45009: reported to the fleet-wide limiter, the job handed back, nothing
// failed, and no app hold.
func TestMinuteLimit45011HandedBack(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.fake.Update(func(o *wechattest.Options) { o.RateLimit = 1; o.RateLimitCode = 45011 })
	require.NoError(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "m1"}})))
	var y *YieldError
	require.ErrorAs(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: "m2"}})), &y)
	st, err := b.h.deps.Limiter.State(ctx, testApp)
	require.NoError(t, err)
	require.Positive(t, st.RateLimitedTotal, "reported to the limiter")
	require.Equal(t, "45011", st.LastErrCode)
	require.Positive(t, b.fake.Stats().Errcodes[45011])
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Zero(t, tot["failed"])
	list, err := apphold.New(b.h.deps.Redis, apphold.Config{}).List(ctx)
	require.NoError(t, err)
	require.Empty(t, list, "a minute limit holds no app")
}
