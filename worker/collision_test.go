package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/code/codetest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// storedScene decodes the QR code stored under key.
func (b bundle) storedScene(t *testing.T, key string) string {
	t.Helper()
	data, _, err := b.store.Get(context.Background(), key)
	require.NoError(t, err)
	c, err := wechattest.DecodeImage(data)
	require.NoError(t, err)
	return c.Scene
}

// taskID is the TaskID of the job a task carries, as the worker decodes it
// (encoding/json turns invalid UTF-8 of a hand-made job into U+FFFD, which
// the page rules refuse).
func taskID(t *testing.T, tk *asynq.Task) string {
	j, err := jobs.Decode(tk.Payload())
	require.NoError(t, err)
	return j.TaskID()
}

// TestForceNeverOverwritesAnotherCode: --force regenerates the same code
// (a new WeChat call, the object replaced) but a different code's object
// under the same explicit key is a recorded failure, with or without force,
// and the victim stays intact.
func TestForceNeverOverwritesAnotherCode(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	victim := jobs.Job{Key: "shared.jpg", Params: code.Params{Scene: "victim", Page: "pages/index/index"}}
	require.NoError(t, b.h.ProcessTask(ctx, task(t, victim)))
	for _, tc := range []struct {
		name string
		j    jobs.Job
	}{
		{"another scene, forced", jobs.Job{Key: "shared.jpg", Force: true, Params: code.Params{Scene: "thief", Page: "pages/index/index"}}},
		{"another page, same scene", jobs.Job{Key: "shared.jpg", Params: code.Params{Scene: "victim", CheckPath: new(bool), Page: "pages/other/index"}}},
		{"another page, forced", jobs.Job{Key: "shared.jpg", Force: true, Params: code.Params{Scene: "victim", CheckPath: new(bool), Page: "pages/other/index"}}},
		{"another width, forced", jobs.Job{Key: "shared.jpg", Force: true, Params: code.Params{Scene: "victim", Page: "pages/index/index",
			Rendering: code.Rendering{Width: 300}}}},
	} {
		calls := b.fake.Stats().Calls[testApp]
		err := b.h.ProcessTask(ctx, task(t, tc.j))
		require.ErrorIs(t, err, asynq.SkipRetry, tc.name)
		require.Equal(t, calls, b.fake.Stats().Calls[testApp], "%s: no WeChat call", tc.name)
		tc.j.App = testApp
		o, ok, err := b.ledger.Get(ctx, testApp, tc.j.TaskID())
		require.NoError(t, err)
		require.True(t, ok, tc.name)
		require.Equal(t, jobs.StatusFailed, o.Status, tc.name)
		require.Contains(t, o.Reason, "key holds another code", tc.name)
		require.Equal(t, "victim", b.storedScene(t, "shared.jpg"), "%s: the victim is intact", tc.name)
	}
	v := victim
	v.App = testApp
	o, _, err := b.ledger.Get(ctx, testApp, v.TaskID())
	require.NoError(t, err)
	require.Equal(t, jobs.StatusStored, o.Status, "the ledger's word for the victim still holds")

	// The same code, forced: regenerated and replaced.
	calls := b.fake.Stats().Calls[testApp]
	info, err := b.store.Stat(ctx, "shared.jpg")
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	forced := victim
	forced.Force = true
	require.NoError(t, b.h.ProcessTask(ctx, task(t, forced)))
	require.Equal(t, calls+1, b.fake.Stats().Calls[testApp], "force calls WeChat again")
	again, err := b.store.Stat(ctx, "shared.jpg")
	require.NoError(t, err)
	require.NotEqual(t, info.Metadata[storage.MetaGeneratedAt], again.Metadata[storage.MetaGeneratedAt], "the object was replaced")
}

// TestExistingStoresKeepWorking: an object written before verbatim
// metadata (every text entry segment-encoded) still counts as this code
// (skipped, no call) and still refuses another code.
func TestExistingStoresKeepWorking(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	j := jobs.Job{App: testApp, Params: code.Params{Scene: "a=1&b=2", Page: "pages/index/index"}}
	p := j.KeyParams(false)
	key := storage.DefaultTemplate().Key(p)
	old := map[string]string{"appid": testApp, "page": "pages~2Findex~2Findex", "scene": "a~3D1~26b~3D2", "env-version": "release",
		"width": "430", "format": "jpeg", "sha256": "ab", "generated-at": "2025-01-01T00:00:00Z",
		"params": p.Rendering.Canonical(), "params-hash": "default"}
	require.NoError(t, b.store.Put(ctx, key, []byte{0xFF, 0xD8, 0xFF, 0xD9}, storage.PutOptions{Metadata: old}))
	require.NoError(t, b.h.ProcessTask(ctx, task(t, j)))
	o, _, err := b.ledger.Get(ctx, testApp, j.TaskID())
	require.NoError(t, err)
	require.Equal(t, jobs.StatusSkipped, o.Status)
	require.Zero(t, b.fake.Stats().Calls[testApp])

	other := jobs.Job{App: testApp, Key: key, Params: code.Params{Scene: "a=1&b=3", Page: "pages/index/index"}}
	require.ErrorIs(t, b.h.ProcessTask(ctx, task(t, other)), asynq.SkipRetry)
	o, _, err = b.ledger.Get(ctx, testApp, other.TaskID())
	require.NoError(t, err)
	require.Contains(t, o.Reason, `key holds another code: `+key+` holds scene "a=1&b=2" (not "a=1&b=3")`)
}

// TestInvalidJobsFailPermanently: keys and pages that enqueue refuses,
// reaching a worker anyway (an old payload, a hand-made task), are
// recorded failures on the first try: no WeChat call, no retry.
func TestInvalidJobsFailPermanently(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for _, j := range []jobs.Job{
		{Key: "../../etc/passwd", Params: code.Params{Scene: "k1"}},
		{Key: "x/.hidden", Params: code.Params{Scene: "k2"}},
		{Key: "/abs/path.jpg", Params: code.Params{Scene: "k3"}},
		{Key: "_runs/fake-run/manifest-00000.jsonl", Params: code.Params{Scene: "k4"}},
		{Key: "a\x00b", Params: code.Params{Scene: "k5"}},
		{Params: code.Params{Scene: "k6", Page: "pages/" + strings.Repeat("a", 300)}},
		{Params: code.Params{Scene: "k7", Page: "pages/scancode_time/index"}},
		{Params: code.Params{Scene: "k8", Page: "pages/\xff"}},
	} {
		tk := task(t, j)
		err := b.h.ProcessTask(ctx, tk)
		require.ErrorIs(t, err, asynq.SkipRetry, "%+v", j)
		o, ok, err := b.ledger.Get(ctx, testApp, taskID(t, tk))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, jobs.StatusFailed, o.Status)
		require.Equal(t, 1, o.Tries)
		require.Contains(t, o.Reason, "bad job: ")
	}
	require.Zero(t, b.fake.Stats().Calls[testApp], "nothing reached WeChat")
}

// TestWorkerSharedCases: the worker refuses exactly the options of the
// vocabulary's shared table (as campaign validation and enqueue do),
// naming the field, and stores every valid one.
func TestWorkerSharedCases(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for i, tc := range codetest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			p, err := tc.Params("c" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('A'+i/26)))
			j := jobs.Job{App: testApp, Params: p}
			j.CheckPath = new(bool) // pages need not be published in the fake
			if err != nil {
				require.NotEmpty(t, tc.Field, "only invalid cases fail to parse")
				require.Equal(t, tc.Field, err.(*code.FieldError).Field)
				// The colour never parses, so no job carries it; the
				// payload form refuses it too.
				return
			}
			tk := task(t, j)
			perr := b.h.ProcessTask(ctx, tk)
			o, ok, lerr := b.ledger.Get(ctx, testApp, taskID(t, tk))
			require.NoError(t, lerr)
			require.True(t, ok)
			if tc.Field == "" {
				require.NoError(t, perr)
				require.Equal(t, jobs.StatusStored, o.Status, o.Reason)
				return
			}
			require.ErrorIs(t, perr, asynq.SkipRetry)
			require.Equal(t, jobs.StatusFailed, o.Status)
			require.Contains(t, o.Reason, "bad job: "+tc.Field+" ", "the field is named")
		})
	}
}
