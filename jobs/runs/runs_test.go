package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/storage"
)

func TestTwoSchedulersFiringOneTickStartOneRun(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	f := &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}), Log: slog.Default()}
	def := campaign.Definition{Name: "nightly", App: "wx1", Schedule: "* * * * *",
		Source: campaign.Source{Generator: &campaign.Generator{Pattern: "c{n}", From: 1, To: 10}}}
	task, err := FireTask(def)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 { // four schedulers' fire tasks for the same tick
		wg.Go(func() { require.NoError(t, f.Fire(ctx, task)) })
	}
	wg.Wait()
	list, err := f.Runs.List(ctx, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, int64(10), list[0].Total)
	require.WithinDuration(t, time.Now().Truncate(time.Minute), list[0].Scheduled, time.Minute, "claimed for the latest tick")
	require.Zero(t, list[0].Scheduled.Second())
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(FeedQueue)
	require.NoError(t, err)
	require.Equal(t, 1, info.Pending, "one feeder")
}

func rec(_ int, err error) error { return err }

func TestRecordExactlyOncePerRow(t *testing.T) {
	ctx := context.Background()
	s := NewStore(redistest.Start(t).Client(t), "")
	require.NoError(t, s.Create(ctx, Run{ID: "r1", Total: 3, Created: time.Now()}))
	require.Error(t, s.Create(ctx, Run{ID: "r1"}), "ids are unique")
	require.NoError(t, rec(s.Record(ctx, "r1", 0, jobs.StatusStored, nil, nil)))
	require.NoError(t, rec(s.Record(ctx, "r1", 0, jobs.StatusStored, nil, nil))) // redelivered
	require.NoError(t, rec(s.Record(ctx, "r1", 1, jobs.StatusFailed, nil, &Failure{Code: 41030})))
	require.NoError(t, rec(s.Record(ctx, "r1", 1, jobs.StatusFailed, nil, &Failure{Code: 41030})))
	require.NoError(t, rec(s.Record(ctx, "r1", 2, jobs.StatusFailed, nil, &Failure{Code: -1})))
	require.NoError(t, rec(s.Record(ctx, "r1", 2, jobs.StatusSkipped, nil, nil)))              // retried, then found stored
	require.NoError(t, rec(s.Record(ctx, "r1", 0, jobs.StatusFailed, nil, &Failure{Code: 1}))) // a stored row stays stored
	_, c, err := s.Get(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, Counts{Stored: 1, Skipped: 1, Failed: 1}, c)
	var fails []Failure
	require.NoError(t, s.Failures(ctx, "r1", func(f Failure) error { fails = append(fails, f); return nil }))
	require.Len(t, fails, 1)
	require.Equal(t, int64(1), fails[0].Row)
	codes, err := s.FailureCodes(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, map[int]int64{41030: 1}, codes.ByCode, "row 2's -1 moved out when it was found stored")
	recent, err := s.Recent(ctx, "r1", 10)
	require.NoError(t, err)
	require.Len(t, recent, 1)
	require.Equal(t, int64(1), recent[0].Row)
}

// The counts by errcode and the recent list follow retries: a failure
// replaced by another errcode moves between codes, a retried row that
// succeeds leaves both.
func TestFailureCodesFollowRetries(t *testing.T) {
	ctx := context.Background()
	s := NewStore(redistest.Start(t).Client(t), "")
	require.NoError(t, s.Create(ctx, Run{ID: "r", Total: 200, Created: time.Now()}))
	for row := range int64(150) {
		code := 41030
		if row%3 == 0 {
			code = 0
		}
		require.NoError(t, rec(s.Record(ctx, "r", row, jobs.StatusFailed, nil, &Failure{Code: code})))
	}
	require.NoError(t, s.MarkRetry(ctx, "r", []int64{1, 2, 4}))
	require.NoError(t, rec(s.Record(ctx, "r", 1, jobs.StatusFailed, nil, &Failure{Code: -1}))) // failed again, other code
	require.NoError(t, rec(s.Record(ctx, "r", 2, jobs.StatusStored, nil, nil)))                // succeeded
	require.NoError(t, rec(s.Record(ctx, "r", 4, jobs.StatusFailed, nil, &Failure{Code: 41030})))
	codes, err := s.FailureCodes(ctx, "r")
	require.NoError(t, err)
	_, c, err := s.Get(ctx, "r")
	require.NoError(t, err)
	require.Equal(t, map[int]int64{0: 50, 41030: 98, -1: 1}, codes.ByCode)
	require.Equal(t, c.Failed, codes.Total())
	recent, err := s.Recent(ctx, "r", 5)
	require.NoError(t, err)
	var rows []int64
	for _, f := range recent {
		rows = append(rows, f.Row)
	}
	require.Equal(t, []int64{4, 1, 149, 148, 147}, rows, "newest first, each row once")
	all, err := s.Recent(ctx, "r", RecentFailures)
	require.NoError(t, err)
	for _, f := range all {
		require.NotEqual(t, int64(2), f.Row, "a row that succeeded is not a recent failure")
	}
}

func TestCampaignKeyTemplate(t *testing.T) {
	k, err := campaignKey("promo/{scene}{params}.{ext}/{appid}/{page}", jobs.Job{App: "wx1", Params: code.Params{Scene: "a/b", Page: "p/q"}})
	require.NoError(t, err)
	require.Equal(t, "promo/a~2Fb.jpg/wx1/p~2Fq", k)
	_, err = campaignKey("{scene}", jobs.Job{})
	require.Error(t, err)
}

func TestManifestInParts(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	store, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	require.NoError(t, err)
	f := &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}),
		Store: store, Log: slog.Default(), PartRows: 10, KeyOf: func(j jobs.Job) string { return "k/" + j.Scene }}
	def := campaign.Definition{Name: "m", App: "wx1", Source: campaign.Source{Generator: &campaign.Generator{Pattern: "m{n}", From: 0, To: 24}}}
	r, err := f.Start(ctx, def, "run1", time.Time{})
	require.NoError(t, err)
	require.Equal(t, int64(25), r.Total)
	for i := range int64(25) {
		sha := bytes.Repeat([]byte{byte(i)}, 32)
		status := jobs.StatusStored
		if i%5 == 0 {
			status = jobs.StatusSkipped
		}
		if i == 7 {
			_, err = f.Runs.Record(ctx, "run1", i, jobs.StatusFailed, nil, &Failure{Code: 41030, Reason: "x"})
		} else {
			_, err = f.Runs.Record(ctx, "run1", i, status, sha, nil)
		}
		require.NoError(t, err)
	}
	require.NoError(t, f.Runs.SetFed(ctx, "run1", 25))
	require.NoError(t, f.Feed(ctx, "run1"))
	done, _, err := f.Runs.Get(ctx, "run1")
	require.NoError(t, err)
	require.Equal(t, StateDone, done.State)
	require.Equal(t, 3, done.ManifestParts)
	var rows []ManifestRow
	for p := range 3 {
		data, _, err := store.Get(ctx, ManifestKey("run1", p))
		require.NoError(t, err)
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			var m ManifestRow
			require.NoError(t, json.Unmarshal(line, &m))
			rows = append(rows, m)
		}
	}
	require.Len(t, rows, 25)
	require.Equal(t, ManifestRow{Row: 3, Scene: "m3", Status: "stored", Key: "k/m3", URL: store.URL("k/m3"), SHA256: strings.Repeat("03", 32)}, rows[3])
	require.Equal(t, "skipped", rows[5].Status)
	require.Equal(t, ManifestRow{Row: 7, Scene: "m7", Status: "failed", Code: 41030, Reason: "x"}, rows[7])
}

func TestLastTick(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 30, 0, time.UTC)
	for spec, want := range map[string]time.Time{
		"0 2 * * *":   time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC),
		"30 3 * * *":  time.Date(2026, 11, 23, 3, 30, 0, 0, time.UTC),
		"@every 1s":   now,
		"*/5 * * * *": time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC),
	} {
		got, err := lastTick(campaign.Definition{Name: "n", Schedule: spec, TimeZone: "UTC"}, now)
		require.NoError(t, err, spec)
		require.True(t, got.Equal(want), "%s: got %s want %s", spec, got, want)
	}
}

// Stop hands a feeding run back at once with ErrStopping (not when the
// worker's shutdown timeout cancels the task), keeping its checkpoint.
func TestStopHandsTheRunBack(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	f := &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}),
		Log: slog.Default(), Validate: func(jobs.Job) error { return nil }}
	def := campaign.Definition{Name: "s", App: "wx1", Window: 10, Source: campaign.Source{Generator: &campaign.Generator{Pattern: "s{n}", From: 1, To: 100}}}
	_, err := f.Start(ctx, def, "run1", time.Time{})
	require.NoError(t, err)
	task, _ := FeedTask("run1")
	done := make(chan error, 1)
	go func() { done <- f.ProcessTask(ctx, task) }() // fills the window of 10, then waits for room
	require.Eventually(t, func() bool { _, c, _ := f.Runs.Get(ctx, "run1"); return c.Fed == 10 }, 10*time.Second, 10*time.Millisecond)
	f.Stop()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrStopping)
	case <-time.After(10 * time.Second):
		t.Fatal("the feeder did not stop")
	}
	_, c, err := f.Runs.Get(ctx, "run1")
	require.NoError(t, err)
	require.EqualValues(t, 10, c.Fed, "the checkpoint stays")
	require.ErrorIs(t, f.ProcessTask(ctx, task), ErrStopping, "a stopped feeder takes no run")
}

// Rejected input rows are counted apart from errcodes (never as errcode
// 0), also across retry-failed, and group by their cause.
func TestRejectedInputCountedApart(t *testing.T) {
	ctx := context.Background()
	s := NewStore(redistest.Start(t).Client(t), "")
	require.NoError(t, s.Create(ctx, Run{ID: "r", Total: 10, Created: time.Now()}))
	long := &jobs.RowError{Line: 3, Field: "scene", Value: strings.Repeat("x", 40), Reason: "longer than 32 bytes"}
	bad := &jobs.RowError{Line: 5, Field: "page", Value: "/abs", Reason: "must not start with /"}
	require.NoError(t, rec(s.Record(ctx, "r", 1, jobs.StatusFailed, nil, rejected(long))))
	require.NoError(t, rec(s.Record(ctx, "r", 3, jobs.StatusFailed, nil, rejected(bad))))
	require.NoError(t, rec(s.Record(ctx, "r", 4, jobs.StatusFailed, nil, &Failure{Reason: "storage: down"})))
	require.NoError(t, rec(s.Record(ctx, "r", 5, jobs.StatusFailed, nil, &Failure{Code: 41030, Reason: "page not published"})))
	codes, err := s.FailureCodes(ctx, "r")
	require.NoError(t, err)
	require.Equal(t, FailureCounts{ByCode: map[int]int64{0: 1, 41030: 1}, Input: 2}, codes)
	require.NoError(t, s.MarkRetry(ctx, "r", []int64{1}))
	require.NoError(t, rec(s.Record(ctx, "r", 1, jobs.StatusFailed, nil, rejected(long)))) // rejected again
	codes, err = s.FailureCodes(ctx, "r")
	require.NoError(t, err)
	require.Equal(t, int64(2), codes.Input)
	byCode, _, err := s.FailureSummary(ctx, "r", 10)
	require.NoError(t, err)
	require.Equal(t, codes, byCode)
	f, ok, err := s.Failure(ctx, "r", 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "rejected (input): scene: longer than 32 bytes", f.Group())
	require.Equal(t, "errcode 41030", Failure{Code: 41030}.Group())
	require.Equal(t, "storage: down", Failure{Reason: "storage: down"}.Group())
}
