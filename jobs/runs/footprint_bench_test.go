package runs

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/storage"
)

var footprintRows = flag.String("footprint.rows", "10000,100000", "row counts of the runs BenchmarkRunFootprint measures")

// footprintWindow is the window of every measured run: the same for all
// sizes, so that only the row count changes.
const footprintWindow = 2000

// BenchmarkRunFootprint runs generated campaigns of each size in
// -footprint.rows through the real feeder, asynq and run ledger on a
// private redis-server (a handler records each row stored with its
// digest, as the worker does) and reports the Redis memory of the run's
// own keys (MEMORY USAGE of each) when it is done, and the most seen
// while it ran (sampled every 200ms).
//
//	go test -run '^$' -bench RunFootprint -benchtime 1x ./jobs/runs/ -footprint.rows 10000,100000,1000000
func BenchmarkRunFootprint(b *testing.B) {
	for _, s := range strings.Split(*footprintRows, ",") {
		rows, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || rows <= 0 {
			b.Fatalf("-footprint.rows: %q is not a row count", s)
		}
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			for range b.N {
				done, peak := runFootprint(b, rows)
				b.ReportMetric(float64(done), "redis-B-done")
				b.ReportMetric(float64(peak), "redis-B-peak")
			}
		})
	}
}

// runFootprint runs one campaign of rows to the end and returns the Redis
// bytes of its keys then, and the most sampled during the run.
func runFootprint(b *testing.B, rows int64) (done, peak int64) {
	ctx := context.Background()
	rdb := redistest.Start(b).Client(b)
	store, err := storage.Open(ctx, b.TempDir(), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	f := &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}),
		Store: store, Log: slog.New(slog.DiscardHandler), Validate: func(jobs.Job) error { return nil }, Poll: 20 * time.Millisecond}
	def := campaign.Definition{Name: "fp", App: "wxF", Window: footprintWindow,
		Source: campaign.Source{Generator: &campaign.Generator{Pattern: "f{n}", From: 1, To: rows}}}
	srv := footprintServer(rdb, f.Runs, jobs.LaneBulk)
	defer srv.Shutdown()
	if _, err := f.Start(ctx, def, "fp", time.Time{}); err != nil {
		b.Fatal(err)
	}
	var top atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				if n, err := runBytes(ctx, rdb, "fp"); err == nil && n > top.Load() {
					top.Store(n)
				}
			}
		}
	}()
	err = f.Feed(ctx, "fp")
	close(stop)
	<-sampled
	if err != nil {
		b.Fatal(err)
	}
	if _, c, _ := f.Runs.Get(ctx, "fp"); c.Stored != rows {
		b.Fatalf("stored %d of %d rows", c.Stored, rows)
	}
	if done, err = runBytes(ctx, rdb, "fp"); err != nil {
		b.Fatal(err)
	}
	return done, max(done, top.Load())
}

// footprintServer serves the run's jobs: each row is recorded stored with
// the digest of its scene.
func footprintServer(rdb *redis.Client, st *Store, queue string) *asynq.Server {
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 50, Queues: map[string]int{queue: 1},
		Logger: quietLogger{}, LogLevel: asynq.ErrorLevel})
	err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		j, err := jobs.Decode(t.Payload())
		if err != nil {
			return err
		}
		_, err = st.Record(ctx, j.Run, j.Row, jobs.StatusStored, footprintSHA(j.Scene), nil)
		return err
	}))
	if err != nil {
		panic(err)
	}
	return srv
}

// footprintSHA is the digest the footprint handler records for scene.
func footprintSHA(scene string) []byte {
	sum := sha256.Sum256([]byte(scene))
	return sum[:]
}

// runBytes adds up MEMORY USAGE of every key of run id.
func runBytes(ctx context.Context, rdb *redis.Client, id string) (int64, error) {
	var total int64
	iter := rdb.Scan(ctx, 0, "wxacode:run:{"+id+"}:*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil && err != redis.Nil {
			return 0, err
		}
		total += n
	}
	return total, iter.Err()
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
