package ratelimitbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/ratelimit"
)

// ChildEnv is the environment variable that turns the program into a
// benchmark child; its value is the child's job as JSON.
const ChildEnv = "WXACODE_RLBENCH_CHILD"

// childSpec is what the parent tells each child.
type childSpec struct {
	Addr       string
	App        string
	KeyPrefix  string
	Goroutines int
	Burst      int
	Start, End int64 // Unix ns: all children start and stop together
}

// childResult is what a child prints on stdout.
type childResult struct {
	Local      []int64 // Unix ns on the machine clock when each call was allowed to start
	Slots      []int64 // Unix µs of each slot in Redis time
	RoundTrips int64   // EVALSHA/EVAL commands sent
	Errors     int64
	FirstError string
}

// IsChild reports whether this process was started by Run as a child.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// ChildMain runs the child described by ChildEnv, prints its result as JSON
// on stdout and returns the process exit code.
func ChildMain() int {
	var spec childSpec
	if err := json.Unmarshal([]byte(os.Getenv(ChildEnv)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "ratelimitbench child:", err)
		return 2
	}
	res := child(context.Background(), spec)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "ratelimitbench child:", err)
		return 1
	}
	return 0
}

// child runs spec.Goroutines goroutines that call Wait in a loop between
// spec.Start and spec.End.
func child(ctx context.Context, spec childSpec) childResult {
	rdb := redis.NewClient(&redis.Options{Addr: spec.Addr, PoolSize: spec.Goroutines + 10})
	defer rdb.Close()
	var rt scriptCounter
	rdb.AddHook(&rt)
	l := ratelimit.New(rdb, ratelimit.Config{
		KeyPrefix: spec.KeyPrefix, Burst: spec.Burst,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	var res childResult
	// Warm up like a long-running worker: dial and load the script before
	// the common start, so cold-start latency does not bunch the first calls.
	if _, err := l.State(ctx, spec.App); err != nil {
		res.Errors, res.FirstError = 1, err.Error()
		return res
	}
	rt.n.Store(0)
	time.Sleep(time.Until(time.Unix(0, spec.Start)))
	ctx, cancel := context.WithDeadline(ctx, time.Unix(0, spec.End))
	defer cancel()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for range spec.Goroutines {
		wg.Go(func() {
			for ctx.Err() == nil {
				g, err := l.WaitGrant(ctx, spec.App)
				now := time.Now().UnixNano()
				mu.Lock()
				res.record(g, now, err, ctx.Err())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.RoundTrips = rt.n.Load()
	return res
}

func (r *childResult) record(g ratelimit.Grant, now int64, err, ctxErr error) {
	switch {
	case err == nil:
		r.Local = append(r.Local, now)
		r.Slots = append(r.Slots, g.Slot.UnixMicro())
	case ctxErr == nil:
		r.Errors++
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
	}
}

// scriptCounter counts EVALSHA/EVAL commands: the limiter's round trips.
type scriptCounter struct{ n atomic.Int64 }

func (c *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
