package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/storage"
)

// chunkFeeder is a feeder over a private Redis and a local store, its runs
// kept in chunks of 10 rows.
func chunkFeeder(t *testing.T) (*Feeder, *redis.Client, storage.Store) {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	store, err := storage.Open(context.Background(), t.TempDir(), storage.Options{})
	require.NoError(t, err)
	return &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}),
		Store: store, Log: slog.Default(), ChunkRows: 10, KeyOf: func(j jobs.Job) string { return "k/" + j.Scene },
		Validate: func(jobs.Job) error { return nil }}, rdb, store
}

func sha(i int64) []byte { return bytes.Repeat([]byte{byte(i + 1)}, 32) }

// runKeys lists the Redis keys of run id (without the prefix and tag).
func runKeys(t *testing.T, rdb *redis.Client, id string) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), "wxacode:run:{"+id+"}:*").Result()
	require.NoError(t, err)
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, "wxacode:run:{"+id+"}:")
	}
	return keys
}

// A chunk leaves Redis for the store once all its rows have an outcome;
// rows of sealed chunks read the same, repeats of them do not count, and
// a failed row that later succeeds is amended over its stored chunk.
func TestSealedChunksLeaveRedis(t *testing.T) {
	ctx := context.Background()
	f, rdb, store := chunkFeeder(t)
	require.NoError(t, f.Runs.Create(ctx, Run{ID: "r", Total: 25, ChunkRows: 10, Created: time.Now()}))
	run, _, err := f.Runs.Get(ctx, "r")
	require.NoError(t, err)
	for i := range int64(25) {
		switch {
		case i == 7:
			require.Equal(t, 1, must(f.Runs.Record(ctx, "r", i, jobs.StatusFailed, nil, &Failure{Code: -1, Reason: "system busy"})))
		case i%5 == 0:
			require.Equal(t, 1, must(f.Runs.Record(ctx, "r", i, jobs.StatusSkipped, sha(i), nil)))
		case i != 24:
			require.Equal(t, 1, must(f.Runs.Record(ctx, "r", i, jobs.StatusStored, sha(i), nil)))
		}
	}
	open, err := f.Seal(ctx, run)
	require.NoError(t, err)
	require.Equal(t, 1, open, "chunk 2 waits for row 24")
	require.NotContains(t, runKeys(t, rdb, "r"), "c:0")
	require.Contains(t, runKeys(t, rdb, "r"), "c:2")
	_, err = f.Runs.Rows(ctx, "r", 0, 1)
	require.ErrorIs(t, err, ErrNoObjects, "a sealed chunk is read from the store")

	require.Equal(t, 1, must(f.Runs.Record(ctx, "r", 24, jobs.StatusStored, sha(24), nil)))
	open, err = f.Seal(ctx, run)
	require.NoError(t, err)
	require.Zero(t, open)
	for _, k := range runKeys(t, rdb, "r") {
		require.False(t, strings.HasPrefix(k, "c:"), "no chunk left in Redis: %s", k)
	}
	data, _, err := store.Get(ctx, ChunkKey("r", 2))
	require.NoError(t, err)
	require.Len(t, data, 5*recordSize, "the last chunk holds the run's last 5 rows")

	ledger := f.Runs.WithObjects(StoreObjects(store))
	rows, err := ledger.Rows(ctx, "r", 0, 25)
	require.NoError(t, err)
	for i, ri := range rows {
		switch {
		case i == 7:
			require.Equal(t, RowInfo{Failed: true}, ri)
		default:
			require.Equal(t, RowInfo{Done: true, Skipped: i%5 == 0, SHA256: sha(int64(i))}, ri, "row %d", i)
		}
	}
	// redelivered after sealing: repeats, whatever their status now
	require.Zero(t, must(f.Runs.Record(ctx, "r", 3, jobs.StatusStored, sha(3), nil)))
	require.Zero(t, must(f.Runs.Record(ctx, "r", 3, jobs.StatusFailed, nil, &Failure{Code: -1})))
	require.Zero(t, must(f.Runs.Record(ctx, "r", 7, jobs.StatusFailed, nil, &Failure{Code: -1})))
	_, c, err := f.Runs.Get(ctx, "r")
	require.NoError(t, err)
	require.Equal(t, Counts{Stored: 19, Skipped: 5, Failed: 1}, c)

	require.NoError(t, f.Runs.MarkRetry(ctx, "r", []int64{7}))
	require.Equal(t, 2, must(f.Runs.Record(ctx, "r", 7, jobs.StatusStored, sha(70), nil)), "retried and stored")
	require.Zero(t, must(f.Runs.Record(ctx, "r", 7, jobs.StatusStored, sha(70), nil)))
	_, c, err = f.Runs.Get(ctx, "r")
	require.NoError(t, err)
	require.Equal(t, Counts{Stored: 20, Skipped: 5}, c)
	rows, err = ledger.Rows(ctx, "r", 5, 5)
	require.NoError(t, err)
	require.Equal(t, RowInfo{Done: true, SHA256: sha(70)}, rows[2], "the amendment over the stored chunk")
	st, err := f.Runs.RowStatus(ctx, "r", 7)
	require.NoError(t, err)
	require.Equal(t, "done", st)
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}

// flakyStore fails puts while down is set, and runs during each put that
// goes through (an outcome landing while the chunk is being written).
type flakyStore struct {
	storage.Store
	down   bool
	during func()
}

func (s *flakyStore) Put(ctx context.Context, key string, data []byte, opts storage.PutOptions) error {
	if s.down {
		return errors.New("store down")
	}
	if s.during != nil {
		s.during()
		s.during = nil
	}
	return s.Store.Put(ctx, key, data, opts)
}

// A chunk whose write fails, or that changes while it is written, stays
// in Redis and is written again (same name) by the next Seal: nothing
// recorded is dropped.
func TestSealRedoneAfterFailedOrRacedWrite(t *testing.T) {
	ctx := context.Background()
	f, rdb, store := chunkFeeder(t)
	flaky := &flakyStore{Store: store, down: true}
	f.Store = flaky
	require.NoError(t, f.Runs.Create(ctx, Run{ID: "r", Total: 10, ChunkRows: 10, Created: time.Now()}))
	run, _, _ := f.Runs.Get(ctx, "r")
	for i := range int64(10) {
		status, f2 := jobs.StatusStored, (*Failure)(nil)
		if i == 4 {
			status, f2 = jobs.StatusFailed, &Failure{Code: 45009, Reason: "quota"}
		}
		_, err := f.Runs.Record(ctx, "r", i, status, sha(i), f2)
		require.NoError(t, err)
	}
	_, err := f.Seal(ctx, run)
	require.ErrorContains(t, err, "store down")
	require.Contains(t, runKeys(t, rdb, "r"), "c:0", "kept until written")

	flaky.down = false
	require.NoError(t, f.Runs.MarkRetry(ctx, "r", []int64{4}))
	flaky.during = func() { // the retried row lands while the chunk is written
		require.Equal(t, 2, must(f.Runs.Record(ctx, "r", 4, jobs.StatusStored, sha(40), nil)))
	}
	open, err := f.Seal(ctx, run)
	require.NoError(t, err)
	require.Equal(t, 1, open, "changed while written: still open")
	open, err = f.Seal(ctx, run)
	require.NoError(t, err)
	require.Zero(t, open)
	rows, err := f.Runs.WithObjects(StoreObjects(store)).Rows(ctx, "r", 4, 1)
	require.NoError(t, err)
	require.Equal(t, RowInfo{Done: true, SHA256: sha(40)}, rows[0], "the stored chunk has the late outcome")
}

// A run of the first layout (whole-run bitmaps and digests in Redis,
// written by the previous version) is recorded, read and finished as
// before, without chunks.
func TestFirstLayoutRunStillWorks(t *testing.T) {
	ctx := context.Background()
	f, rdb, store := chunkFeeder(t)
	def := campaign.Definition{Name: "old", App: "wx1", Source: campaign.Source{Generator: &campaign.Generator{Pattern: "o{n}", From: 0, To: 11}}}
	b, _ := json.Marshal(def)
	meta, _ := json.Marshal(Run{ID: "old1", Campaign: "old", App: "wx1", Total: 12, Window: 100, State: StateRunning, Created: time.Now(), Definition: b})
	require.NoError(t, rdb.Set(ctx, "wxacode:run:{old1}:meta", meta, 0).Err()) // as the previous Create did
	for i := range int64(12) {
		require.Equal(t, 1, must(f.Runs.Record(ctx, "old1", i, jobs.StatusStored, sha(i), nil)))
	}
	require.Zero(t, must(f.Runs.Record(ctx, "old1", 3, jobs.StatusStored, sha(3), nil)))
	require.Subset(t, runKeys(t, rdb, "old1"), []string{"done", "sha"})
	require.NoError(t, f.Runs.SetFed(ctx, "old1", 12))
	require.NoError(t, f.Feed(ctx, "old1"))
	r, c, err := f.Runs.Get(ctx, "old1")
	require.NoError(t, err)
	require.Equal(t, StateDone, r.State)
	require.EqualValues(t, 12, c.Stored)
	data, _, err := store.Get(ctx, ManifestKey("old1", 0))
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	require.Len(t, lines, 12)
	var m ManifestRow
	require.NoError(t, json.Unmarshal(lines[11], &m))
	require.Equal(t, ManifestRow{Row: 11, Scene: "o11", Status: "stored", Key: "k/o11", URL: store.URL("k/o11"), SHA256: fmt.Sprintf("%x", sha(11))}, m)
	for _, k := range runKeys(t, rdb, "old1") {
		require.False(t, strings.HasPrefix(k, "c:"), "no chunks for a first-layout run: %s", k)
	}
}

// The Redis memory of a finished run does not grow with its rows: a run
// ten times longer, with the same window, leaves about the same keys.
func TestRunFootprintFlatInRows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two campaigns through asynq")
	}
	small := footprintOf(t, 1000)
	big := footprintOf(t, 10000)
	t.Logf("Redis bytes of a finished run: %d for 1,000 rows, %d for 10,000", small, big)
	require.Less(t, float64(big), 1.5*float64(small), "flat in the row count")
	require.Less(t, big, int64(10000*32/4), "far below a digest per row")
}

// footprintOf runs a generated campaign of rows (window 200, chunks of
// 256 rows) through the feeder, asynq and the ledger and returns the Redis
// bytes of the run's keys once it is done; its manifest must list every
// row stored with its digest.
func footprintOf(t *testing.T, rows int64) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, rdb, store := chunkFeeder(t)
	f.ChunkRows, f.Poll = 256, 20*time.Millisecond
	srv := footprintServer(rdb, f.Runs, jobs.LaneBulk)
	defer srv.Shutdown()
	def := campaign.Definition{Name: "fp", App: "wxF", Window: 200, Source: campaign.Source{Generator: &campaign.Generator{Pattern: "f{n}", From: 1, To: rows}}}
	_, err := f.Start(ctx, def, "fp", time.Time{})
	require.NoError(t, err)
	require.NoError(t, f.Feed(ctx, "fp"))
	r, c, err := f.Runs.Get(ctx, "fp")
	require.NoError(t, err)
	require.Equal(t, StateDone, r.State)
	require.Equal(t, rows, c.Stored)
	n, err := runBytes(ctx, rdb, "fp")
	require.NoError(t, err)
	data, _, err := store.Get(ctx, ManifestKey("fp", 0))
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	require.Len(t, lines, int(rows))
	for i, line := range lines {
		var m ManifestRow
		require.NoError(t, json.Unmarshal(line, &m))
		scene := fmt.Sprintf("f%d", i+1)
		sum := footprintSHA(scene)
		require.Equal(t, ManifestRow{Row: int64(i), Scene: scene, Status: "stored", Key: "k/" + scene, URL: store.URL("k/" + scene), SHA256: fmt.Sprintf("%x", sum)}, m)
	}
	return n
}
