package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
)

// pausePath is asynqmon v0.7.2's pause-queue API (handler.go).
var pausePath = "/asynq/api/queues/" + jobs.LaneBulk + ":pause"

func paused(t *testing.T, b *bundle) bool {
	t.Helper()
	info, err := b.insp.GetQueueInfo(jobs.LaneBulk)
	require.NoError(t, err)
	return info.Paused
}

func TestReadOnlyDashboardRefusesPause(t *testing.T) {
	b := setup(t, nil)
	b.seed(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp, body := b.do(t, m, pausePath, authed)
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s: %s", m, body)
	}
	resp, _ := b.do(t, http.MethodDelete, "/asynq/api/queues/"+jobs.LaneBulk+"/pending_tasks:delete_all", authed)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.False(t, paused(t, b), "the queue must not be paused")
	info, err := b.insp.GetQueueInfo(jobs.LaneBulk)
	require.NoError(t, err)
	require.Equal(t, 2, info.Pending, "nothing deleted")
	resp, _ = b.do(t, http.MethodPost, pausePath, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "auth is checked before anything else")
}

func TestWritableDashboardPauses(t *testing.T) {
	b := setup(t, func(c *Config) { c.Writable = true })
	b.seed(t)
	resp, body := b.do(t, http.MethodPost, pausePath, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.False(t, paused(t, b))
	resp, body = b.do(t, http.MethodPost, pausePath, authed)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
	require.True(t, paused(t, b))
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, `id="writable-banner"`)
	require.Contains(t, page, "block")
}

func TestAsynqmonShowsSceneJobsReadably(t *testing.T) {
	b := setup(t, nil)
	b.seed(t)
	var got struct {
		Tasks []struct {
			Payload string `json:"payload"`
		} `json:"tasks"`
	}
	resp, body := b.do(t, http.MethodGet, "/asynq/api/queues/"+jobs.LaneBulk+"/pending_tasks", authed)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	require.Len(t, got.Tasks, 2)
	require.Equal(t, `app=wx1 scene="q1" page="pages/x" width=430 key="" run="r1" row=9`, got.Tasks[0].Payload)
}

func TestFormattersHideSecrets(t *testing.T) {
	def := campaign.Definition{Name: "nightly", App: "wx1", Webhook: "https://hooks.example.com/notify?token=HOOK-SECRET",
		Source: campaign.Source{Generator: &campaign.Generator{Pattern: "c{n}", From: 1, To: 3}}}
	fire, err := runs.FireTask(def)
	require.NoError(t, err)
	feed, _ := runs.FeedTask("r9")
	j, err := jobs.Job{App: "wx1", High: true, Force: true, Params: code.Params{Scene: "a=1"}}.Encode()
	require.NoError(t, err)
	for _, tc := range []struct {
		task     *asynq.Task
		want     string
		mustLack string
	}{
		{fire, "campaign nightly (app wx1, generator c{n} 1..3, by hand, webhook https://hooks.example.com/…)", "HOOK-SECRET"},
		{feed, `{"run":"r9"}`, ""},
		{asynq.NewTask(jobs.TaskType, j), `app=wx1 scene="a=1" page="" width=0 key="" run="" row=0 high force`, ""},
		{asynq.NewTask(jobs.TaskType, []byte(`{"v":1,"app":"wx1","access_token":"TOK"}`)), "undecodable scene job", "TOK"},
		{asynq.NewTask("other", []byte(`{"x":{"client_secret":"S3"},"u":"https://h/p?access_token=TOK2"}`)),
			`{"u":"https://h/p?access_token=REDACTED","x":{"client_secret":"REDACTED"}}`, "TOK2"},
		{asynq.NewTask("other", []byte("raw bytes secret=XYZ")), "(20 bytes, not shown)", "XYZ"},
	} {
		got := formatPayload(tc.task.Type(), tc.task.Payload())
		require.Contains(t, got, tc.want)
		if tc.mustLack != "" {
			require.NotContains(t, got, tc.mustLack)
		}
	}
	require.Equal(t, "", formatResult("x", nil))
}

func TestConnOptFromClient(t *testing.T) {
	b := setup(t, nil)
	opt, err := connOptFrom(b.rdb)
	require.NoError(t, err)
	c, ok := opt.MakeRedisClient().(redis.UniversalClient)
	require.True(t, ok)
	require.NoError(t, c.Ping(context.Background()).Err(), "a client of its own on the same server")
	require.NoError(t, c.Close())
	require.NoError(t, b.rdb.Ping(context.Background()).Err(), "closing it leaves the caller's client open")

	sentinel := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}})
	defer sentinel.Close()
	_, err = New(Config{Redis: sentinel})
	require.ErrorIs(t, err, ErrConfig, "a Sentinel client needs AsynqRedis")
}
