package worker

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

const (
	testApp    = "wxworker0000000001"
	testSecret = "worker-secret"
)

// flakyStore fails the next `fail` puts, then behaves like its Store.
type flakyStore struct {
	storage.Store
	fail atomic.Int32
}

func (f *flakyStore) Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("storage down")
	}
	return f.Store.Put(ctx, key, data, o)
}

type bundle struct {
	h      *Handler
	fake   *wechattest.Server
	store  *flakyStore
	ledger *jobs.Ledger
}

func setup(t *testing.T) bundle { t.Helper(); return setupWith(t, nil) }

// setupWith is setup with edit applied to the handler's dependencies.
func setupWith(t *testing.T, edit func(*Deps)) bundle {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{testApp: testSecret}, Pages: []string{"pages/index/index"}})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	local, err := storage.Open(context.Background(), t.TempDir(), storage.Options{})
	require.NoError(t, err)
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	ts, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{AppID: testApp, Secret: testSecret, Client: client, Redis: rdb})
	require.NoError(t, err)
	b := bundle{fake: fake, store: &flakyStore{Store: local}, ledger: jobs.NewLedger(rdb, "")}
	deps := Deps{Redis: rdb, Client: client, Limiter: ratelimit.New(rdb, ratelimit.Config{PauseWaiters: -1}), Store: b.store,
		Ledger: b.ledger, Keys: storage.DefaultTemplate(), Apps: []App{{AppID: testApp, Tokens: ts}}}
	if edit != nil {
		edit(&deps)
	}
	b.h, err = NewHandler(deps, Config{StoreAttempts: 1})
	require.NoError(t, err)
	return b
}

func task(t *testing.T, j jobs.Job) *asynq.Task {
	j.App = testApp
	p, err := j.Encode()
	require.NoError(t, err)
	return asynq.NewTask(jobs.TaskType, p)
}

func (b bundle) outcome(t *testing.T, scene string) jobs.Outcome {
	var found jobs.Outcome
	require.NoError(t, b.ledger.Scan(context.Background(), testApp, func(o jobs.Outcome) error {
		if o.Scene == scene {
			found = o
		}
		return nil
	}))
	return found
}

func TestStoreFailureRetriesWithoutSecondCall(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	tk := task(t, jobs.Job{Params: code.Params{Scene: "a=1&b=2", Page: "pages/index/index"}})
	b.store.fail.Store(1)
	require.Error(t, b.h.ProcessTask(ctx, tk), "the put fails")
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp])
	require.NoError(t, b.h.ProcessTask(ctx, tk), "the retry stores the parked image")
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp], "no second WeChat call")
	o := b.outcome(t, "a=1&b=2")
	require.Equal(t, jobs.StatusStored, o.Status)
	data, _, err := b.store.Get(ctx, o.Key)
	require.NoError(t, err)
	c, err := wechattest.DecodeImage(data)
	require.NoError(t, err)
	require.Equal(t, "a=1&b=2", c.Scene)

	// Delivered again: the object exists, so no call, and it stays stored.
	require.NoError(t, b.h.ProcessTask(ctx, tk))
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp])
	require.Equal(t, jobs.StatusStored, b.outcome(t, "a=1&b=2").Status)
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Equal(t, int64(1), tot["stored"])
	require.Zero(t, tot["skipped"])

	// Another job for the same code (a different run) is skipped.
	require.NoError(t, b.h.ProcessTask(ctx, task(t, jobs.Job{Run: "r2", Params: code.Params{Scene: "a=1&b=2", Page: "pages/index/index"}})))
	require.Equal(t, int64(1), b.fake.Stats().Calls[testApp])
	tot, err = b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Equal(t, int64(1), tot["skipped"])
}

func TestPermanentFailureRecordedWithErrcode(t *testing.T) {
	b := setup(t)
	err := b.h.ProcessTask(context.Background(), task(t, jobs.Job{Params: code.Params{Scene: "x", Page: "pages/missing/index"}}))
	require.ErrorIs(t, err, asynq.SkipRetry)
	o := b.outcome(t, "x")
	require.Equal(t, jobs.StatusFailed, o.Status)
	require.Equal(t, 41030, o.Code)
	require.NotEmpty(t, o.RID)
}

func TestKeyCollisionNeverOverwrites(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	j := jobs.Job{App: testApp, Key: "shared.jpg", Params: code.Params{Scene: "mine"}}
	other := jobs.Job{App: testApp, Key: "shared.jpg", Params: code.Params{Scene: "theirs"}}
	require.NoError(t, b.h.ProcessTask(ctx, task(t, other)))
	err := b.h.ProcessTask(ctx, task(t, j))
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Contains(t, b.outcome(t, "mine").Reason, "key holds another code")
	data, _, err := b.store.Get(ctx, "shared.jpg")
	require.NoError(t, err)
	c, err := wechattest.DecodeImage(data)
	require.NoError(t, err)
	require.Equal(t, "theirs", c.Scene, "the first code is intact")
}

func TestBadPayloadIsRecordedNotRetried(t *testing.T) {
	b := setup(t)
	err := b.h.ProcessTask(context.Background(), asynq.NewTask(jobs.TaskType, []byte(`{"v":99,"app":"x"}`)))
	require.ErrorIs(t, err, asynq.SkipRetry)
	tot, err := b.ledger.Totals(context.Background(), "x")
	require.NoError(t, err)
	require.Equal(t, int64(1), tot["failed"])
}

// Payloads from Redis that do not decode (garbage, other versions, other
// shapes, a version this worker does not know) are each recorded as a
// failure with a reason and never retried: no panic, no retry loop.
func TestHostilePayloadsRecorded(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	payloads := [][]byte{nil, []byte("\x00\xff\xfe"), []byte("[]"), []byte(`"x"`), []byte(`{"v":1}`),
		[]byte(`{"v":2,"app":"` + testApp + `","scene":"s"}`), []byte(`{"v":1,"app":"` + testApp + `","scene":1}`),
		[]byte(strings.Repeat("{", 100000))}
	for i, p := range payloads {
		err := b.h.ProcessTask(ctx, asynq.NewTask(jobs.TaskType, p))
		require.ErrorIs(t, err, asynq.SkipRetry, "payload %d", i)
	}
	var failed int64
	for _, app := range []string{"_unknown", testApp, "wxnotmine"} {
		tot, err := b.ledger.Totals(ctx, app)
		require.NoError(t, err)
		failed += tot["failed"]
	}
	require.EqualValues(t, len(payloads), failed, "every hostile payload is a recorded failure")
	fails, err := b.ledger.Failures(ctx, "_unknown", 100)
	require.NoError(t, err)
	for _, f := range fails {
		require.Contains(t, f.Reason, "bad job: ")
	}
}

// A job of an app this worker does not serve is handed back, not failed:
// the lanes are shared, so another worker (one that serves the app) takes
// it.
func TestJobOfAnotherAppHandedBack(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	err := b.h.ProcessTask(ctx, asynq.NewTask(jobs.TaskType, []byte(`{"v":1,"app":"wxnotmine","scene":"s"}`)))
	var y *YieldError
	require.ErrorAs(t, err, &y)
	require.False(t, IsFailure(err), "a hand-back costs no try")
	require.GreaterOrEqual(t, y.After, unservedDelay)
	tot, err := b.ledger.Totals(ctx, "wxnotmine")
	require.NoError(t, err)
	require.Zero(t, tot["failed"])
}

func TestConfigErrorHoldsAppInsteadOfFailingJobs(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.fake.Update(func(o *wechattest.Options) { o.TokenErrors = map[string]int{testApp: 40164} })
	for _, s := range []string{"c1", "c2", "c3"} {
		err := b.h.ProcessTask(ctx, task(t, jobs.Job{Params: code.Params{Scene: s}}))
		var y *YieldError
		require.ErrorAs(t, err, &y, "a configuration error hands the job back: %v", err)
	}
	b.fleetHold(t, apphold.CauseConfig, 40164)
	tot, err := b.ledger.Totals(ctx, testApp)
	require.NoError(t, err)
	require.Zero(t, tot["failed"], "no job fails for a configuration problem")
	require.Equal(t, int64(1), b.fake.Stats().TokenFetches["/cgi-bin/stable_token"], "one token fetch, no storm")
}

func TestRetryPolicy(t *testing.T) {
	require.False(t, IsFailure(&YieldError{After: time.Second}))
	require.False(t, IsFailure(errors.Join(errors.New("x"), &YieldError{})))
	require.True(t, IsFailure(errors.New("boom")))
	h := &Handler{cfg: Config{}.withDefaults()}
	require.Equal(t, 7*time.Second, h.retryDelay(3, &YieldError{After: 7 * time.Second}, nil), "a yield waits what it asked")
	for n := range 12 {
		d := h.retryDelay(n, errors.New("boom"), nil)
		want := min(h.cfg.BackoffBase<<n, h.cfg.BackoffMax)
		require.GreaterOrEqual(t, d, want/2)
		require.LessOrEqual(t, d, want)
	}
}
